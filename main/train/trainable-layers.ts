/**
 * Which layers of a run's model train, by Keras layer name: every layer (full), the last
 * topBlocks blocks and the head (top), the classifier alone (head). Kept apart from model-setup.ts
 * (which loads TF.js) so the engine's step plan can be counted without it (engine-options.ts).
 */
import type { TrainConfig } from '../contract/calls-train';
import { planArchitecture, type VariantSpec } from '../model/variants';

/** Which layer names train in this mode. */
export function trainingLayerTest(variant: VariantSpec, config: TrainConfig): (name: string) => boolean {
  if (config.mode === 'full') return () => true;
  if (config.mode === 'head') return (name) => name === 'predictions' || name === 'top_dropout';
  const blocks = planArchitecture(variant).blocks;
  const top = blocks.slice(blocks.length - (config.topBlocks ?? 1)).map((b) => `${b.name}_`);
  return (name) => name === 'predictions' || name.startsWith('top_') || top.some((prefix) => name.startsWith(prefix));
}
