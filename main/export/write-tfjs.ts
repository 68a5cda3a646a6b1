/**
 * A TF.js layers model as the TF.js converter lays it out: model.json (topology, weights manifest,
 * metadata) and weight shards of at most 4 MB (group1-shard1of2.bin, ...), so any TF.js program
 * loads it with plain `tf.loadLayersModel('…/model.json')` (browser: over HTTP; Node: any IOHandler).
 * The pixel normalisation is the model's first layer: input is RGB 0..255, NHWC.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../contract/contract';
import type { Quantization } from '../contract/calls-export';
import { MODEL_JSON, modelArtifacts } from '../model/manager/model-folder';
import { encodeWeights } from './quantize-weights';

/** The TF.js converter's default shard size: small enough for browser caches, few requests. */
export const SHARD_BYTES = 4 * 1024 * 1024;

export interface WrittenModel {
  /** file names inside the folder, model.json first */
  files: string[];
  /** model.json + shards */
  bytes: number;
}

export async function writeTfjsModel(model: tfl.LayersModel, dir: string, quantize: Quantization, metadata: Record<string, unknown>, write: (file: string, data: Uint8Array) => void): Promise<WrittenModel> {
  const artifacts = await modelArtifacts(model);
  const weights = encodeWeights(artifacts.weightSpecs, tf.io.CompositeArrayBuffer.join(artifacts.weightData), quantize);
  const shardCount = Math.max(1, Math.ceil(weights.data.length / SHARD_BYTES));
  const shards = Array.from({ length: shardCount }, (_, i) => `group1-shard${i + 1}of${shardCount}.bin`);
  shards.forEach((name, i) => write(path.join(dir, name), weights.data.subarray(i * SHARD_BYTES, Math.min(weights.data.length, (i + 1) * SHARD_BYTES))));
  const modelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: 'Effitune',
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: shards, weights: weights.specs }],
    userDefinedMetadata: { effitune: metadata },
  };
  write(path.join(dir, MODEL_JSON), Buffer.from(JSON.stringify(modelJson)));
  const files = [MODEL_JSON, ...shards];
  return { files, bytes: files.reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0) };
}
