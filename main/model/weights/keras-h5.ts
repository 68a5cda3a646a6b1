/**
 * Reads Keras HDF5 weight files in the layout of keras applications' efficientnetb0.h5 …
 * efficientnetb7_notop.h5 (model.save_weights, Keras 2): root attribute `layer_names`, one group per
 * layer with attribute `weight_names` ("stem_conv/kernel:0", …), each weight a dataset at
 * /<layer>/<weight name>. Full-model files (model.save) keep the same tree under /model_weights.
 * HDF5 itself is read with h5wasm (the HDF5 C library compiled to WebAssembly).
 */
import fs from 'node:fs';
import h5wasm, { Dataset, File as H5File, Group } from 'h5wasm/node';
import { ApiError } from '../../contract/contract';
import type { FileTensor } from './tensors';

/** First bytes of every HDF5 file without a user block (h5py and Keras never write one). */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export interface KerasWeights {
  readonly path: string;
  /** layer name → weight name without layer prefix and ":0" (kernel, gamma, …) → tensor */
  readonly layers: ReadonlyMap<string, ReadonlyMap<string, FileTensor>>;
}

export function isHdf5(path: string): boolean {
  const head = Buffer.alloc(8);
  const fd = fs.openSync(path, 'r');
  try {
    return fs.readSync(fd, head, 0, 8, 0) === 8 && HDF5_SIGNATURE.every((b, i) => head[i] === b);
  } finally {
    fs.closeSync(fd);
  }
}

let ready: Promise<void> | null = null;

/** Load the wasm once and make HDF5 errors throw instead of printing their stack to stderr. */
function h5Ready(): Promise<void> {
  ready ??= h5wasm.ready.then((module) => {
    module.activate_throwing_error_handler();
  });
  return ready;
}

export async function readKerasH5(path: string): Promise<KerasWeights> {
  if (!fs.existsSync(path)) throw new ApiError('not_found', `weights file ${path} does not exist`);
  if (!isHdf5(path)) throw new ApiError('invalid_input', `${path} is not an HDF5 file (no HDF5 signature at its start)`);
  await h5Ready();
  let file: H5File;
  try {
    file = new H5File(path, 'r');
  } catch (err) {
    throw new ApiError('invalid_input', `${path} is not a readable HDF5 file: ${hdf5Reason(err)}`);
  }
  try {
    return { path, layers: readLayers(file, path) };
  } finally {
    file.close();
  }
}

function readLayers(file: H5File, path: string): Map<string, Map<string, FileTensor>> {
  const root = file.keys().includes('model_weights') ? (file.get('model_weights') as Group) : file;
  const layerNames = stringList(root, 'layer_names');
  if (!layerNames) {
    const keras3 = root.keys().includes('layers') ? ' (its layers/…/vars layout is Keras 3\'s .weights.h5, which is not supported)' : '';
    throw new ApiError('invalid_input', `${path} is HDF5 but not a Keras 2 weights file: it has no "layer_names" attribute${keras3}`);
  }
  const layers = new Map<string, Map<string, FileTensor>>();
  for (const layer of layerNames) {
    const group = read(path, layer, () => root.get(layer));
    if (!(group instanceof Group)) throw new ApiError('invalid_input', `${path} lists layer "${layer}" in layer_names but has no group for it`);
    const weights = new Map<string, FileTensor>();
    for (const weightName of stringList(group, 'weight_names') ?? []) {
      const where = `${layer}/${weightName}`;
      const dataset = read(path, where, () => group.get(weightName));
      if (!(dataset instanceof Dataset)) throw new ApiError('invalid_input', `${path} lists weight "${where}" but has no dataset for it`);
      weights.set(shortWeightName(weightName), { source: where, shape: dataset.shape ?? [], data: floatData(path, where, dataset) });
    }
    layers.set(layer, weights);
  }
  return layers;
}

/** "block1a_dwconv/depthwise_kernel:0" → "depthwise_kernel" */
function shortWeightName(weightName: string): string {
  return weightName.split('/').pop()!.replace(/:\d+$/, '');
}

function floatData(path: string, where: string, dataset: Dataset): Float32Array {
  const value = read(path, where, () => dataset.value);
  if (value instanceof Float32Array) return value;
  // Keras stores a few bookkeeping scalars (Normalization's int64 "count"); numbers of any type read as float
  if (typeof value === 'number') return Float32Array.of(value);
  if (typeof value === 'bigint') return Float32Array.of(Number(value));
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) return Float32Array.from(value, Number);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof Uint8Array && dataset.dtype !== '|u1' && dataset.dtype !== '<B')) {
    return Float32Array.from(value as unknown as ArrayLike<number>);
  }
  throw new ApiError('invalid_input', `dataset "${where}" in ${path} has type ${dataset.dtype}, expected numbers`);
}

function stringList(node: Group, name: string): string[] | null {
  const attr = node.attrs[name];
  if (!attr) return null;
  const value = attr.value;
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return [value];
  return [];
}

function read<T>(path: string, where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ApiError('invalid_input', `cannot read "${where}" from ${path} (file truncated or damaged?): ${hdf5Reason(err)}`);
  }
}

/** The innermost line of an HDF5 error stack says what went wrong ("truncated file: eof = …"). */
function hdf5Reason(err: unknown): string {
  const text = String((err as Error)?.message ?? err);
  const lines = [...text.matchAll(/#\d+: .*? in [^(]+\(\): (.*)/g)].map((m) => m[1].trim());
  return lines.length ? lines[lines.length - 1] : text.split('\n')[0];
}
