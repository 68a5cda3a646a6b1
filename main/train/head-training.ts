/**
 * What head mode trains on. The backbone is frozen, so each labeled image's pooled features are
 * computed once — or taken from the project's cache (features.ts) — and the classifier trains on
 * those vectors: each epoch a fresh order of the training rows (class-balanced when sampling),
 * validation in one pass over the validation rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { epochOrder, type Sampling } from './data/sampling';
import type { Validation } from './epoch-end';
import { nothingLeftToTrain, type SampleBatch, type TrainingData } from './epoch-loop';
import { backboneWeightsKey, computeFeatures, labeledImages, type Features, type FeatureSet } from './features';
import { backboneOf } from './model-setup';
import { backboneOnOnnx, describeInference } from './frozen-on-onnx';
import { evaluateBatch, gatherRows, headForward, type Forward } from './steps';

/** Images per ONNX Runtime call while computing features. */
const ONNX_FEATURE_BATCH = 32;
import type { TrainingSession } from './training-session';

/** Backbone features of the labeled train and val images (progress phase 'embedding' while computing). */
export async function embedLabeledImages(session: TrainingSession): Promise<Features> {
  const { ctx, config, setup } = session;
  const backbone = backboneOf(setup.built.model);
  const key = { weightsKey: await backboneWeightsKey(backbone, config.model, setup.built.buildOptions), resolution: config.resolution };
  const { images, skipped } = labeledImages(ctx.db, config.classes);
  // the frozen backbone is pure inference: ONNX Runtime on every core, TF.js where it cannot load
  const onnx = await backboneOnOnnx(setup.built.model, ctx.checkpointRoot);
  if (onnx) session.reporting.note('info', describeInference(onnx.record, 'backbone features'));
  return computeFeatures({
    db: ctx.db,
    backbone,
    key,
    images,
    skipped,
    // ONNX Runtime's memory is its own, not the training backend's: larger batches amortise the call
    batch: () => (onnx ? Math.max(ONNX_FEATURE_BATCH, session.counters.batch) : session.counters.batch),
    runBatch: (pixels, count) => (onnx ? onnx.run(pixels, count) : predictInChunks(session, backbone, pixels, count)),
    onBatch: async (done, total) => {
      await session.reporting.gate();
      session.report({ phase: 'embedding', epoch: setup.startEpoch, batchIndex: done, batchesPerEpoch: total });
    },
  });
}

/** Tell what the embedding found (computed, cached, skipped) and train on it. */
export function headTraining(session: TrainingSession, features: Features): TrainingData {
  const { config, counters, reporting } = session;
  reporting.note('info', `backbone features: ${features.computed} computed, ${features.cached} from the cache`);
  reporting.skips(features.skipped);
  const { train } = features;
  if (train.labels.length === 0) throw nothingLeftToTrain();
  const forward = headForward(session.setup.built.model);
  const sampling: Sampling = config.imbalance === 'sampling' ? 'balanced' : 'natural';
  return {
    forward,
    sampleShape: [train.dim],
    epoch(epoch) {
      const order = epochOrder(Array.from(train.labels), { sampling, shuffle: true, seed: config.seed, epoch });
      return {
        size: order.length,
        batchesPerEpoch: () => Math.ceil(order.length / counters.batch),
        batches: () => featureBatches(train, order, () => counters.batch),
      };
    },
    validate: () => validateFeatures(session, features.val, forward),
  };
}

/** Rows of `set` in `order`, in batches of the batch size at the time each batch is taken. */
function* featureBatches(set: FeatureSet, order: readonly number[], batchSize: () => number): Generator<SampleBatch> {
  let at = 0;
  while (at < order.length) {
    const positions = order.slice(at, at + batchSize());
    yield {
      size: positions.length,
      samples: (from, n) => {
        const chunk = positions.slice(from, from + n);
        return { x: gatherRows(set.vectors, set.dim, chunk), y: Int32Array.from(chunk, (p) => set.labels[p]) };
      },
    };
    at += positions.length;
  }
}

async function validateFeatures(session: TrainingSession, val: FeatureSet, forward: Forward): Promise<Validation | null> {
  if (val.labels.length === 0) return null;
  const result = await evaluateBatch(forward, session.setup.loss, val.vectors, [val.dim], val.labels);
  return { loss: result.loss / val.labels.length, acc: result.correct / val.labels.length };
}

/** Backbone features of a batch of images on TF.js, in chunks of the current batch (halved on out-of-memory). */
async function predictInChunks(session: TrainingSession, backbone: tfl.LayersModel, pixels: Float32Array, n: number): Promise<Float32Array> {
  const resolution = session.config.resolution;
  const x = tf.tensor4d(pixels, [n, resolution, resolution, 3]);
  try {
    return await predictTensorInChunks(session, backbone, x);
  } finally {
    x.dispose();
  }
}

async function predictTensorInChunks(session: TrainingSession, backbone: tfl.LayersModel, x: tf.Tensor4D): Promise<Float32Array> {
  const n = x.shape[0];
  const parts: Float32Array[] = [];
  let from = 0;
  while (from < n) {
    const size = Math.min(session.counters.batch, n - from);
    try {
      const features = tf.tidy(() => backbone.predict(tf.slice(x, [from, 0, 0, 0], [size, -1, -1, -1])) as tf.Tensor);
      try {
        parts.push((await features.data()) as Float32Array);
      } finally {
        features.dispose();
      }
      from += size;
    } catch (err) {
      session.halveOnOutOfMemory(err, 'computing backbone features');
    }
  }
  const dim = parts.reduce((s, p) => s + p.length, 0) / n;
  const out = new Float32Array(n * dim);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
