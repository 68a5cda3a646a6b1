/**
 * From a caller's search options to the stored plan: the base network (from the FLOPs budget, or
 * the default), the subset sizes the project can give, the rungs and the seeds. Refuses what
 * cannot work — no validation images, a budget no base fits — before anything is stored.
 */
import { ApiError } from '../contract/contract';
import { SCALING_TARGET, type SearchOptions, type SearchPlan } from '../contract/calls-scaling';
import type { z } from 'zod';
import type { SearchOptions as SearchOptionsSchema } from '../contract/calls-scaling';
import type { TrainableSummary } from '../train/data/trainable';
import { baseForBudget, formatFlops, gridCandidates, searchCandidates, type CandidateSpec } from './grid';
import { rungsFor } from './schedule';

export type ParsedSearchOptions = z.output<typeof SearchOptionsSchema>;

/**
 * The base when neither a base nor a FLOPs budget is given: B0 scaled to φ −8 (72 px, ~7 MFLOPs),
 * so a coarse grid of 13 candidates trains in about half an hour on two CPU cores.
 */
export const DEFAULT_BASE_PHI = -8;
/** The smallest base a FLOPs budget may choose. */
const LOWEST_BASE_PHI = -10;

export function planSearch(options: ParsedSearchOptions, trainable: TrainableSummary): { plan: SearchPlan; candidates: CandidateSpec[] } {
  if (trainable.val === 0) throw new ApiError('invalid_input', 'the search compares candidates on the validation split, and this project has no validation images: split it with a validation fraction (effitune split --val 0.15)');
  const grid = { grid: options.grid, tolerance: options.tolerance, maxCandidates: options.maxCandidates ?? null, phi: options.phi, batch: options.batch, classes: trainable.classes.length };
  let basePhi: number;
  let basePhiReason: string;
  if (options.basePhi !== undefined) {
    basePhi = options.basePhi;
    basePhiReason = `given: B0 scaled to φ ${basePhi}`;
    if (options.budgetFlops !== undefined) {
      const largest = Math.max(...searchCandidates({ ...grid, basePhi }).map((c) => c.flops));
      if (largest > options.budgetFlops) throw new ApiError('invalid_input', `budgetFlops: the largest candidate above base φ ${basePhi} has ${formatFlops(largest)}, above the budget of ${formatFlops(options.budgetFlops)}; give a smaller base or leave it out`);
    }
  } else if (options.budgetFlops !== undefined) {
    basePhi = baseForBudget(options.budgetFlops, { ...grid, lowest: LOWEST_BASE_PHI });
    basePhiReason = `the largest base whose largest candidate fits the budget of ${formatFlops(options.budgetFlops)}`;
  } else {
    basePhi = DEFAULT_BASE_PHI;
    basePhiReason = `the default: B0 scaled to φ ${DEFAULT_BASE_PHI}, small enough to train a grid on a laptop`;
  }
  const { candidates, merged } = gridCandidates({ ...grid, basePhi });
  const plan: SearchPlan = {
    phi: options.phi,
    basePhi,
    basePhiReason,
    target: SCALING_TARGET,
    tolerance: options.tolerance,
    grid: options.grid,
    maxCandidates: options.maxCandidates ?? null,
    subset: { train: Math.min(options.subset, trainable.train), val: Math.min(options.valSubset, trainable.val), seed: options.seed },
    epochs: options.epochs,
    rungs: rungsFor(options.epochs),
    seed: options.seed,
    repeatSeed: options.seed + 1,
    repeats: options.repeats,
    batch: options.batch,
    backend: options.backend ?? null,
    ...(options.precision === 'mixed' ? { precision: 'mixed' as const } : {}),
    budgetFlops: options.budgetFlops ?? null,
    budgetMinutes: options.budgetMinutes ?? null,
    // crops of the random resized crop still have detail at twice the largest input size
    decodeCache: 2 * Math.max(...candidates.map((c) => c.resolution)),
    notes: merged,
  };
  return { plan, candidates };
}

export type { SearchOptions };
