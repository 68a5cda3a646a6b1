/**
 * What top and full mode train on: augmented batches of pixels from the data pipeline, made again
 * whenever the batch size changed; after each epoch, Precise BN, then validation on the
 * un-augmented validation images.
 */
import { createDataPipeline, type DataPipeline } from './data/pipeline';
import type { Sampling } from './data/sampling';
import type { Validation } from './epoch-end';
import { nothingLeftToTrain, type SampleBatch, type TrainingData } from './epoch-loop';
import { recalibrateBatchNorm } from './precise-batch-norm';
import { evaluateBatch, imageForward, type Forward } from './steps';
import type { TrainingSession } from './training-session';

/** The validation pipeline is made once; the training pipeline at the first epoch and again after the batch halved. */
export function imageTraining(session: TrainingSession): TrainingData {
  const { ctx, config, counters } = session;
  const forward = imageForward(session.setup.built.model);
  const shape = [config.resolution, config.resolution, 3];
  const sampling: Sampling = config.imbalance === 'sampling' ? 'balanced' : 'natural';
  const val = createDataPipeline({ db: ctx.db }, { split: 'val', resolution: config.resolution, batchSize: counters.batch, classes: config.classes });
  let train: DataPipeline | null = null;
  return {
    forward,
    sampleShape: shape,
    epoch(epoch) {
      if (!train || train.batchSize !== counters.batch) train = trainPipeline(session, sampling);
      const pipeline = train;
      if (pipeline.epochSize === 0) throw nothingLeftToTrain();
      return {
        size: pipeline.epochSize,
        batchesPerEpoch: () => pipeline.batchesPerEpoch,
        batches: () => pixelBatches(session, pipeline, epoch, val),
      };
    },
    async validate({ epoch, batches, soFar }) {
      session.report({ phase: 'validating', epoch, batchIndex: batches, batchesPerEpoch: batches, soFar, force: true });
      await recalibrateBatchNorm(session, shape);
      return validateImages(session, val, forward, shape);
    },
  };
}

/**
 * The training batches at the current batch size. BatchNorm statistics of one image are noise: a
 * last batch of one is dropped while BatchNorm trains.
 */
function trainPipeline(session: TrainingSession, sampling: Sampling): DataPipeline {
  const { ctx, config } = session;
  const batch = session.counters.batch;
  const options = { split: 'train' as const, resolution: config.resolution, batchSize: batch, classes: config.classes, augment: config.augment, sampling, seed: config.seed };
  const pipeline = createDataPipeline({ db: ctx.db }, options);
  if (config.freezeBatchNorm || batch === 1 || pipeline.epochSize % batch !== 1) return pipeline;
  return createDataPipeline({ db: ctx.db }, { ...options, dropLast: true });
}

/**
 * An epoch's pipeline batches as the loop's sample batches. Once all are read, the images the
 * training and validation pipelines found missing or unreadable so far are reported.
 */
async function* pixelBatches(session: TrainingSession, train: DataPipeline, epoch: number, val: DataPipeline): AsyncGenerator<SampleBatch> {
  const pixels = train.resolution * train.resolution * 3;
  for await (const batch of train.epoch(epoch)) {
    yield { size: batch.size, samples: (from, n) => ({ x: batch.x.subarray(from * pixels, (from + n) * pixels), y: batch.y.subarray(from, from + n) }) };
  }
  session.reporting.skips([...train.skipped, ...val.skipped]);
}

async function validateImages(session: TrainingSession, val: DataPipeline, forward: Forward, shape: readonly number[]): Promise<Validation | null> {
  if (val.epochSize === 0) return null;
  const pixels = shape[0] * shape[1] * shape[2];
  let loss = 0;
  let correct = 0;
  let images = 0;
  for await (const batch of val.epoch(0)) {
    session.ctx.control.throwIfCancelled();
    await session.inChunks(batch.size, async (from, n) => {
      const result = await evaluateBatch(forward, session.setup.loss, batch.x.subarray(from * pixels, (from + n) * pixels), shape, batch.y.subarray(from, from + n));
      loss += result.loss;
      correct += result.correct;
      images += n;
    });
  }
  return images > 0 ? { loss: loss / images, acc: correct / images } : null;
}
