/**
 * How the Lab tab writes a search's figures: accuracies in %, tiny networks' FLOPs in M
 * multiply-adds (the search's models are far below B0's 0.39 G), time per image in ms, and the
 * roles and states of candidates in words.
 */
import type { CandidateRole, CandidateState, SearchStatus } from '../../../main/contract/calls-scaling';

export const ROLE_WORDS: Record<CandidateRole, string> = {
  base: 'base',
  compound: 'compound',
  paper: "paper's",
  depth: 'depth only',
  width: 'width only',
  resolution: 'resolution only',
};

/** What a role is, for a tooltip or a legend line. */
export const ROLE_MEANING: Record<CandidateRole, string> = {
  base: 'the base network every candidate scales from (φ 0)',
  compound: 'a grid point under α·β²·γ² ≈ 2',
  paper: "the paper's α 1.2, β 1.1, γ 1.15",
  depth: 'depth alone: α 2',
  width: 'width alone: β √2',
  resolution: 'resolution alone: γ √2',
};

export const STATE_WORDS: Record<CandidateState, string> = {
  pending: 'pending',
  training: 'training',
  waiting: 'waiting',
  pruned: 'pruned',
  finished: 'finished',
  failed: 'failed',
};

export const STATUS_WORDS: Record<SearchStatus, string> = {
  running: 'Running',
  stopped: 'Stopped',
  completed: 'Completed',
  failed: 'Failed',
};

/** 0.8123 → "81.2 %" */
export function formatAccuracy(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(1)} %`;
}

/** A difference in accuracy in percentage points: 0.034 → "3.4 pp". */
export function formatPoints(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(1)} pp`;
}

/** Multiply-adds in M with three significant digits: 2.13e6 → "2.13", 412e6 → "412". */
export function formatMegaFlops(flops: number): string {
  const mega = flops / 1e6;
  if (mega >= 100) return mega.toFixed(0);
  return Number(mega.toPrecision(3)).toString();
}

/** Parameters in thousands below a million (the search's networks), else M. */
export function formatParamCount(params: number): string {
  if (params >= 1e6) return `${(params / 1e6).toFixed(2)} M`;
  return `${Math.round(params / 1e3)} k`;
}

/** Seconds per image as ms with three significant digits. */
export function formatMsPerImage(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const ms = seconds * 1000;
  return ms >= 100 ? ms.toFixed(0) : Number(ms.toPrecision(3)).toString();
}

/** A scaling coefficient as the grid writes it: 1.1, 1.15, 1.4142 → "1.414". */
export function formatCoefficient(value: number): string {
  return String(Number(value.toFixed(3)));
}

/** α 1.2 · β 1.1 · γ 1.15 */
export function formatCoefficients({ alpha, beta, gamma }: { alpha: number; beta: number; gamma: number }): string {
  return `α ${formatCoefficient(alpha)} · β ${formatCoefficient(beta)} · γ ${formatCoefficient(gamma)}`;
}
