/**
 * Where the trainable top of a top-N run starts, and whether its frozen trunk will run on ONNX
 * Runtime: what the batch is planned for before the run starts. Light on purpose (no TF.js): the
 * service's estimate reads it too.
 */
import type { TrainConfig } from '../contract/calls-train';
import { onnxRuntimeVersion } from '../inference/providers';
import { planArchitecture, type VariantSpec } from '../model/variants';

/** The first block that trains in top-N mode (the trunk ends right before it). */
export function firstTopBlock(variant: VariantSpec, topBlocks: number): string {
  const blocks = planArchitecture(variant).blocks;
  return blocks[Math.max(0, blocks.length - topBlocks)].name;
}

/**
 * The first trainable block when a top-N run's frozen trunk will run on ONNX Runtime, else null.
 * Should ONNX Runtime then fail to load, the whole model trains in TF.js and a too large batch
 * halves on its first out-of-memory step.
 */
export function plannedTopStart(config: Pick<TrainConfig, 'mode' | 'topBlocks'>, variant: VariantSpec): string | null {
  return config.mode === 'top' && onnxRuntimeVersion() !== null ? firstTopBlock(variant, config.topBlocks ?? 1) : null;
}
