/**
 * The frozen part of a run's network on ONNX Runtime (main/inference) instead of TF.js:
 *   head mode: the backbone's pooled features of each image (then cached in the project);
 *   top mode:  the trunk below the first trainable block, on every augmented batch, so only the
 *              trainable top (top-model.ts) runs forward and backward in TF.js.
 * Both parts are pure inference — frozen weights, BatchNorm on its moving statistics, no dropout or
 * stochastic depth — so ONNX Runtime computes what TF.js would (within 1e-4) on every core, at a
 * fraction of the time. Converted once per weights digest and cached in the run's folder (onnx/).
 * Where ONNX Runtime cannot load, the callers keep computing on TF.js.
 */
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { InferenceRecord } from '../contract/calls-inference';
import { InferenceEngine, type InferenceModel } from '../inference/inference-engine';
import type { VariantSpec } from '../model/variants';
import { firstTopBlock } from './top-start';

export { firstTopBlock, plannedTopStart } from './top-start';
import { topModelOf } from './top-model';

/** One engine per trainer process: the provider probe runs once, sessions are reused. */
let engine: InferenceEngine | null = null;

function inferenceEngine(): InferenceEngine {
  engine ??= new InferenceEngine();
  return engine;
}

/** Where a run's ONNX files are cached: <project>.d/runs/<id>/onnx. */
export function runOnnxDir(checkpointRoot: string): string {
  return path.join(checkpointRoot, 'onnx');
}

/** The backbone's pooled features on ONNX Runtime, or null where it cannot run. */
export function backboneOnOnnx(model: tfl.LayersModel, checkpointRoot: string): Promise<InferenceModel | null> {
  return inferenceEngine().openModel(model, { kind: 'features' }, { cacheDir: runOnnxDir(checkpointRoot) });
}

export interface SplitNetwork {
  /** the frozen trunk on ONNX Runtime: pixels → activations entering `block` */
  trunk: InferenceModel;
  /** the trainable top in TF.js: activations → probabilities (the model's own layers) */
  top: tfl.LayersModel;
  block: string;
  /** shape of one trunk output, [h, w, c] */
  activationShape: number[];
}

/** The run's model split at its first trainable block, or null where ONNX Runtime cannot run. */
export async function splitAtTop(model: tfl.LayersModel, variant: VariantSpec, topBlocks: number, checkpointRoot: string): Promise<SplitNetwork | null> {
  const block = firstTopBlock(variant, topBlocks);
  const trunk = await inferenceEngine().openModel(model, { kind: 'trunk', block }, { cacheDir: runOnnxDir(checkpointRoot) });
  if (!trunk) return null;
  return { trunk, top: topModelOf(model, block), block, activationShape: trunk.onnx.output };
}

/** How a run's record says where its inference ran. */
export function describeInference(record: InferenceRecord, what: string): string {
  const threads = record.threads ? `, ${record.threads} threads` : '';
  return `${what} on ONNX Runtime (${record.provider}${threads})`;
}
