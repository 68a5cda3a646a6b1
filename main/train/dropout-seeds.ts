/**
 * TF.js draws a Dropout layer's mask (the head's dropout, and stochastic depth: Dropout with
 * noiseShape [batch, 1, 1, 1]) from Math.random unless the layer has a seed, and a fixed seed would
 * draw the same mask at every step. So before each training step on TF.js every Dropout layer of the
 * model being trained gets a seed made of the run's seed, the step number and the layer's place,
 * and loses it after the step: a run is the same every time it is trained with the same seed, and a
 * resumed run draws the masks the uninterrupted run would have drawn (the step count is in the
 * checkpoint). Nothing of this reaches a saved model: the seeds are gone when it is saved.
 */
import type * as tfl from '@tensorflow/tfjs-layers';

type SeedableLayer = tfl.layers.Layer & { seed?: number };

function dropoutLayers(model: tfl.LayersModel): SeedableLayer[] {
  return model.layers.filter((layer) => layer.getClassName() === 'Dropout') as SeedableLayer[];
}

/** A 31-bit seed from the run's seed, the step and the layer's index (a murmur3-style mix: nearby inputs give unrelated seeds). */
export function dropoutSeed(runSeed: number, step: number, layer: number): number {
  let h = Math.imul(runSeed | 0, 0x9e3779b1) ^ Math.imul(step | 0, 0x85ebca77) ^ Math.imul(layer | 0, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 1;
}

/** Run `fn` (one training step through `model`) with every Dropout layer seeded for step `step` of a run seeded `runSeed`. */
export async function withDropoutSeeds<T>(model: tfl.LayersModel, runSeed: number, step: number, fn: () => Promise<T>): Promise<T> {
  const layers = dropoutLayers(model);
  layers.forEach((layer, i) => (layer.seed = dropoutSeed(runSeed, step, i)));
  try {
    return await fn();
  } finally {
    for (const layer of layers) layer.seed = undefined;
  }
}
