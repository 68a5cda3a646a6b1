/**
 * Runs a TF.js model folder on pixels: an NHWC float32 .npy of RGB values 0..255, or image files
 * decoded exactly as training evaluates them (preprocessForInference). Prints nothing; returns class probabilities and the top classes, with
 * labels from labels.json beside the model when it is there. It runs on ONNX Runtime (the folder
 * converted once, cached in the app's data folder), or on TF.js when a TF.js backend is forced or
 * ONNX Runtime cannot load.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Prediction } from '../contract/calls-models';
import { ApiError, type CallOutput } from '../contract/contract';
import type { BackendName } from '../contract/calls-backend';
import { ensureBackend } from '../backend/ensure-backend';
import { EVALUATION_RESIZE, preprocessForInference } from '../dataset/image-pixels';
import { LABELS_JSON, loadModelFolder } from '../model/manager/model-folder';
import { parseNpyFloat32, type NpyArray } from '../model/manager/npy';
import type { ProviderName } from '../contract/calls-inference';
import { InferenceEngine } from '../inference/inference-engine';
import { sharedOnnxCacheDir } from '../project/data-dir';

export interface PredictOptions {
  model: string;
  npy?: string;
  images?: string[];
  top: number;
  /** force TF.js on this backend; default: ONNX Runtime */
  backend?: BackendName;
  /** force an ONNX Runtime execution provider; default: the best that loads on real hardware */
  provider?: ProviderName;
}

/** One engine per process: its sessions are reused while the model folder is unchanged. */
const engine = new InferenceEngine();

type PredictResult = CallOutput<'models.predict'>;

/** Images per predict call: bounds memory for long .npy files without slowing small ones. */
const BATCH = 16;

export async function predictWithModelFolder(options: PredictOptions): Promise<PredictResult> {
  const started = Date.now();
  // TF.js reads the folder (shapes, labels, and the conversion to ONNX): any backend will do
  let backend = await ensureBackend(options.backend);

  const dir = path.resolve(options.model);
  // a broken .npy or a missing image is refused before the model is loaded: neither needs it
  const npy = options.npy === undefined ? null : readNpy(path.resolve(options.npy));
  for (const image of options.images ?? []) {
    if (!fs.existsSync(path.resolve(image))) throw new ApiError('not_found', `image ${path.resolve(image)} does not exist`);
  }
  const { model, metadata } = await loadModelFolder(dir);
  try {
    const [height, width] = inputSize(model, dir);
    const classes = classCount(model, dir);
    const labels = readLabels(dir, classes);
    const warnings: string[] = [];
    const input = npy ? checkNpyInput(npy, height, width, dir, warnings) : await readImages(options.images ?? [], height, width, dir);

    const onnx = options.backend && !options.provider ? null : await engine.open(dir, { kind: 'probabilities' }, { cacheDir: sharedOnnxCacheDir(), provider: options.provider });
    if (onnx) backend = `onnxruntime:${onnx.record.provider}`;
    const probabilities = onnx
      ? await runOnnxBatches(onnx.run, input.pixels, input.sources.length, height * width * 3, warnings, model)
      : runBatches(model, input.pixels, input.sources.length, height, width, warnings);
    const predictions: Prediction[] = input.sources.map((source, i) => {
      const probs = Array.from(probabilities.subarray(i * classes, (i + 1) * classes));
      const order = probs.map((_, k) => k).sort((a, b) => probs[b] - probs[a] || a - b);
      const top = order.slice(0, Math.min(options.top, classes)).map((index) => ({ index, label: labels?.[index] ?? String(index), probability: probs[index] }));
      return { source, top, probabilities: probs };
    });
    return {
      model: { dir, variant: typeof metadata?.variant === 'string' ? metadata.variant : null, height, width, classes, labels: labels ? path.join(dir, LABELS_JSON) : null },
      input: { kind: options.npy !== undefined ? 'npy' : 'images', shape: [input.sources.length, height, width, 3], resize: options.npy !== undefined ? null : EVALUATION_RESIZE },
      predictions,
      warnings,
      backend,
      elapsedSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    model.dispose();
  }
}

function inputSize(model: tfl.LayersModel, dir: string): [number, number] {
  const shape = model.inputs[0].shape;
  const [, h, w, c] = shape;
  if (shape.length !== 4 || typeof h !== 'number' || typeof w !== 'number' || c !== 3) {
    throw new ApiError('invalid_input', `the model in ${dir} takes input of shape [${shape.join(', ')}]; effitune infer runs models on RGB images [N, H, W, 3] of a fixed size`);
  }
  return [h, w];
}

function classCount(model: tfl.LayersModel, dir: string): number {
  const shape = model.outputs[0].shape;
  if (shape.length !== 2 || typeof shape[1] !== 'number') {
    throw new ApiError('invalid_input', `the model in ${dir} outputs shape [${shape.join(', ')}], not class scores [N, classes]: it has no classifier (a feature extractor?)`);
  }
  return shape[1];
}

/** labels.json: an array of names, or an object {"0": "cat", …}; it must name every class. */
function readLabels(dir: string, classes: number): string[] | null {
  const file = path.join(dir, LABELS_JSON);
  if (!fs.existsSync(file)) return null;
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ApiError('invalid_input', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const labels = Array.isArray(json) ? json : typeof json === 'object' && json !== null ? Array.from({ length: classes }, (_, i) => (json as Record<string, unknown>)[String(i)]) : null;
  if (!labels || labels.length !== classes || !labels.every((l) => typeof l === 'string')) {
    throw new ApiError('invalid_input', `${file} must list ${classes} class names (an array of strings, or {"0": name, …}) for the ${classes} outputs of the model`);
  }
  return labels as string[];
}

interface Input {
  sources: string[];
  pixels: Float32Array;
}

function readNpy(file: string): NpyArray & { file: string } {
  if (!fs.existsSync(file)) throw new ApiError('not_found', `.npy file ${file} does not exist`);
  return { file, ...parseNpyFloat32(fs.readFileSync(file), file) };
}

function checkNpyInput({ file, shape, data }: NpyArray & { file: string }, height: number, width: number, dir: string, warnings: string[]): Input {
  const shown = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  const wanted = `(N, ${height}, ${width}, 3)`;
  if (shape.length !== 4) {
    const hint = shape.length === 3 ? ': one image needs a batch axis in front (array[None])' : '';
    throw new ApiError('invalid_input', `${file} has shape ${shown}, rank ${shape.length}; the model takes a batch of RGB images ${wanted}${hint}`);
  }
  if (shape[3] !== 3) throw new ApiError('invalid_input', `${file} has shape ${shown} with ${shape[3]} channels last; the model takes RGB images ${wanted} (NHWC, 3 channels)`);
  if (shape[1] !== height || shape[2] !== width) {
    throw new ApiError('invalid_input', `${file} has shape ${shown}: images of ${shape[1]}×${shape[2]}, but the model in ${dir} takes ${height}×${width} ${wanted}`);
  }
  if (shape[0] === 0) throw new ApiError('invalid_input', `${file} has shape ${shown}: it holds no images`);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) throw new ApiError('invalid_input', `${file} holds ${v} at flat index ${i} (image ${Math.floor(i / (height * width * 3))}); pixels must be finite numbers 0..255`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  // float32 values print with float64 noise (0.99 → 0.9900000095367432): six digits say enough
  const [lo, hi] = [min, max].map((v) => Number(v.toPrecision(6)));
  if (max <= 1) warnings.push(`${file}: every value is within ${lo}..${hi}; the model expects pixels 0..255 (multiply by 255?)`);
  else if (min < 0 || max > 255) warnings.push(`${file}: values run from ${lo} to ${hi}, outside the 0..255 pixel range the model expects`);
  return { sources: Array.from({ length: shape[0] }, (_, i) => `${file}[${i}]`), pixels: data };
}

/** Images get exactly the pixels evaluation during training sees (train/data/image-pixels.ts). */
async function readImages(files: string[], height: number, width: number, dir: string): Promise<Input> {
  if (height !== width) throw new ApiError('invalid_input', `the model in ${dir} takes ${height}×${width} images; image files are prepared for square models only (use --npy)`);
  const size = height * width * 3;
  const pixels = new Float32Array(files.length * size);
  const sources = files.map((f) => path.resolve(f));
  for (let i = 0; i < sources.length; i++) pixels.set(await preprocessForInference(sources[i], height), i * size);
  return { sources, pixels };
}

/** The same on ONNX Runtime (the engine applies the softmax a logits model needs). */
async function runOnnxBatches(run: (pixels: Float32Array, n: number) => Promise<Float32Array>, pixels: Float32Array, n: number, size: number, warnings: string[], model: tfl.LayersModel): Promise<Float32Array> {
  const last = model.layers[model.layers.length - 1].getConfig() as { activation?: string };
  if (last.activation !== 'softmax') warnings.push(`the model's last layer has activation "${last.activation ?? 'none'}": a softmax was applied to its outputs`);
  const parts: Float32Array[] = [];
  for (let start = 0; start < n; start += BATCH) {
    const count = Math.min(BATCH, n - start);
    parts.push(await run(pixels.slice(start * size, (start + count) * size), count));
  }
  return concatenate(parts);
}

/** Probabilities for every image, [n × classes] on TF.js; a model ending in logits gets a softmax. */
function runBatches(model: tfl.LayersModel, pixels: Float32Array, n: number, height: number, width: number, warnings: string[]): Float32Array {
  const size = height * width * 3;
  const last = model.layers[model.layers.length - 1].getConfig() as { activation?: string };
  const softmaxInside = last.activation === 'softmax';
  if (!softmaxInside) warnings.push(`the model's last layer has activation "${last.activation ?? 'none'}": a softmax was applied to its outputs`);
  const parts: Float32Array[] = [];
  for (let start = 0; start < n; start += BATCH) {
    const count = Math.min(BATCH, n - start);
    const out = tf.tidy(() => {
      const x = tf.tensor4d(pixels.subarray(start * size, (start + count) * size), [count, height, width, 3]);
      const y = model.predict(x) as tf.Tensor;
      return softmaxInside ? y : tf.softmax(y);
    });
    parts.push(out.dataSync() as Float32Array);
    out.dispose();
  }
  return concatenate(parts);
}

function concatenate(parts: readonly Float32Array[]): Float32Array {
  const all = new Float32Array(parts.reduce((k, p) => k + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
