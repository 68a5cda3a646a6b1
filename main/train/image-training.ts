/**
 * What top and full mode train on: augmented batches of pixels from the data pipeline, made again
 * whenever the batch size changed; after each epoch, Precise BN, then validation on the
 * un-augmented validation images.
 *
 * In top mode the frozen trunk below the first trainable block runs on ONNX Runtime
 * (frozen-on-onnx.ts) on each augmented batch, and the steps train the top alone: a sample is then
 * the trunk's activations, not pixels. Where ONNX Runtime cannot load, the whole model runs in TF.js.
 *
 * On WebGPU (steps-engine.ts) the steps run on our engine (engine-steps.ts) over whole batches
 * of pixels (it plans the frozen trunk itself), and so do Precise BN and validation, on its
 * forward plans; its weights then go back into the model for the checkpoint. Where such a plan does
 * not fit the GPU beside the step, the run validates in TF.js from then on, on the weights written
 * back first.
 */
import { subsetOf } from './config';
import { createDataPipeline, type DataPipeline } from './data/pipeline';
import type { Sampling } from './data/sampling';
import type { Validation } from './epoch-end';
import { nothingLeftToTrain, type SampleBatch, type TrainingData } from './epoch-loop';
import { recalibrateBatchNorm } from './precise-batch-norm';
import { describeInference, splitAtTop } from './frozen-on-onnx';
import { evaluateBatch, imageForward, type Forward } from './steps';
import { probabilityRowsLoss } from './loss';
import { EngineDoesNotFit, engineDoesNotFit, startEngineSteps, type EngineSteps } from './engine-steps';
import { stepsEngineFor } from './steps-engine';
import type { TrainingSession } from './training-session';

/** The validation pipeline is made once; the training pipeline at the first epoch and again after the batch halved. */
export async function imageTraining(session: TrainingSession): Promise<TrainingData> {
  const { ctx, config, counters } = session;
  const engine = stepsEngineFor(config, ctx.backend.name) === 'effitune' ? await engineOrFallback(session) : null;
  if (engine) session.reporting.note('info', engine.description);
  const split = config.mode === 'top' && !engine ? await splitAtTop(session.setup.built.model, session.setup.built.variant, config.topBlocks ?? 1, ctx.checkpointRoot) : null;
  if (split) session.reporting.note('info', `${describeInference(split.trunk.record, `the frozen trunk (everything before ${split.block})`)}; the top trains in TF.js on its activations`);
  const trained = split ? split.top : session.setup.built.model;
  const forward = imageForward(trained);
  const pixelShape = [config.resolution, config.resolution, 3];
  const shape = split ? split.activationShape : pixelShape;
  const toSamples = split ? (x: Float32Array, n: number) => split.trunk.run(x, n) : async (x: Float32Array) => x;
  const sampling: Sampling = config.imbalance === 'sampling' ? 'balanced' : 'natural';
  const val = createDataPipeline({ db: ctx.db }, { split: 'val', resolution: config.resolution, batchSize: counters.batch, classes: config.classes, subset: subsetOf(config, 'val'), decodedCache: session.decodedCache });
  let train: DataPipeline | null = null;
  // until a plan of the engine's forward does not fit the GPU beside its step
  let validatesOnEngine = true;
  return {
    forward,
    dropoutModel: trained,
    sampleShape: shape,
    epoch(epoch) {
      if (!train || train.batchSize !== counters.batch) train = trainPipeline(session, sampling, engine !== null);
      const pipeline = train;
      if (pipeline.epochSize === 0) throw nothingLeftToTrain();
      return {
        size: pipeline.epochSize,
        batchesPerEpoch: () => pipeline.batchesPerEpoch,
        batches: () => pixelBatches(session, pipeline, epoch, val, toSamples),
      };
    },
    step: engine ? (x, y, lr) => engine.step(x, y, lr) : undefined,
    readPending: engine ? () => engine.readPending() : undefined,
    optimizerState: engine ? () => engine.optimizerState() : undefined,
    async validate({ epoch, batches, soFar }) {
      session.report({ phase: 'validating', epoch, batchIndex: batches, batchesPerEpoch: batches, soFar, force: true });
      if (engine && validatesOnEngine) {
        try {
          if (ctx.faults?.forwardOutOfMemory(epoch)) throw new EngineDoesNotFit(`the GPU ran out of memory for the engine's forward plan at batch ${counters.batch} (injected by EFFITUNE_TRAIN_FAULT)`);
          await recalibrateBatchNorm(session, pixelShape, engine);
          const validation = await validateOnEngine(session, val, engine);
          // the checkpoint (epoch-end.ts) saves the model
          await engine.syncToModel();
          return validation;
        } catch (err) {
          if (!engineDoesNotFit(err)) throw err;
          validatesOnEngine = false;
          session.reporting.note('warning', `validation and Precise BN run in TF.js from now on: ${(err as Error).message}`);
        }
      }
      await engine?.syncToModel();
      await recalibrateBatchNorm(session, pixelShape);
      return validateImages(session, val, forward, shape, toSamples);
    },
    // the top model shares the run model's layers; its own references go with it
    dispose: () => {
      split?.top.dispose();
      engine?.dispose();
    },
  };
}

/**
 * The engine, for a run on WebGPU. A run that asked for it (engine 'effitune') fails when it cannot
 * start; one that asked for nothing trains on TF.js's WebGPU backend instead, and says why.
 */
async function engineOrFallback(session: TrainingSession): Promise<EngineSteps | null> {
  const batch = session.counters.batch;
  try {
    return await startEngine(session);
  } catch (err) {
    if (session.config.engine === 'effitune') throw err;
    // TF.js starts from the run's batch and halves it itself if it must
    session.counters.batch = batch;
    session.reporting.note('warning', `the Effitune WebGPU engine could not start (${(err as Error).message.split('\n')[0]}): the steps run on TF.js's WebGPU backend instead (the fallback; ask for it with engine tfjs)`);
    return null;
  }
}

/**
 * The engine's plan at the run's batch; a batch whose plan does not fit the GPU is halved (and
 * said, as TF.js's out-of-memory halving is) until one fits. The plan is made once: later epochs
 * keep that batch.
 */
async function startEngine(session: TrainingSession): Promise<EngineSteps> {
  const { config, counters, setup } = session;
  for (;;) {
    try {
      return await startEngineSteps(config, setup.built, setup.loss, counters.batch, setup.optimizer);
    } catch (err) {
      if (!engineDoesNotFit(err) || counters.batch === 1) throw err;
      const before = counters.batch;
      counters.batch = Math.max(1, Math.floor(before / 2));
      session.reporting.note('oom', `the engine's step at batch ${before} does not fit this GPU (${(err as Error).message}): halved the batch to ${counters.batch}`);
    }
  }
}

/**
 * The training batches at the current batch size. BatchNorm statistics of one image are noise: a
 * last batch of one is dropped while BatchNorm trains.
 */
function trainPipeline(session: TrainingSession, sampling: Sampling, wholeBatches: boolean): DataPipeline {
  const { ctx, config } = session;
  const batch = session.counters.batch;
  const options = { split: 'train' as const, resolution: config.resolution, batchSize: batch, classes: config.classes, augment: config.augment, sampling, seed: config.seed, subset: subsetOf(config, 'train'), decodedCache: session.decodedCache };
  const pipeline = createDataPipeline({ db: ctx.db }, options);
  // the engine's plan is made for one batch size: a last, smaller batch is left out (the order is shuffled every epoch)
  if (wholeBatches) return pipeline.epochSize % batch === 0 ? pipeline : createDataPipeline({ db: ctx.db }, { ...options, dropLast: true });
  if (config.freezeBatchNorm || batch === 1 || pipeline.epochSize % batch !== 1) return pipeline;
  return createDataPipeline({ db: ctx.db }, { ...options, dropLast: true });
}

/**
 * An epoch's pipeline batches as the loop's sample batches. Once all are read, the images the
 * training and validation pipelines found missing or unreadable so far are reported.
 */
async function* pixelBatches(session: TrainingSession, train: DataPipeline, epoch: number, val: DataPipeline, toSamples: ToSamples): AsyncGenerator<SampleBatch> {
  for await (const batch of train.epoch(epoch)) {
    const x = await toSamples(batch.x, batch.size);
    const perSample = x.length / batch.size;
    yield { size: batch.size, samples: (from, n) => ({ x: x.subarray(from * perSample, (from + n) * perSample), y: batch.y.subarray(from, from + n) }) };
  }
  session.reporting.skips([...train.skipped, ...val.skipped]);
}

/** Validation on the engine's inference plan (engine-steps.ts openInference), batch by batch; the loss as evaluateBatch computes it. */
async function validateOnEngine(session: TrainingSession, val: DataPipeline, engine: EngineSteps): Promise<Validation | null> {
  if (val.epochSize === 0) return null;
  const { config } = session;
  const inference = engine.openInference();
  let loss = 0;
  let correct = 0;
  let images = 0;
  try {
    for await (const batch of val.epoch(0)) {
      session.ctx.control.throwIfCancelled();
      const perImage = batch.x.length / batch.size;
      for (let from = 0; from < batch.size; from += engine.batch) {
        const n = Math.min(engine.batch, batch.size - from);
        const probabilities = await inference.probabilities(batch.x.subarray(from * perImage, (from + n) * perImage), n);
        const result = probabilityRowsLoss(probabilities, batch.y.subarray(from, from + n), config.classes.length, session.setup.loss.labelSmoothing);
        loss += result.loss;
        correct += result.correct;
        images += n;
      }
    }
  } finally {
    inference.close();
  }
  return images > 0 ? { loss: loss / images, acc: correct / images } : null;
}

/** Pixels → what a step takes: the pixels themselves, or the frozen trunk's activations of them. */
type ToSamples = (pixels: Float32Array, n: number) => Promise<Float32Array>;

async function validateImages(session: TrainingSession, val: DataPipeline, forward: Forward, shape: readonly number[], toSamples: ToSamples): Promise<Validation | null> {
  if (val.epochSize === 0) return null;
  const perSample = shape.reduce((a, b) => a * b, 1);
  let loss = 0;
  let correct = 0;
  let images = 0;
  for await (const batch of val.epoch(0)) {
    session.ctx.control.throwIfCancelled();
    const x = await toSamples(batch.x, batch.size);
    await session.inChunks(batch.size, async (from, n) => {
      const result = await evaluateBatch(forward, session.setup.loss, x.subarray(from * perSample, (from + n) * perSample), shape, batch.y.subarray(from, from + n));
      loss += result.loss;
      correct += result.correct;
      images += n;
    });
  }
  return images > 0 ? { loss: loss / images, acc: correct / images } : null;
}
