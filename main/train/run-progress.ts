/**
 * The progress events of a run: where it is (phase, epoch, batch), how fast it goes, how long it
 * has left. Training reports come at most every PROGRESS_INTERVAL_MS, and always for an epoch's
 * last batch, so a fast run does not flood the channel while the display still ends each epoch
 * on its final figures.
 */
import type { TrainConfig, TrainProgress } from '../contract/calls-train';
import { rateWithinEpoch } from './epoch-schedule';
import type { RunReporter } from './run-context';

const PROGRESS_INTERVAL_MS = 250;

/** Sums over the steps of an epoch so far. */
export interface EpochTotals {
  /** loss summed over samples */
  loss: number;
  correct: number;
  images: number;
  /** training time, without validation, checkpoint and pauses (the speed and the ETA follow from it) */
  seconds: number;
}

/** How far an epoch's training has come: the speed, the learning rate at this point and the ETA follow from it. */
export interface EpochSoFar {
  totals: EpochTotals;
  /** samples in the epoch */
  size: number;
}

/** What a progress report says; the counts default to 0 and the batch figures to null. */
export interface ProgressPoint {
  phase: TrainProgress['phase'];
  epoch: number;
  /** batches done in the epoch (images embedded, in the embedding phase) */
  batchIndex?: number;
  batchesPerEpoch?: number;
  /** loss and accuracy of the last batch */
  loss?: number | null;
  accuracy?: number | null;
  soFar?: EpochSoFar;
  /** report even within PROGRESS_INTERVAL_MS of the last report */
  force?: boolean;
}

/** The run's batch size and optimizer steps at the time of a report. */
export interface StepCounts {
  batch: number;
  step: number;
}

export class RunProgress {
  private readonly startedAt = Date.now();
  private lastReportAt = 0;
  private readonly epochSeconds: number[] = [];

  constructor(
    private readonly reporter: RunReporter,
    private readonly config: TrainConfig,
  ) {}

  report(point: ProgressPoint, counts: StepCounts): void {
    const { phase, epoch, batchIndex = 0, batchesPerEpoch = 0, soFar } = point;
    const now = Date.now();
    if (!point.force && phase === 'training' && now - this.lastReportAt < PROGRESS_INTERVAL_MS && batchIndex < batchesPerEpoch) return;
    this.lastReportAt = now;
    const imagesPerSecond = soFar && soFar.totals.seconds > 0 ? soFar.totals.images / soFar.totals.seconds : 0;
    this.reporter.progress({
      phase,
      epoch,
      epochs: this.config.epochs,
      batchIndex,
      batchesPerEpoch,
      step: counts.step,
      loss: point.loss ?? null,
      accuracy: point.accuracy ?? null,
      lr: soFar && soFar.size ? rateWithinEpoch(this.config, epoch, soFar.totals.images, soFar.size) : rateWithinEpoch(this.config, epoch, 0, 1),
      batch: counts.batch,
      imagesPerSecond,
      etaSeconds: this.eta(epoch, soFar, imagesPerSecond),
      elapsedSeconds: (now - this.startedAt) / 1000,
    });
  }

  /** An epoch took `seconds` in all: the ETA of the epochs left is their average. */
  epochEnded(seconds: number): void {
    this.epochSeconds.push(seconds);
  }

  /** Rest of this epoch at the current speed, plus the remaining epochs at the average epoch time (or this epoch's estimate). */
  private eta(epoch: number, soFar: EpochSoFar | undefined, imagesPerSecond: number): number | null {
    if (!soFar || !soFar.size || imagesPerSecond <= 0) return null;
    const restOfEpoch = (soFar.size - soFar.totals.images) / imagesPerSecond;
    const perEpoch = this.epochSeconds.length > 0 ? this.epochSeconds.reduce((a, b) => a + b, 0) / this.epochSeconds.length : soFar.size / imagesPerSecond;
    return restOfEpoch + perEpoch * (this.config.epochs - epoch - 1);
  }
}
