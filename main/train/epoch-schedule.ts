/**
 * Where a point inside an epoch lies on the learning-rate schedule (schedule.ts). The schedule
 * counts epochs with the fraction done, measured in samples seen, so a batch halved mid-epoch
 * (more steps) neither stretches nor shifts it.
 */
import { learningRateAt, type ScheduleConfig } from './schedule';

/** The scheduled learning rate after `samplesDone` of an epoch's `epochSize` samples. */
export function rateWithinEpoch(config: ScheduleConfig, epoch: number, samplesDone: number, epochSize: number): number {
  return learningRateAt(epoch + samplesDone / Math.max(1, epochSize), config);
}
