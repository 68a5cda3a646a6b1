/**
 * Which finished run Evaluate and Assist open first, and whether a run's predictions are worth
 * accepting: the best run is the completed one with the lowest best validation loss (its model is
 * the best epoch's), ties broken by the higher validation accuracy, then the newer run. Runs
 * without a validation loss (no validation split) never count as best. The accuracy is that of
 * the kept model (the run's baseline) where the engine gives it, else the last epoch's.
 */
import type { RunRecord } from '../../../main/contract/calls-data';
import { formatLoss, formatPercent } from '../training/train-format';

/** The validation accuracy of the model the run keeps, else of its last epoch; null without a validation split. */
export function valAccuracy(run: RunRecord): number | null {
  const acc = run.baseline?.valAcc ?? run.lastEpoch?.valAcc;
  return acc === undefined || acc === null || !Number.isFinite(acc) ? null : acc;
}

function validationLoss(run: RunRecord): number | null {
  return run.bestValLoss !== null && Number.isFinite(run.bestValLoss) ? run.bestValLoss : null;
}

/** The best completed run by validation, or null when no completed run has a validation loss. */
export function bestRun(runs: readonly RunRecord[]): RunRecord | null {
  let best: RunRecord | null = null;
  for (const run of runs) {
    if (run.status !== 'completed' || validationLoss(run) === null) continue;
    if (best === null || better(run, best)) best = run;
  }
  return best;
}

function better(a: RunRecord, b: RunRecord): boolean {
  const lossA = validationLoss(a)!;
  const lossB = validationLoss(b)!;
  if (lossA !== lossB) return lossA < lossB;
  const accA = valAccuracy(a) ?? -1;
  const accB = valAccuracy(b) ?? -1;
  if (accA !== accB) return accA > accB;
  return a.id > b.id;
}

/** "#3, val loss 0.412, val acc 87.0 %": why a run is the best, in a few words. */
export function runValidationSummary(run: RunRecord): string {
  const acc = valAccuracy(run);
  return `#${run.id}, val loss ${formatLoss(run.bestValLoss)}${acc === null ? '' : `, val acc ${formatPercent(acc)}`}`;
}

export type RunQuality =
  | { kind: 'ok' }
  /** validation accuracy not above chance (1 / classes), or not above always answering the largest class */
  | { kind: 'at-chance'; accuracy: number; chance: number; warning: string | null }
  /** no validation accuracy to judge by */
  | { kind: 'unknown' };

/** Whether the run beats guessing: the engine's baseline where it has one, else chance (1 / number of classes). */
export function runQuality(run: RunRecord): RunQuality {
  const baseline = run.baseline ?? null;
  if (baseline) return baseline.aboveBaseline ? { kind: 'ok' } : { kind: 'at-chance', accuracy: baseline.valAcc, chance: baseline.chance, warning: baseline.warning };
  const accuracy = valAccuracy(run);
  if (accuracy === null || run.classes.length === 0) return { kind: 'unknown' };
  const chance = 1 / run.classes.length;
  return accuracy > chance ? { kind: 'ok' } : { kind: 'at-chance', accuracy, chance, warning: null };
}
