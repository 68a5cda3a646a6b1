/**
 * A TF.js model folder as an ONNX file, converted once by our converter (onnx/index.ts) and cached
 * under the digest of the folder's weights: a changed model (a resumed run's new best epoch, other
 * weights) is a new file, and an unchanged one is never converted twice. The graph can be cut:
 *   probabilities  the whole model (its output, softmax applied here when the model gives logits);
 *   features       the pooled backbone features (avg_pool's output) that head-only training caches;
 *   trunk          everything before a block, the frozen lower part of top-N training.
 * Beside each .onnx a .json records what it holds and the file's sha256, so a damaged or truncated
 * cache file is noticed and rebuilt instead of failing or, worse, loading.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../contract/contract';
import { ensureBackend } from '../backend/ensure-backend';
import { loadModelFolder, MODEL_JSON } from '../model/manager/model-folder';
import { tfjsModelToOnnx } from './onnx';

/** Bumped when the converter's output for the same model changes, so old cache files are not reused. */
export const CONVERTER_REVISION = 1;

export type GraphCut = { kind: 'probabilities' } | { kind: 'features' } | { kind: 'trunk'; block: string };

export interface OnnxFile {
  file: string;
  /** sha256 of the model folder's model.json and weights */
  digest: string;
  cut: GraphCut;
  /** [height, width, channels] of the model input */
  input: [number, number, number];
  /** output shape without the batch dimension */
  output: number[];
  /** true when the ONNX output still needs a softmax to be probabilities */
  needsSoftmax: boolean;
  /** whether this call converted it (false: from the cache) */
  converted: boolean;
}

interface CacheRecord {
  revision: number;
  digest: string;
  cut: GraphCut;
  input: [number, number, number];
  output: number[];
  needsSoftmax: boolean;
  sha256: string;
}

const building = new Map<string, Promise<OnnxFile>>();

/** The ONNX file of `modelDir` cut as asked, from `cacheDir` or converted into it. */
export function onnxFileFor(modelDir: string, cut: GraphCut, cacheDir: string): Promise<OnnxFile> {
  const digest = modelFolderDigest(modelDir);
  const base = path.join(cacheDir, `${cutName(cut)}-${digest.slice(0, 24)}`);
  const cached = readCache(base, digest, cut);
  if (cached) return Promise.resolve(cached);
  let job = building.get(base);
  if (!job) {
    job = convert(modelDir, cut, digest, base).finally(() => building.delete(base));
    building.set(base, job);
  }
  return job;
}

export function cutName(cut: GraphCut): string {
  return cut.kind === 'trunk' ? `trunk-${cut.block}` : cut.kind;
}

/** sha256 over model.json and every weights file it lists, in order. */
export function modelFolderDigest(modelDir: string): string {
  const jsonFile = path.join(modelDir, MODEL_JSON);
  let text: string;
  try {
    text = fs.readFileSync(jsonFile, 'utf8');
  } catch {
    throw new ApiError('not_found', `${modelDir} has no ${MODEL_JSON}: is it a TF.js model folder?`);
  }
  const hash = crypto.createHash('sha256').update(text);
  let manifest: { paths: string[] }[] = [];
  try {
    manifest = (JSON.parse(text) as { weightsManifest?: { paths: string[] }[] }).weightsManifest ?? [];
  } catch (err) {
    throw new ApiError('invalid_input', `${jsonFile} is not valid JSON: ${(err as Error).message}`);
  }
  for (const group of manifest) {
    for (const name of group.paths) {
      const file = path.resolve(modelDir, name);
      if (!fs.existsSync(file)) throw new ApiError('not_found', `${jsonFile} lists weights file ${name}, which is missing`);
      hash.update(fs.readFileSync(file));
    }
  }
  return hash.digest('hex');
}

function readCache(base: string, digest: string, cut: GraphCut): OnnxFile | null {
  try {
    const record = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as CacheRecord;
    if (record.revision !== CONVERTER_REVISION || record.digest !== digest || cutName(record.cut) !== cutName(cut)) return null;
    const bytes = fs.readFileSync(`${base}.onnx`);
    if (crypto.createHash('sha256').update(bytes).digest('hex') !== record.sha256) return null;
    return { file: `${base}.onnx`, digest, cut, input: record.input, output: record.output, needsSoftmax: record.needsSoftmax, converted: false };
  } catch {
    return null;
  }
}

async function convert(modelDir: string, cut: GraphCut, digest: string, base: string): Promise<OnnxFile> {
  // converting reads the weights through TF.js: any backend will do, the process keeps its own
  await ensureBackend();
  const { model } = await loadModelFolder(modelDir);
  try {
    return await writeOnnx(model, cut, digest, base, modelDir);
  } finally {
    model.dispose();
  }
}

/**
 * The ONNX file of a model in memory (the trainer's frozen backbone or trunk), cached under a
 * digest of the cut part's weights: the frozen part of a run converts once, and a resumed run or a
 * later run from the same weights finds it.
 */
export async function onnxFileForModel(model: tfl.LayersModel, cut: GraphCut, cacheDir: string): Promise<OnnxFile> {
  const graph = cutModel(model, cut);
  const digest = await weightsDigest(graph);
  const base = path.join(cacheDir, `${cutName(cut)}-${digest.slice(0, 24)}`);
  const cached = readCache(base, digest, cut);
  if (cached) return cached;
  let job = building.get(base);
  if (!job) {
    job = writeOnnx(model, cut, digest, base, model.name).finally(() => building.delete(base));
    building.set(base, job);
  }
  return job;
}

/** sha256 over the names, shapes and values of every weight of a model, in order. */
export async function weightsDigest(model: tfl.LayersModel): Promise<string> {
  const hash = crypto.createHash('sha256').update(model.inputs[0].shape.join('x'));
  for (const w of model.weights) {
    hash.update(`${w.originalName}:${w.shape.join('x')}`);
    // asynchronous reads: WebGPU in Node has no synchronous read-back
    const data = (await w.read().data()) as Float32Array;
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}

async function writeOnnx(model: tfl.LayersModel, cut: GraphCut, digest: string, base: string, where: string): Promise<OnnxFile> {
  const graph = cutModel(model, cut, where);
  const last = graph === model ? (model.layers[model.layers.length - 1].getConfig() as { activation?: string }) : null;
  const bytes = await tfjsModelToOnnx(graph);
  const [, height, width, channels] = model.inputs[0].shape as number[];
  const record: CacheRecord = {
    revision: CONVERTER_REVISION,
    digest,
    cut,
    input: [height, width, channels],
    output: (graph.outputs[0].shape as number[]).slice(1),
    needsSoftmax: last !== null && last.activation !== 'softmax',
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
  };
  fs.mkdirSync(path.dirname(base), { recursive: true });
  // written under temporary names and renamed: a killed process leaves no half file under the real name
  const suffix = `.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(`${base}.onnx${suffix}`, bytes);
  fs.renameSync(`${base}.onnx${suffix}`, `${base}.onnx`);
  fs.writeFileSync(`${base}.json${suffix}`, JSON.stringify(record));
  fs.renameSync(`${base}.json${suffix}`, `${base}.json`);
  return { file: `${base}.onnx`, digest, cut, input: record.input, output: record.output, needsSoftmax: record.needsSoftmax, converted: true };
}

/** The part of the model the cut asks for, sharing the model's weights. */
export function cutModel(model: tfl.LayersModel, cut: GraphCut, where = model.name): tfl.LayersModel {
  if (cut.kind === 'probabilities') return model;
  if (cut.kind === 'features') {
    const pool = model.layers.find((l) => l.name === 'avg_pool');
    if (!pool) throw new ApiError('invalid_input', `the model in ${where} has no avg_pool layer: its backbone features cannot be cut out`);
    return tfl.model({ inputs: model.inputs, outputs: pool.output as tfl.SymbolicTensor, name: `${model.name}_features` });
  }
  // the block's first layer takes the trunk's output: EfficientNet's skip connections stay inside a
  // block, so everything before it is a function of the image alone
  const first = model.layers.find((l) => l.name.startsWith(`${cut.block}_`));
  if (!first) throw new ApiError('invalid_input', `the model in ${where} has no block ${cut.block}`);
  // getInputAt(0): the call inside this model (a top model of train/ may have called the layer again)
  const input = first.getInputAt(0) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
  if (Array.isArray(input)) throw new ApiError('invalid_input', `block ${cut.block} of the model in ${where} takes several inputs: it cannot start a trainable top`);
  return tfl.model({ inputs: model.inputs, outputs: input, name: `${model.name}_trunk_${cut.block}` });
}

/** Softmax over the last axis of [rows × classes], in place. */
export function softmaxRows(values: Float32Array, classes: number): Float32Array {
  for (let row = 0; row < values.length; row += classes) {
    let max = -Infinity;
    for (let i = 0; i < classes; i++) max = Math.max(max, values[row + i]);
    let sum = 0;
    for (let i = 0; i < classes; i++) sum += values[row + i] = Math.exp(values[row + i] - max);
    for (let i = 0; i < classes; i++) values[row + i] /= sum;
  }
  return values;
}
