/**
 * A model to predict with, opened from a folder: an Effitune export (TF.js or ONNX, told apart by
 * its files: model.onnx or model.json) or a run's model folder (TF.js). Whatever the format, it takes
 * NHWC float32 RGB pixels 0..255 at its resolution and returns class probabilities, so the export
 * checks and `effitune predict` treat every format alike.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../../contract/contract';
import type { ExportFormat } from '../../contract/calls-export';
import { ensureBackend } from '../../backend/ensure-backend';
import { LABELS_JSON, loadModelFolder, MODEL_JSON } from '../../model/manager/model-folder';
import type { ProviderName } from '../../contract/calls-inference';
import { InferenceEngine } from '../../inference/inference-engine';
import { physicalCores } from '../../inference/physical-cores';
import { sharedOnnxCacheDir } from '../../project/data-dir';

export const MODEL_ONNX = 'model.onnx';
export const MODEL_CARD_JSON = 'model-card.json';

export interface PredictionModel {
  format: ExportFormat;
  dir: string;
  classes: string[];
  resolution: number;
  /** the most images one call of `run` takes */
  maxBatch: number;
  /** what computes: 'onnxruntime:<provider>' or 'tfjs:<backend>' */
  ranOn: string;
  /** probabilities, [n × classes], of n images given as NHWC RGB 0..255 */
  run(pixels: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

/** Images per call: bounds memory without slowing small sets. */
const BATCH = 16;

export function detectFormat(dir: string): ExportFormat {
  if (!fs.existsSync(dir)) throw new ApiError('not_found', `model folder ${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new ApiError('invalid_input', `${dir} is a file; give the folder of an export (model.json or model.onnx inside)`);
  if (fs.existsSync(path.join(dir, MODEL_ONNX))) return 'onnx';
  if (fs.existsSync(path.join(dir, MODEL_JSON))) return 'tfjs';
  throw new ApiError('not_found', `${dir} holds neither ${MODEL_JSON} (TF.js) nor ${MODEL_ONNX} (ONNX): is it an Effitune export or a run's model folder?`);
}

export interface OpenOptions {
  /**
   * What runs a TF.js folder: 'tfjs' runs it in TF.js (an export's verification: the TF.js files
   * must give the answers in TF.js), 'auto' on ONNX Runtime through the inference engine, falling
   * back to TF.js where ONNX Runtime cannot load. ONNX folders always run on ONNX Runtime.
   */
  runtime?: 'tfjs' | 'auto';
  /** force an ONNX Runtime execution provider */
  provider?: ProviderName;
}

/** One engine per process: sessions are reused while a folder is unchanged, and the provider probe runs once. */
const engine = new InferenceEngine();

export async function openPredictionModel(dir: string, options: OpenOptions = {}): Promise<PredictionModel> {
  const resolved = path.resolve(dir);
  return detectFormat(resolved) === 'onnx' ? openOnnx(resolved, options) : openTfjs(resolved, options);
}

async function openTfjs(dir: string, options: OpenOptions): Promise<PredictionModel> {
  const backend = await ensureBackend();
  const { model } = await loadModelFolder(dir);
  try {
    const [, height, width, channels] = model.inputs[0].shape;
    if (typeof height !== 'number' || height !== width || channels !== 3) {
      throw new ApiError('invalid_input', `the model in ${dir} takes input [${model.inputs[0].shape.join(', ')}], not square RGB images [N, S, S, 3]`);
    }
    const outputs = model.outputs[0].shape[1];
    if (model.outputs[0].shape.length !== 2 || typeof outputs !== 'number') throw new ApiError('invalid_input', `the model in ${dir} has no classifier (output [${model.outputs[0].shape.join(', ')}])`);
    const classes = readLabels(dir, outputs);
    const softmaxInside = lastActivation(model) === 'softmax';
    const onnx = options.runtime === 'auto' || options.provider ? await engine.open(dir, { kind: 'probabilities' }, { cacheDir: sharedOnnxCacheDir(), provider: options.provider }) : null;
    const folder = { format: 'tfjs' as const, dir, classes, resolution: height, maxBatch: BATCH };
    if (onnx) {
      model.dispose();
      return { ...folder, ranOn: `onnxruntime:${onnx.record.provider}`, run: (pixels, n) => onnx.run(pixels.slice(0, n * height * height * 3), n), dispose: () => undefined };
    }
    return {
      ...folder,
      ranOn: `tfjs:${backend}`,
      run: async (pixels, n) => {
        const out = tf.tidy(() => {
          const y = model.predict(tf.tensor4d(pixels.subarray(0, n * height * height * 3), [n, height, height, 3])) as tf.Tensor;
          return softmaxInside ? y : tf.softmax(y);
        });
        try {
          return (await out.data()) as Float32Array;
        } finally {
          out.dispose();
        }
      },
      dispose: () => model.dispose(),
    };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

function lastActivation(model: tfl.LayersModel): string | undefined {
  return (model.layers[model.layers.length - 1].getConfig() as { activation?: string }).activation;
}

async function openOnnx(dir: string, options: OpenOptions): Promise<PredictionModel> {
  // loaded on demand: the native runtime is only needed for ONNX folders
  const ort = await import('onnxruntime-node');
  const file = path.join(dir, MODEL_ONNX);
  const provider = (await engine.chooseProvider(options.provider)) ?? 'cpu';
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(file, { executionProviders: [provider], ...(provider === 'cpu' ? { intraOpNumThreads: physicalCores(), interOpNumThreads: 1 } : {}) });
  } catch (err) {
    throw new ApiError('invalid_input', `onnxruntime cannot load ${file}: ${(err as Error).message}`);
  }
  const input = session.inputMetadata[0];
  const shape = input && input.isTensor ? input.shape : [];
  const fromShape = typeof shape[1] === 'number' && shape[1] === shape[2] && shape[3] === 3 ? shape[1] : null;
  const resolution = fromShape ?? resolutionFromCard(dir);
  if (resolution === null) throw new ApiError('invalid_input', `${file} does not say its input size (input [${shape.join(', ')}]) and ${MODEL_CARD_JSON} is missing`);
  const labels = JSON.parse(fs.existsSync(path.join(dir, LABELS_JSON)) ? fs.readFileSync(path.join(dir, LABELS_JSON), 'utf8') : 'null') as unknown;
  const classes = Array.isArray(labels) ? readLabels(dir, labels.length) : null;
  if (!classes) throw new ApiError('not_found', `${dir} has no ${LABELS_JSON} (the class names of the model outputs)`);
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  return {
    format: 'onnx',
    dir,
    classes,
    resolution,
    // a model exported with a fixed batch of 1 takes one image per call
    maxBatch: typeof shape[0] === 'number' ? shape[0] : BATCH,
    ranOn: `onnxruntime:${provider}`,
    run: async (pixels, n) => {
      const size = resolution * resolution * 3;
      const tensor = new ort.Tensor('float32', pixels.slice(0, n * size), [n, resolution, resolution, 3]);
      const result = await session.run({ [inputName]: tensor });
      const out = result[outputName].data as Float32Array;
      if (out.length !== n * classes.length) throw new ApiError('invalid_input', `${file} gave ${out.length} values for ${n} image(s), but ${LABELS_JSON} names ${classes.length} classes`);
      return Float32Array.from(out);
    },
    dispose: () => void session.release(),
  };
}

function resolutionFromCard(dir: string): number | null {
  const file = path.join(dir, MODEL_CARD_JSON);
  if (!fs.existsSync(file)) return null;
  const card = JSON.parse(fs.readFileSync(file, 'utf8')) as { resolution?: unknown };
  return typeof card.resolution === 'number' ? card.resolution : null;
}

/** labels.json: an array of class names, one per model output (indices when the file is missing). */
function readLabels(dir: string, classes: number): string[] {
  const file = path.join(dir, LABELS_JSON);
  if (!fs.existsSync(file)) return Array.from({ length: classes }, (_, i) => String(i));
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ApiError('invalid_input', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(json) || json.length !== classes || !json.every((l) => typeof l === 'string')) {
    throw new ApiError('invalid_input', `${file} must be an array of ${classes} class names, one per model output`);
  }
  return json as string[];
}
