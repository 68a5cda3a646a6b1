/**
 * What the Lab's scatter draws, from a search report, apart from the drawing so the numbers can
 * be checked on their own: one point per coefficient set (its mean validation accuracy over the
 * seeds, with their spread), pruned candidates at the accuracy they were left out with, the
 * Pareto front as a staircase, and the one-dimension baselines as lines from the base network.
 */
import type { Candidate, CandidateGroup, CandidateRole, SearchReport } from '../../../main/contract/calls-scaling';
import { formatCoefficient } from './lab-format';

export type CostAxis = 'flops' | 'time';

export interface ScatterPoint {
  /** the first candidate of the coefficient set (the one the Pareto fronts and report.best name) */
  candidateId: number;
  /** every candidate the point stands for (the first seed and its repeats) */
  candidateIds: number[];
  role: CandidateRole;
  label: string;
  alpha: number;
  beta: number;
  gamma: number;
  /** multiply-adds per image, or seconds per image */
  cost: number;
  accuracy: number;
  /** lowest and highest accuracy over the seeds; null with one seed */
  spread: { low: number; high: number } | null;
  /** pruned (or failed after an epoch): drawn hollow, never on the front */
  out: boolean;
}

export interface CostPoint {
  cost: number;
  accuracy: number;
}

/** "depth", "paper", or a compound point's coefficients "1.3·1.05·1.2". */
export function pointLabel(c: Pick<Candidate, 'role' | 'alpha' | 'beta' | 'gamma'>): string {
  if (c.role !== 'compound') return c.role;
  return [c.alpha, c.beta, c.gamma].map(formatCoefficient).join('·');
}

function groupOf(groups: CandidateGroup[], id: number): CandidateGroup | undefined {
  return groups.find((g) => g.candidates.includes(id));
}

/** The points of a report on one cost axis; candidates without that cost (no measured time yet) are left out. */
export function scatterPoints(report: Pick<SearchReport, 'candidates' | 'groups'>, axis: CostAxis): ScatterPoint[] {
  const points: ScatterPoint[] = [];
  for (const c of report.candidates) {
    // repeats are folded into the point of the candidate they repeat
    if (c.repeatOf !== null || c.valAcc === null) continue;
    const group = groupOf(report.groups, c.id);
    const accuracy = group?.meanAcc ?? c.valAcc;
    const seconds = group?.secondsPerImage ?? c.secondsPerImage;
    const cost = axis === 'flops' ? c.flops : seconds;
    if (cost === null || !(cost > 0)) continue;
    const accs = group?.accs ?? [];
    points.push({
      candidateId: c.id,
      candidateIds: group?.candidates ?? [c.id],
      role: c.role,
      label: pointLabel(c),
      alpha: c.alpha,
      beta: c.beta,
      gamma: c.gamma,
      cost,
      accuracy,
      spread: accs.length > 1 ? { low: Math.min(...accs), high: Math.max(...accs) } : null,
      out: c.state === 'pruned' || c.state === 'failed',
    });
  }
  return points;
}

/**
 * The front as a staircase, cheapest first: each point's accuracy holds until the next point's
 * cost, where the line steps up to it. (What the cheapest model of at least that accuracy costs.)
 */
export function paretoStaircase(points: ScatterPoint[], front: number[]): CostPoint[] {
  const onFront = points.filter((p) => front.includes(p.candidateId)).sort((a, b) => a.cost - b.cost);
  const steps: CostPoint[] = [];
  onFront.forEach((p, i) => {
    if (i > 0) steps.push({ cost: p.cost, accuracy: onFront[i - 1].accuracy });
    steps.push({ cost: p.cost, accuracy: p.accuracy });
  });
  return steps;
}

export const BASELINE_ROLES = ['depth', 'width', 'resolution'] as const;
export type BaselineRole = (typeof BASELINE_ROLES)[number];

/** Each dimension scaled alone, as a line from the base network to it (both must have a point). */
export function baselineLines(points: ScatterPoint[]): { role: BaselineRole; from: ScatterPoint; to: ScatterPoint }[] {
  const base = points.find((p) => p.role === 'base');
  if (!base) return [];
  return BASELINE_ROLES.flatMap((role) => {
    const to = points.find((p) => p.role === role);
    return to ? [{ role, from: base, to }] : [];
  });
}

/** The accuracy axis: whole 5 % steps around the points and their spreads, within 0..1. */
export function accuracyDomain(points: ScatterPoint[]): [number, number] {
  if (points.length === 0) return [0, 1];
  const lows = points.map((p) => p.spread?.low ?? p.accuracy);
  const highs = points.map((p) => p.spread?.high ?? p.accuracy);
  let lo = Math.max(0, Math.floor((Math.min(...lows) - 0.02) * 20) / 20);
  let hi = Math.min(1, Math.ceil((Math.max(...highs) + 0.02) * 20) / 20);
  if (hi - lo < 0.1) {
    const mid = (hi + lo) / 2;
    lo = Math.max(0, mid - 0.05);
    hi = Math.min(1, lo + 0.1);
    lo = Math.max(0, hi - 0.1);
  }
  return [lo, hi];
}
