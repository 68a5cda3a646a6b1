/**
 * TF.js model folders: model.json (the standard "layers-model" format: topology, weights manifest,
 * user metadata) and one weights.bin, the layout tf.loadLayersModel reads in a browser or with
 * tfjs-node's file:// handler. tfjs-node is not installed here, so both directions go through
 * small IOHandlers over node:fs instead of model.save('file://…').
 *
 * Every layer of an Effitune model is a stock tf.layers class (see builder.ts), so nothing needs
 * registering before loading, here or in any other TF.js program.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../../contract/contract';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const LABELS_JSON = 'labels.json';

/** What Effitune writes under model.json's userDefinedMetadata.effitune. */
export interface ModelFolderMetadata {
  variant: string;
  resolution: number;
  classes: number | null;
  /** how pixels must be given: always RGB 0..255, normalisation is inside the model */
  input: string;
  [key: string]: unknown;
}

export interface SavedFolder {
  dir: string;
  files: string[];
  bytes: number;
}

/**
 * Write a model folder. The weights go first and model.json last, each through a temporary name
 * and a rename, so a folder with a model.json always has the weights it names.
 */
/** The weights and topology of a model, as model.save would write them (kept in memory). */
export async function modelArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts & { weightSpecs: tf.io.WeightsManifestEntry[]; weightData: tf.io.WeightData }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightSpecs || artifacts.weightData === undefined) throw new ApiError('internal', 'tf.js returned no weights when saving the model');
  return artifacts as never;
}

export async function saveModelFolder(model: tfl.LayersModel, dir: string, metadata: ModelFolderMetadata, overwrite = false): Promise<SavedFolder> {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new ApiError('already_exists', `${dir} exists and is a file, not a folder`);
    const present = fs.readdirSync(dir);
    if (present.length > 0 && !overwrite) {
      throw new ApiError('already_exists', `${dir} already exists and is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}); choose another folder or overwrite it (CLI: --force)`);
    }
  }
  const artifacts = await modelArtifacts(model);
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  const modelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: 'Effitune',
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
    userDefinedMetadata: { effitune: metadata },
  };
  try {
    fs.mkdirSync(dir, { recursive: true });
    writeAtomically(path.join(dir, WEIGHTS_BIN), weights);
    writeAtomically(path.join(dir, MODEL_JSON), Buffer.from(JSON.stringify(modelJson)));
  } catch (err) {
    throw new ApiError('io_error', `cannot write the model folder ${dir}: ${(err as Error).message}`);
  }
  const files = [MODEL_JSON, WEIGHTS_BIN].map((f) => path.join(dir, f));
  return { dir, files, bytes: files.reduce((n, f) => n + fs.statSync(f).size, 0) };
}

export interface LoadedFolder {
  model: tfl.LayersModel;
  /** userDefinedMetadata.effitune, when the folder was written by Effitune */
  metadata: Partial<ModelFolderMetadata> | null;
}

/** Load a TF.js layers-model folder (any, not only Effitune's) with a node:fs IOHandler. */
export async function loadModelFolder(dir: string): Promise<LoadedFolder> {
  const jsonFile = path.join(dir, MODEL_JSON);
  if (!fs.existsSync(dir)) throw new ApiError('not_found', `model folder ${dir} does not exist`);
  if (!fs.existsSync(jsonFile)) throw new ApiError('not_found', `${dir} has no ${MODEL_JSON}: is it a TF.js model folder (e.g. written by \`effitune weights import … --out\`)?`);
  let json: tf.io.ModelJSON & { userDefinedMetadata?: { effitune?: Partial<ModelFolderMetadata> } };
  try {
    json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  } catch (err) {
    throw new ApiError('invalid_input', `${jsonFile} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || !json.modelTopology) throw new ApiError('invalid_input', `${jsonFile} has no modelTopology: not a TF.js model`);
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new ApiError('invalid_input', `${jsonFile} is a TF.js "${json.format}" model; effitune runs layers models (format "layers-model")`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest ?? []) {
    weightSpecs.push(...group.weights);
    for (const name of group.paths) buffers.push(readWeightsFile(dir, name));
  }
  const expected = weightSpecs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * bytesPerElement(w, jsonFile), 0);
  const actual = buffers.reduce((n, b) => n + b.byteLength, 0);
  if (actual !== expected) {
    throw new ApiError('invalid_input', `the weights files of ${dir} hold ${actual} bytes but ${MODEL_JSON} describes ${expected} (truncated or from another model?)`);
  }
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      weightSpecs,
      weightData: tf.io.CompositeArrayBuffer.join(buffers),
      userDefinedMetadata: json.userDefinedMetadata,
    }),
  };
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(handler);
  } catch (err) {
    throw new ApiError('invalid_input', `cannot load the model in ${dir}: ${(err as Error).message}`);
  }
  return { model, metadata: json.userDefinedMetadata?.effitune ?? null };
}

/** A weights path from model.json, kept inside the folder (a manifest must not read ../../ anything). */
function readWeightsFile(dir: string, name: string): ArrayBuffer {
  const file = path.resolve(dir, name);
  if (path.relative(path.resolve(dir), file).startsWith('..')) throw new ApiError('invalid_input', `${MODEL_JSON} in ${dir} names a weights file outside the folder: ${name}`);
  if (!fs.existsSync(file)) throw new ApiError('not_found', `${MODEL_JSON} in ${dir} needs ${name}, which is missing`);
  const bytes = fs.readFileSync(file);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes per element as stored: a quantized weight is stored as its quantization dtype. */
function bytesPerElement(w: tf.io.WeightsManifestEntry, file: string): number {
  const stored = w.quantization?.dtype ?? w.dtype;
  const bytes = STORED_BYTES[stored];
  if (bytes === undefined) throw new ApiError('invalid_input', `weight "${w.name}" in ${file} is stored as ${stored}, which effitune cannot read`);
  return bytes;
}

function writeAtomically(file: string, data: Uint8Array): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, data);
  fs.renameSync(temp, file);
}
