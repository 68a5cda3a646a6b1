/**
 * "Precise BN" (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021; pycls, Detectron2): while
 * BatchNorm trains, its moving averages (momentum 0.99) trail the weights by hundreds of steps, so
 * on a small data set a model evaluated after a few epochs normalises with statistics of weights
 * long gone and predicts nonsense. After each epoch the statistics are recomputed as the plain
 * average over up to PRECISE_BN_IMAGES training images (un-augmented) with the current weights:
 * momentum (k−1)/k for the k-th batch.
 */
import { subsetOf } from './config';
import * as tf from '@tensorflow/tfjs-core';
import { createDataPipeline } from './data/pipeline';
import { trainingBatchNorms } from './model-setup';
import type { TrainingSession } from './training-session';

/** Training images whose BatchNorm statistics are recomputed after each epoch (while BatchNorm trains). */
const PRECISE_BN_IMAGES = 256;

/** `shape`: one image, [resolution, resolution, 3]. Nothing to do when no BatchNorm trains. */
export async function recalibrateBatchNorm(session: TrainingSession, shape: readonly number[]): Promise<void> {
  const { ctx, config, counters } = session;
  const model = session.setup.built.model;
  const layers = trainingBatchNorms(model) as unknown as { momentum: number }[];
  if (layers.length === 0) return;
  const saved = layers.map((l) => l.momentum);
  const pipeline = createDataPipeline({ db: ctx.db }, { split: 'train', resolution: config.resolution, batchSize: counters.batch, classes: config.classes, shuffle: true, seed: config.seed, dropLast: counters.batch > 1, subset: subsetOf(config, 'train'), decodedCache: session.decodedCache });
  let images = 0;
  let k = 0;
  try {
    for await (const batch of pipeline.epoch(0)) {
      ctx.control.throwIfCancelled();
      k++;
      for (const l of layers) l.momentum = (k - 1) / k;
      tf.tidy(() => {
        model.apply(tf.tensor(batch.x, [batch.size, ...shape]), { training: true });
      });
      images += batch.size;
      if (images >= PRECISE_BN_IMAGES) break;
    }
  } finally {
    layers.forEach((l, i) => (l.momentum = saved[i]));
  }
}
