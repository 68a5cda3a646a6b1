/**
 * The epoch loop of every mode. Per epoch: the training data's batches are cut into optimizer steps
 * of the current batch size (halved on out-of-memory, retrying the same samples), progress is
 * reported after each batch, then the data validates and the epoch ends (epoch-end.ts: record,
 * checkpoint, early stopping).
 *
 * What differs between the modes is the TrainingData: where an epoch's samples come from and what
 * one sample is — augmented pixels from the data pipeline in top and full mode (image-training.ts),
 * cached backbone features in head mode (head-training.ts) — which forward pass a step runs, and
 * how an epoch is validated.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../contract/contract';
import { RunCancelled } from './control';
import { withDropoutSeeds } from './dropout-seeds';
import { endEpoch, type Validation } from './epoch-end';
import { rateWithinEpoch } from './epoch-schedule';
import type { EpochSoFar, EpochTotals } from './run-progress';
import { trainStep, type Forward, type ReadMetrics } from './steps';
import type { NamedTensor } from './optimizer';
import type { TrainingSession } from './training-session';

/** A batch of training samples, as the data produced it; the loop takes its steps from it. */
export interface SampleBatch {
  readonly size: number;
  /** inputs ([n, ...sampleShape], flattened) and class indices of samples from..from+n */
  samples(from: number, n: number): { x: Float32Array; y: Int32Array };
}

/** One epoch of training samples. */
export interface EpochSamples {
  /** samples in the epoch: the learning-rate schedule and the ETA count through them */
  readonly size: number;
  /** batches in the epoch as of now (the batch may have halved, files may have failed) */
  batchesPerEpoch(): number;
  batches(): AsyncIterable<SampleBatch> | Iterable<SampleBatch>;
}

/** What an epoch's training did, for its validation to report. */
export interface TrainedEpoch {
  epoch: number;
  /** batches trained */
  batches: number;
  soFar: EpochSoFar;
}

/** What a mode trains on. */
export interface TrainingData {
  readonly forward: Forward;
  /** the model `forward` trains, where it has Dropout layers: seeded at each TF.js step (dropout-seeds.ts; not used where `step` is given) */
  readonly dropoutModel?: tfl.LayersModel;
  /** shape of one sample: [resolution, resolution, 3] pixels, or [dim] features */
  readonly sampleShape: readonly number[];
  epoch(epoch: number): EpochSamples;
  /** null: nothing to validate on */
  validate(trained: TrainedEpoch): Promise<Validation | null>;
  /**
   * where a step is not TF.js's trainStep over `forward` (the WebGPU engine: engine-steps.ts); its
   * metrics may come later, summed over several steps (null: not read yet)
   */
  step?(x: Float32Array, y: Int32Array, lr: number): Promise<ReadMetrics | null>;
  /** the metrics of steps whose metrics `step` has not returned yet (read before the epoch validates) */
  readPending?(): Promise<ReadMetrics | null>;
  /** where the optimizer is not the run's TF.js optimizer (the engine): its state for the checkpoint, as fresh tensors */
  optimizerState?(): Promise<NamedTensor[]>;
  /** release what the data made beside the run's model (top mode's split-off top model, the engine) */
  dispose?(): void;
}

/** What a mode's data throws when an epoch has no sample left (every file gone or unreadable). */
export function nothingLeftToTrain(): ApiError {
  return new ApiError('invalid_input', 'no training image can be read any more (all files are gone or unreadable)');
}

/** The epoch being trained, as its steps see it. */
interface EpochInTraining {
  epoch: number;
  soFar: EpochSoFar;
  /** the run's active clock (control.activeNow: pauses left out) as its training began (the epoch began earlier, with making its samples) */
  trainStart: number;
  /** the latest metrics read, for the progress report */
  latest: ReadMetrics;
}

function addMetrics(totals: EpochTotals, metrics: ReadMetrics | null): void {
  if (!metrics) return;
  totals.loss += metrics.loss * metrics.n;
  totals.correct += metrics.correct;
}

/** Train from `startEpoch` to the last epoch; returns why the run stopped early, or null. */
export async function runEpochs(session: TrainingSession, data: TrainingData, startEpoch: number): Promise<string | null> {
  const clock = session.ctx.control;
  for (let epoch = startEpoch; epoch < session.config.epochs && !session.patienceUsedUp(); epoch++) {
    const began = clock.activeNow();
    const samples = data.epoch(epoch);
    const totals: EpochTotals = { loss: 0, correct: 0, images: 0, seconds: 0 };
    const soFar: EpochSoFar = { totals, size: samples.size };
    const current: EpochInTraining = { epoch, soFar, trainStart: clock.activeNow(), latest: { loss: 0, correct: 0, n: 1 } };
    let batches = 0;
    for await (const batch of samples.batches()) {
      await session.reporting.gate();
      await trainBatch(session, data, batch, current);
      const { latest } = current;
      session.report({ phase: 'training', epoch, batchIndex: ++batches, batchesPerEpoch: samples.batchesPerEpoch(), loss: latest.loss, accuracy: latest.correct / latest.n, soFar });
    }
    addMetrics(totals, (await data.readPending?.()) ?? null);
    totals.seconds = (clock.activeNow() - current.trainStart) / 1000;
    const validation = await data.validate({ epoch, batches, soFar });
    const stop = await endEpoch(session, epoch, totals, validation, began, data.optimizerState?.bind(data));
    if (stop) return stop;
    const stopAfter = session.ctx.stopAfterEpochs;
    if (stopAfter !== undefined && epoch + 1 >= stopAfter && epoch + 1 < session.config.epochs && !session.patienceUsedUp()) {
      throw new RunCancelled(`stopped after epoch ${epoch + 1} of ${session.config.epochs} as asked (a rung of the scaling search); resuming continues it`);
    }
  }
  return null;
}

/** The steps of one batch; the metrics read go into the epoch's totals and `current.latest`. */
async function trainBatch(session: TrainingSession, data: TrainingData, batch: SampleBatch, current: EpochInTraining): Promise<void> {
  const { ctx, config, setup, counters } = session;
  const { epoch, soFar, trainStart } = current;
  const { totals } = soFar;
  await session.inChunks(batch.size, async (from, n) => {
    // the rate at the middle of the step
    const lr = rateWithinEpoch(config, epoch, totals.images + n / 2, soFar.size);
    ctx.faults?.beforeStep(counters.step);
    const { x, y } = batch.samples(from, n);
    const tfjsStep = async () => ({ ...(await trainStep(data.forward, setup.optimizer, setup.loss, x, data.sampleShape, y, lr)), n });
    const stepped = data.step ? await data.step(x, y, lr) : data.dropoutModel ? await withDropoutSeeds(data.dropoutModel, config.seed, counters.step, tfjsStep) : await tfjsStep();
    const metrics = stepped && ctx.faults ? { ...stepped, loss: ctx.faults.lossAfter(counters.step, stepped.loss) } : stepped;
    addMetrics(totals, metrics);
    if (metrics) current.latest = metrics;
    totals.images += n;
    totals.seconds = (ctx.control.activeNow() - trainStart) / 1000;
    counters.step++;
  });
}
