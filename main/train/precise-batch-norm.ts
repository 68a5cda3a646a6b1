/**
 * "Precise BN" (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021; pycls, Detectron2): while
 * BatchNorm trains, its moving averages (momentum 0.99) trail the weights by hundreds of steps, so
 * on a small data set a model evaluated after a few epochs normalises with statistics of weights
 * long gone and predicts nonsense. After each epoch the statistics are recomputed as the plain
 * average over up to PRECISE_BN_IMAGES training images (un-augmented) with the current weights:
 * momentum (k−1)/k for the k-th batch.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { subsetOf } from './config';
import * as tf from '@tensorflow/tfjs-core';
import { createDataPipeline } from './data/pipeline';
import { trainingBatchNorms } from './model-setup';
import type { EngineSteps } from './engine-steps';
import type { TrainingSession } from './training-session';

/** Training images whose BatchNorm statistics are recomputed after each epoch (while BatchNorm trains). */
const PRECISE_BN_IMAGES = 256;

/**
 * `shape`: one image, [resolution, resolution, 3]. Nothing to do when no BatchNorm trains. On the
 * engine (engine-steps.ts) the statistics are its own forward's over the same images, replacing its
 * step's moving statistics; there dropout and stochastic depth are off (as at inference, which
 * the statistics are for), where TF.js's training-mode pass applies them.
 */
export async function recalibrateBatchNorm(session: TrainingSession, shape: readonly number[], engine?: EngineSteps): Promise<void> {
  const model = session.setup.built.model;
  const layers = trainingBatchNorms(model) as unknown as { name: string; momentum: number }[];
  if (layers.length === 0) return;
  if (engine) {
    await engine.recalibrate(imagesOf(recalibrationBatches(session)), recalibratedWeights(model));
    return;
  }
  const saved = layers.map((l) => l.momentum);
  let k = 0;
  try {
    for await (const batch of recalibrationBatches(session)) {
      k++;
      for (const l of layers) l.momentum = (k - 1) / k;
      tf.tidy(() => {
        model.apply(tf.tensor(batch.x, [batch.size, ...shape]), { training: true });
      });
    }
  } finally {
    layers.forEach((l, i) => (l.momentum = saved[i]));
  }
}

/** The moving-statistics weights Precise BN recomputes (Keras names): those of the BatchNorms that train. */
export function recalibratedWeights(model: tfl.LayersModel): Set<string> {
  return new Set(trainingBatchNorms(model).flatMap((l) => [`${l.name}/moving_mean`, `${l.name}/moving_variance`]));
}

/** Un-augmented training batches of the run's batch size, shuffled, until PRECISE_BN_IMAGES images (whole batches). */
async function* recalibrationBatches(session: TrainingSession): AsyncGenerator<{ x: Float32Array; size: number }> {
  const { ctx, config, counters } = session;
  const pipeline = createDataPipeline({ db: ctx.db }, { split: 'train', resolution: config.resolution, batchSize: counters.batch, classes: config.classes, shuffle: true, seed: config.seed, dropLast: counters.batch > 1, subset: subsetOf(config, 'train'), decodedCache: session.decodedCache });
  let images = 0;
  for await (const batch of pipeline.epoch(0)) {
    ctx.control.throwIfCancelled();
    yield batch;
    images += batch.size;
    if (images >= PRECISE_BN_IMAGES) return;
  }
}

async function* imagesOf(batches: AsyncIterable<{ x: Float32Array }>): AsyncGenerator<Float32Array> {
  for await (const batch of batches) yield batch.x;
}
