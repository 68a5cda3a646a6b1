/**
 * Timing the pieces of an epoch for train.estimate, in the estimator worker (estimate-process.ts)
 * with the backend a run would use: the run's own model (built exactly as a run builds it (run-setup.ts, buildTrainingModel),
 * weights included, prepared for the mode) and optimizer, on random input of the run's shape.
 *   image modes: optimizer steps on [batch, res, res, 3], an evaluation pass (validation) and, while
 *     BatchNorm trains, a training-mode forward pass (the per-epoch BatchNorm recalibration); in top
 *     mode the steps train the top on the trunk's activations, and the trunk's pass on ONNX
 *     Runtime is timed once per batch and added, as a run computes it;
 *   head mode: optimizer steps of the classifier on [batch, features], and the backbone on a batch
 *     of images on ONNX Runtime (the one-off pass over images whose features are not cached);
 *   both: writing a checkpoint of the model (every epoch writes one) and reading real images of the
 *     project through the data pipeline with the run's preprocessing.
 * The first step of each kind is a warm-up (kernel compilation, memory pools) and is not counted.
 * A step that runs out of memory, or an engine plan that does not fit the GPU, halves the batch and
 * tries again, as a run does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ActiveBackend } from '../backend/tfjs-backend';
import type { Database } from '../project/database';
import { writeCheckpoint } from './checkpoint';
import { createDataPipeline, type PipelineOptions } from './data/pipeline';
import type { EstimateRequest, Measurement } from './estimate-protocol';
import { backboneWeightsKey } from './features';
import { probabilityRowsLoss, type LossOptions } from './loss';
import { chooseBatchSize, isOutOfMemory } from './memory';
import { backboneOf, buildTrainingModel, prepareForMode, trainingBatchNorms, type TrainingModel } from './model-setup';
import { createOptimizer, type TrainOptimizer } from './optimizer';
import { recalibratedWeights } from './precise-batch-norm';
import { backboneOnOnnx, plannedTopStart, splitAtTop } from './frozen-on-onnx';
import { defaultDataDir } from '../project/data-dir';
import { evaluateBatch, headForward, imageForward, trainStep } from './steps';
import { engineBindingOn, engineStepBytesOn } from './engine-options';
import { engineDoesNotFit, startEngineSteps } from './engine-steps';
import { stepsEngineFor } from './steps-engine';

/** Timed steps: at least this many ... */
const MIN_TIMED_STEPS = 3;
/** ... and more while they take less than this in all (small models: a steadier mean) ... */
const STEADY_SECONDS = 1.5;
const MAX_TIMED_STEPS = 20;
/** ... but never more than one once they take this long (large models on a CPU: minutes per step). */
const LONG_SECONDS = 10;
/** data pipeline: batches read to time the decoding */
const DECODE_BATCHES = 2;

export interface MeasureContext {
  db: Database;
  backend: ActiveBackend;
  /** replaces the backend's memory size (EFFITUNE_TRAIN_MEMORY_BYTES), as in a run */
  memoryBytes: number | null;
}

export async function measureEpochParts(request: EstimateRequest, ctx: MeasureContext): Promise<Measurement> {
  const { config } = request;
  const built = await buildTrainingModel(config);
  let optimizer: TrainOptimizer | null = null;
  try {
    const setup = prepareForMode(built.model, built.variant, config);
    optimizer = createOptimizer(config.optimizer, setup.variables, config.weightDecay);
    let { batch, reason } = startBatch(request, built, ctx);
    for (;;) {
      try {
        const timings = config.mode === 'head' ? await timeHead(built, optimizer, request, batch) : await timeImages(built, optimizer, request, batch, ctx.backend.name);
        const { syncSeconds = 0, ...timed } = timings;
        const checkpointSeconds = (await timeCheckpoint(built, optimizer, request, batch)) + syncSeconds;
        const decode = await timeDecoding(ctx.db, request, batch);
        return { batch, batchReason: reason, ...timed, checkpointSeconds, ...decode };
      } catch (err) {
        // as a run does: out of memory, or the engine's plan does not fit the GPU (image-training.ts startEngine)
        const doesNotFit = engineDoesNotFit(err);
        if ((!isOutOfMemory(err) && !doesNotFit) || batch === 1) throw err;
        const before = batch;
        batch = Math.max(1, Math.floor(batch / 2));
        reason = `${reason}; batch ${before} ${doesNotFit ? 'does not fit this GPU' : 'ran out of memory here'} (${(err as Error).message.split('\n')[0]}), so the run would halve it to ${batch}`;
      }
    }
  } finally {
    optimizer?.dispose();
    built.model.dispose();
  }
}

/** The batch a run would start with: the one asked for, else chosen from the memory estimate (memory.ts). */
function startBatch(request: EstimateRequest, built: TrainingModel, ctx: MeasureContext): { batch: number; reason: string } {
  const { config } = request;
  if (config.batch !== null) return { batch: config.batch, reason: `batch ${config.batch}: as asked` };
  const { backend } = ctx;
  const choice = chooseBatchSize({
    variant: built.variant,
    resolution: config.resolution,
    classes: config.classes.length,
    trainImages: request.trainImages,
    memoryBytes: ctx.memoryBytes ?? backend.memoryBytes,
    memorySource: ctx.memoryBytes ? 'EFFITUNE_TRAIN_MEMORY_BYTES' : backend.memorySource,
    onGpu: backend.name !== 'cpu' && backend.name !== 'wasm' && backend.name !== 'tfjs-node',
    trainFrom: plannedTopStart(config, built.variant),
    engineBytes: engineStepBytesOn(config, built.variant, backend.name),
    engineBinding: engineBindingOn(config, built.variant, backend),
  });
  return { batch: choice.batch, reason: choice.reason };
}

type Timings = Pick<Measurement, 'stepSeconds' | 'timedSteps' | 'warmupSeconds' | 'evalBatchSeconds' | 'bnBatchSeconds' | 'backboneBatchSeconds' | 'weightsKey' | 'engine' | 'engineArenaBytes'> & {
  /** engine runs: writing the engine's weights into the model, once per epoch (before validation) */
  syncSeconds?: number;
};

async function timeImages(built: TrainingModel, optimizer: TrainOptimizer, request: EstimateRequest, batch: number, backendName: string): Promise<Timings> {
  const { config } = request;
  const pixelShape = [config.resolution, config.resolution, 3];
  const x = randomPixels(batch * pixelShape[0] * pixelShape[1] * pixelShape[2]);
  const y = randomLabels(batch, config.classes.length);
  const loss = lossOptions(request);
  // top mode as a run trains it: the frozen trunk on ONNX Runtime per batch, the top in TF.js
  const split = config.mode === 'top' ? await splitAtTop(built.model, built.variant, config.topBlocks ?? 1, defaultDataDir()) : null;
  try {
    const forward = imageForward(split ? split.top : built.model);
    const shape = split ? split.activationShape : pixelShape;
    const samples = split ? await split.trunk.run(x, batch) : x;
    const trunk = split ? await timeRepeated(() => split.trunk.run(x, batch), 1) : { mean: 0 };
    // on the engine (steps-engine.ts): its own steps; planning its step (compiling every kernel) is the warm-up
    if (stepsEngineFor(config, backendName) === 'effitune') {
      try {
        return await timeEngine(built, optimizer, request, batch, x, y);
      } catch (err) {
        // as a run does: one that asked for nothing falls back to TF.js's WebGPU steps, timed below
        if (config.engine === 'effitune' || isOutOfMemory(err) || engineDoesNotFit(err)) throw err;
      }
    }
    const steps = await timeRepeated(() => trainStep(forward, optimizer, loss, samples, shape, y, config.lr));
    const evaluation = await timeRepeated(() => evaluateBatch(forward, loss, samples, shape, y), 1);
    let bnBatchSeconds: number | null = null;
    if (trainingBatchNorms(built.model).length > 0) bnBatchSeconds = (await timeRepeated(() => trainingPass(built, x, batch, pixelShape), 1)).mean;
    return {
      stepSeconds: steps.mean + trunk.mean,
      timedSteps: steps.count,
      warmupSeconds: Math.max(0, steps.warmup - steps.mean),
      evalBatchSeconds: evaluation.mean + trunk.mean,
      bnBatchSeconds,
      backboneBatchSeconds: null,
      weightsKey: null,
    };
  } finally {
    split?.top.dispose();
  }
}

/**
 * A run on our WebGPU engine (engine-steps.ts): its plan is made once (the warm-up: every kernel
 * compiled), its steps are timed like TF.js's, and so are its validation and Precise BN batches,
 * on the engine's forward plans as a run computes them (planning each, once per epoch, is in the
 * time of its first batch); writing the engine's weights back into the model after each
 * validation is added to the checkpoint time (once per epoch).
 */
async function timeEngine(built: TrainingModel, optimizer: TrainOptimizer, request: EstimateRequest, batch: number, x: Float32Array, y: Int32Array): Promise<Timings> {
  const { config } = request;
  const loss = lossOptions(request);
  const planBegan = performance.now();
  const engine = await startEngineSteps(config, built, loss, batch, optimizer);
  const planSeconds = (performance.now() - planBegan) / 1000;
  try {
    // each timed step waits for its metrics: a run reads them every few steps, so this is the slower bound
    const steps = await timeRepeated(async () => {
      await engine.step(x, y, config.lr);
      await engine.readPending();
    });
    const sync = await timeRepeated(() => engine.syncToModel(), 1);
    const evaluation = await timeRepeated(async () => {
      const inference = engine.openInference();
      try {
        probabilityRowsLoss(await inference.probabilities(x, batch), y, config.classes.length, loss.labelSmoothing);
      } finally {
        inference.close();
      }
    }, 1);
    const names = recalibratedWeights(built.model);
    const bn = names.size > 0 ? await timeRepeated(() => engine.recalibrate(oneBatch(x), names), 1) : null;
    return {
      stepSeconds: steps.mean,
      timedSteps: steps.count,
      warmupSeconds: planSeconds + Math.max(0, steps.warmup - steps.mean),
      evalBatchSeconds: evaluation.mean,
      bnBatchSeconds: bn?.mean ?? null,
      backboneBatchSeconds: null,
      weightsKey: null,
      syncSeconds: sync.mean,
      engine: `${engine.description}; planning it took ${planSeconds.toFixed(1)} s`,
      engineArenaBytes: engine.arenaBytes + engine.forwardArenaBytes,
    };
  } finally {
    engine.dispose();
  }
}

async function* oneBatch(x: Float32Array): AsyncGenerator<Float32Array> {
  yield x;
}

/** Precise BN's TF.js pass over one batch (precise-batch-norm.ts). */
async function trainingPass(built: TrainingModel, x: Float32Array, batch: number, pixelShape: number[]): Promise<void> {
  const out = tf.tidy(() => tf.sum(built.model.apply(tf.tensor(x, [batch, ...pixelShape]), { training: true }) as tf.Tensor));
  try {
    await out.data();
  } finally {
    out.dispose();
  }
}

async function timeHead(built: TrainingModel, optimizer: TrainOptimizer, request: EstimateRequest, batch: number): Promise<Timings> {
  const { config } = request;
  const backbone = backboneOf(built.model);
  const weightsKey = await backboneWeightsKey(backbone, config.model, built.buildOptions);
  const pixels = randomPixels(batch * config.resolution * config.resolution * 3);
  let dim = 0;
  // as a run computes them: on ONNX Runtime where it loads, else in TF.js
  const onnx = await backboneOnOnnx(built.model, defaultDataDir());
  const backbonePass = async () => {
    if (onnx) {
      dim = onnx.outputSize;
      await onnx.run(pixels, batch);
      return;
    }
    const features = tf.tidy(() => backbone.predict(tf.tensor4d(pixels, [batch, config.resolution, config.resolution, 3])) as tf.Tensor);
    try {
      dim = features.shape[1] ?? 0;
      await features.data();
    } finally {
      features.dispose();
    }
  };
  const backboneTime = await timeRepeated(backbonePass, 1);
  const features = randomPixels(batch * dim);
  const y = randomLabels(batch, config.classes.length);
  const forward = headForward(built.model);
  const loss = lossOptions(request);
  const steps = await timeRepeated(() => trainStep(forward, optimizer, loss, features, [dim], y, config.lr));
  const evaluation = await timeRepeated(() => evaluateBatch(forward, loss, features, [dim], y), 1);
  return { stepSeconds: steps.mean, timedSteps: steps.count, warmupSeconds: Math.max(0, steps.warmup - steps.mean), evalBatchSeconds: evaluation.mean, bnBatchSeconds: null, backboneBatchSeconds: backboneTime.mean, weightsKey };
}

/** One checkpoint as an epoch writes it, into a temporary folder that is removed afterwards. */
async function timeCheckpoint(built: TrainingModel, optimizer: TrainOptimizer, request: EstimateRequest, batch: number): Promise<number> {
  const { config } = request;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-estimate-'));
  const state = await optimizer.state();
  try {
    const began = performance.now();
    await writeCheckpoint(root, {
      model: built.model,
      labels: config.classes,
      metadata: { variant: config.model, resolution: config.resolution, runId: 0, epoch: 0, mode: config.mode },
      optimizer: { name: config.optimizer, state },
      state: {
        runId: 0,
        epoch: 0,
        batch,
        step: 0,
        seed: config.seed,
        best: null,
        epochsWithoutImprovement: 0,
        record: { epoch: 0, trainLoss: null, trainAcc: null, valLoss: null, valAcc: null, imagesPerSecond: 0, seconds: 0, lr: config.lr, batch, at: new Date().toISOString() },
      },
    });
    return (performance.now() - began) / 1000;
  } finally {
    tf.dispose(state.filter((s) => s.name === 'iter').map((s) => s.tensor));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Seconds per image of the project's own images through the data pipeline: with the run's augmentation, and as evaluated. */
async function timeDecoding(db: Database, request: EstimateRequest, batch: number): Promise<Pick<Measurement, 'decodeTrainSeconds' | 'decodeEvalSeconds'>> {
  const { config } = request;
  const base = { resolution: config.resolution, batchSize: batch, classes: config.classes, seed: config.seed, prefetch: 1 };
  const decodeTrainSeconds = config.mode === 'head' ? null : await secondsPerImage(db, { ...base, split: 'train', augment: config.augment });
  const val = await secondsPerImage(db, { ...base, split: 'val' });
  return { decodeTrainSeconds, decodeEvalSeconds: val ?? (await secondsPerImage(db, { ...base, split: 'train' })) };
}

async function secondsPerImage(db: Database, options: PipelineOptions): Promise<number | null> {
  const pipeline = createDataPipeline({ db }, options);
  let images = 0;
  let batches = 0;
  const began = performance.now();
  for await (const batch of pipeline.epoch(0)) {
    images += batch.size;
    if (++batches >= DECODE_BATCHES) break;
  }
  return images > 0 ? (performance.now() - began) / 1000 / images : null;
}

/** Mean seconds of `work` after one warm-up call: at least `min` timed calls, more while they are quick. */
async function timeRepeated(work: () => Promise<unknown>, min = MIN_TIMED_STEPS): Promise<{ mean: number; count: number; warmup: number }> {
  const warmupBegan = performance.now();
  await work();
  const warmup = (performance.now() - warmupBegan) / 1000;
  let count = 0;
  const began = performance.now();
  for (;;) {
    await work();
    count++;
    const elapsed = (performance.now() - began) / 1000;
    if (elapsed > LONG_SECONDS || count >= MAX_TIMED_STEPS) break;
    if (count >= min && elapsed >= STEADY_SECONDS) break;
  }
  return { mean: (performance.now() - began) / 1000 / count, count, warmup };
}

function lossOptions(request: EstimateRequest): LossOptions {
  return { classes: request.config.classes.length, labelSmoothing: request.config.labelSmoothing, classWeights: null };
}

function randomPixels(length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.random() * 255;
  return out;
}

function randomLabels(n: number, classes: number): Int32Array {
  return Int32Array.from({ length: n }, () => Math.floor(Math.random() * classes));
}
