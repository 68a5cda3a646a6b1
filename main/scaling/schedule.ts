/**
 * Successive halving over the candidates of a search, as a pure function of their states: what to
 * train next, to how many epochs, and which compound candidates a finished rung leaves out. The
 * runner (search-runner.ts) asks it after every training, so a resumed search picks up exactly
 * where the stored states say it was.
 *
 * Rungs end after epochs ⌈E/3⌉, ⌈2E/3⌉ and E (fewer when E is small). At the end of a rung the
 * better half of the compound candidates (by validation accuracy, then loss) goes on; the base, the
 * paper point and the one-dimension baselines always go on — they are the curves everything is
 * compared with. After the last rung the best `repeats` coefficient sets, and the paper point, are
 * trained again from scratch with another seed.
 */
import type { Candidate, CandidateRole, SearchPlan } from '../contract/calls-scaling';

export type CandidateView = Pick<Candidate, 'id' | 'role' | 'state' | 'epochsDone' | 'valAcc' | 'valLoss' | 'repeatOf' | 'alpha' | 'beta' | 'gamma'>;

export type NextStep =
  | { kind: 'train'; candidateId: number; toEpochs: number; rung: number }
  | { kind: 'prune'; candidateIds: number[]; rung: number }
  | { kind: 'repeat'; of: number[] }
  | { kind: 'done' };

export function rungsFor(epochs: number): number[] {
  return [...new Set([Math.ceil(epochs / 3), Math.ceil((2 * epochs) / 3), epochs])].filter((e) => e >= 1);
}

const ALWAYS_ON: readonly CandidateRole[] = ['base', 'paper', 'depth', 'width', 'resolution'];

/** Higher accuracy first, then lower loss; untrained last. */
export function byScore(a: CandidateView, b: CandidateView): number {
  const acc = (b.valAcc ?? -1) - (a.valAcc ?? -1);
  if (acc !== 0) return acc;
  return (a.valLoss ?? Infinity) - (b.valLoss ?? Infinity) || a.id - b.id;
}

/** A candidate that can take more epochs (not pruned, failed or finished). */
const open = (c: CandidateView) => c.state === 'pending' || c.state === 'training' || c.state === 'waiting';

export function nextStep(plan: Pick<SearchPlan, 'rungs' | 'repeats'>, candidates: readonly CandidateView[]): NextStep {
  const primaries = candidates.filter((c) => c.repeatOf === null);
  for (let rung = 0; rung < plan.rungs.length; rung++) {
    const target = plan.rungs[rung];
    const behind = primaries.find((c) => open(c) && c.epochsDone < target);
    if (behind) return { kind: 'train', candidateId: behind.id, toEpochs: target, rung };
    if (rung === plan.rungs.length - 1) break;
    // every open candidate reached this rung: halve the compound ones still in the race
    const racing = primaries.filter((c) => c.role === 'compound' && open(c));
    const keep = Math.ceil(racing.length / 2);
    const out = [...racing].sort(byScore).slice(keep).map((c) => c.id);
    if (out.length > 0) return { kind: 'prune', candidateIds: out, rung };
  }
  // the last rung is done: repeats of the best, then train them
  const repeats = candidates.filter((c) => c.repeatOf !== null);
  if (plan.repeats > 0 && repeats.length === 0) {
    const of = chooseRepeats(primaries, plan.repeats);
    if (of.length > 0) return { kind: 'repeat', of };
  }
  const last = plan.rungs[plan.rungs.length - 1];
  const behind = repeats.find((c) => open(c) && c.epochsDone < last);
  if (behind) return { kind: 'train', candidateId: behind.id, toEpochs: last, rung: plan.rungs.length - 1 };
  return { kind: 'done' };
}

/** The best `count` candidates that finished (not the base), plus the paper point. */
export function chooseRepeats(primaries: readonly CandidateView[], count: number): number[] {
  const finished = primaries.filter((c) => c.state === 'finished' && c.role !== 'base' && c.valAcc !== null).sort(byScore);
  const chosen = finished.slice(0, count).map((c) => c.id);
  const paper = finished.find((c) => c.role === 'paper');
  if (paper && !chosen.includes(paper.id)) chosen.push(paper.id);
  return chosen;
}

export { ALWAYS_ON };
