/**
 * The learning-rate schedule: linear warm-up from 0 to the peak over `warmupEpochs`, then cosine
 * decay to 0 at the end of the last epoch. It is a function of how far the run is (in epochs, with
 * the fraction of the current one), not of the step count, so halving the batch mid-run (more
 * steps per epoch) does not stretch the schedule, and a resumed run continues on the same curve.
 * The trainer asks for the rate at the middle of each step, so no warm-up step gets exactly 0.
 */
export interface ScheduleConfig {
  lr: number;
  epochs: number;
  warmupEpochs: number;
}

/** `progress`: epochs done, e.g. 2.5 = halfway through the third epoch. */
export function learningRateAt(progress: number, config: ScheduleConfig): number {
  const { lr, epochs, warmupEpochs } = config;
  const at = Math.min(Math.max(progress, 0), epochs);
  if (warmupEpochs > 0 && at < warmupEpochs) return (lr * at) / warmupEpochs;
  const span = epochs - warmupEpochs;
  if (span <= 0) return lr;
  const done = (at - warmupEpochs) / span;
  return 0.5 * lr * (1 + Math.cos(Math.PI * done));
}
