/**
 * The candidates of a search: grid points (α, β, γ) under the constraint α·β²·γ² ≈ 2, plus the
 * references every search trains — the base network itself, the paper's coefficients, and each
 * dimension scaled alone (depth α = 2, width β = √2, resolution γ = √2, which meet the constraint
 * exactly). γ is solved from α and β, so every grid point meets the target up to its rounding.
 *
 * Model ids are "phi=<φ>,alpha=..,beta=..,gamma=..,base=<base φ>" (main/model/variants.ts), so a
 * candidate's run is an ordinary run of a custom variant.
 */
import { ApiError } from '../contract/contract';
import { PAPER_SCALING } from '../contract/calls-models';
import { SCALING_TARGET, type CandidateRole, type SearchGrid } from '../contract/calls-scaling';
import { describeVariant } from '../model/estimates';
import { customVariant, flopsGrowthPerPhi, getVariant, planArchitecture } from '../model/variants';

export interface CandidateSpec {
  role: CandidateRole;
  alpha: number;
  beta: number;
  gamma: number;
  /** 0 for the base, else the search φ */
  phi: number;
  model: string;
  flops: number;
  params: number;
  resolution: number;
}

/** α and β of each grid; γ follows from the constraint. */
const GRIDS: Record<SearchGrid, { alphas: number[]; betas: number[] }> = {
  coarse: { alphas: [1.1, 1.3, 1.5], betas: [1.0, 1.1, 1.2] },
  fine: { alphas: [1.1, 1.2, 1.3, 1.4, 1.5], betas: [1.0, 1.05, 1.1, 1.15, 1.2] },
};

const SQRT2 = Math.round(Math.SQRT2 * 10_000) / 10_000;

export const REFERENCES: readonly { role: CandidateRole; alpha: number; beta: number; gamma: number }[] = [
  { role: 'paper', ...PAPER_SCALING },
  { role: 'depth', alpha: 2, beta: 1, gamma: 1 },
  { role: 'width', alpha: 1, beta: SQRT2, gamma: 1 },
  { role: 'resolution', alpha: 1, beta: 1, gamma: SQRT2 },
];

/** |α·β²·γ² − target| / target */
export function constraintError(alpha: number, beta: number, gamma: number, target = SCALING_TARGET): number {
  return Math.abs(flopsGrowthPerPhi(alpha, beta, gamma) - target) / target;
}

/** The compound grid points: γ = √(2 / (α·β²)) to 2 decimals, kept when γ ≥ 1 and the constraint holds. */
export function gridPoints(grid: SearchGrid, tolerance: number): { alpha: number; beta: number; gamma: number }[] {
  const points: { alpha: number; beta: number; gamma: number }[] = [];
  const { alphas, betas } = GRIDS[grid];
  for (const alpha of alphas) {
    for (const beta of betas) {
      const gamma = Math.round(Math.sqrt(SCALING_TARGET / (alpha * beta * beta)) * 100) / 100;
      if (gamma < 1 || constraintError(alpha, beta, gamma) > tolerance) continue;
      if (REFERENCES.some((r) => r.alpha === alpha && r.beta === beta && Math.abs(r.gamma - gamma) < 0.011)) continue;
      points.push({ alpha, beta, gamma });
    }
  }
  return points;
}

/** At most `max` points, spread evenly over the list (which runs α-major, β-minor). */
export function spreadOver<T>(points: readonly T[], max: number | null): T[] {
  if (max === null || points.length <= max) return [...points];
  if (max === 1) return [points[Math.floor(points.length / 2)]];
  return Array.from({ length: max }, (_, i) => points[Math.round((i * (points.length - 1)) / (max - 1))]);
}

export function modelId(phi: number, alpha: number, beta: number, gamma: number, basePhi: number): string {
  return customVariant({ phi, alpha, beta, gamma, basePhi }).id;
}

function spec(role: CandidateRole, alpha: number, beta: number, gamma: number, phi: number, basePhi: number, batch: number, classes: number): CandidateSpec {
  const variant = customVariant({ phi, alpha, beta, gamma, basePhi });
  const figures = describeVariant(variant, batch, { classes });
  return { role, alpha, beta, gamma, phi, model: variant.id, flops: figures.flops, params: figures.params, resolution: figures.resolution };
}

/** Every candidate of a search in training order: the base, the references, then the grid points. */
export interface GridOptions {
  grid: SearchGrid;
  tolerance: number;
  maxCandidates: number | null;
  phi: number;
  batch: number;
  /** the project's classes: parameters are counted with its classifier */
  classes: number;
}

export function searchCandidates(options: GridOptions & { basePhi: number }): CandidateSpec[] {
  return gridCandidates(options).candidates;
}

/**
 * The candidates, and in words the grid points left out because, above this base, they build the
 * very network of an earlier candidate: on a tiny base, depth rounds to whole blocks, width to
 * multiples of 8 filters and resolution to multiples of 8 pixels, so nearby coefficients collapse.
 * Training the same network twice would only measure seed noise under another name.
 */
export function gridCandidates(options: GridOptions & { basePhi: number }): { candidates: CandidateSpec[]; merged: string[] } {
  const { phi, basePhi, batch, classes } = options;
  const all = gridPoints(options.grid, options.tolerance);
  if (all.length === 0) throw new ApiError('invalid_input', `tolerance: no grid point of the ${options.grid} grid has α·β²·γ² within ${options.tolerance} of ${SCALING_TARGET}; raise it`);
  const candidates = [spec('base', 1, 1, 1, 0, basePhi, batch, classes), ...REFERENCES.map((r) => spec(r.role, r.alpha, r.beta, r.gamma, phi, basePhi, batch, classes))];
  const seen = new Map(candidates.map((c) => [networkOf(c.model), c]));
  const distinct: CandidateSpec[] = [];
  const merged: string[] = [];
  for (const p of all) {
    const c = spec('compound', p.alpha, p.beta, p.gamma, phi, basePhi, batch, classes);
    const same = seen.get(networkOf(c.model));
    if (same) {
      merged.push(`α ${p.alpha}, β ${p.beta}, γ ${p.gamma} builds the same network as ${describe(same)} above base φ ${basePhi} (blocks, filters and pixels round alike): trained once`);
      continue;
    }
    seen.set(networkOf(c.model), c);
    distinct.push(c);
  }
  return { candidates: [...candidates, ...spreadOver(distinct, options.maxCandidates)], merged };
}

/** What makes two candidates the same network: resolution, stem, head and every block's shape. */
function networkOf(model: string): string {
  const variant = getVariant(model);
  const plan = planArchitecture(variant);
  return JSON.stringify([variant.resolution, plan.stemFilters, plan.headFilters, plan.blocks.map((b) => [b.filtersIn, b.filtersOut, b.stride, b.kernel, b.expand])]);
}

function describe(c: CandidateSpec): string {
  return c.role === 'compound' ? `α ${c.alpha}, β ${c.beta}, γ ${c.gamma}` : c.role === 'paper' ? "the paper's coefficients" : c.role === 'base' ? 'the base' : `${c.role} alone`;
}

/**
 * The base φ for a FLOPs budget: the largest (in steps of 0.5, from 0 down to the lowest φ) whose
 * largest candidate fits. Throws when not even the smallest base fits.
 */
export function baseForBudget(budgetFlops: number, options: GridOptions & { lowest: number }): number {
  for (let basePhi = 0; basePhi >= options.lowest; basePhi -= 0.5) {
    const largest = Math.max(...searchCandidates({ ...options, basePhi }).map((c) => c.flops));
    if (largest <= budgetFlops) return basePhi;
  }
  const smallest = Math.max(...searchCandidates({ ...options, basePhi: options.lowest }).map((c) => c.flops));
  throw new ApiError('invalid_input', `budgetFlops: ${formatFlops(budgetFlops)} is below the largest candidate of the smallest base (φ ${options.lowest}: ${formatFlops(smallest)}); allow at least that`);
}

export function formatFlops(flops: number): string {
  return flops >= 1e9 ? `${(flops / 1e9).toFixed(2)} GFLOPs` : `${(flops / 1e6).toFixed(1)} MFLOPs`;
}
