/**
 * Honest statistics of a search. Small runs are noisy: the same candidate with another seed can
 * land a few points away. The noise is the larger of what the repeated seeds showed (their
 * largest spread) and the sampling error of the validation subset (two standard errors of an
 * accuracy on that many images); a difference smaller than that is called a tie, in words.
 */
import type { Candidate, CandidateGroup, CandidateRole, SearchReport } from '../contract/calls-scaling';

const ROLE_WORDS: Record<CandidateRole, string> = {
  base: 'the base network',
  compound: 'compound scaling',
  paper: "the paper's coefficients (B0's)",
  depth: 'depth alone',
  width: 'width alone',
  resolution: 'resolution alone',
};

/** Candidates with a result, grouped by coefficient set (a repeat joins the candidate it repeats), best mean first. */
export function groupCandidates(candidates: readonly Candidate[]): CandidateGroup[] {
  const groups = new Map<number, Candidate[]>();
  for (const c of candidates) {
    if (c.valAcc === null || (c.state !== 'finished' && c.state !== 'waiting' && c.state !== 'pruned')) continue;
    const root = c.repeatOf ?? c.id;
    groups.set(root, [...(groups.get(root) ?? []), c]);
  }
  const result: CandidateGroup[] = [];
  for (const [root, members] of groups) {
    const first = candidates.find((c) => c.id === root)!;
    // a pruned or waiting primary is compared at fewer epochs: only finished members count when any finished
    const finished = members.filter((m) => m.state === 'finished');
    const counted = finished.length > 0 ? finished : members;
    const accs = counted.map((m) => m.valAcc!);
    const speeds = counted.map((m) => m.secondsPerImage).filter((s): s is number => s !== null);
    result.push({
      role: first.role,
      alpha: first.alpha,
      beta: first.beta,
      gamma: first.gamma,
      candidates: counted.sort((a, b) => a.id - b.id).map((m) => m.id),
      meanAcc: mean(accs),
      accs,
      spread: accs.length > 1 ? Math.max(...accs) - Math.min(...accs) : null,
      flops: first.flops,
      secondsPerImage: speeds.length > 0 ? median(speeds) : null,
    });
  }
  return result.sort((a, b) => (b.meanAcc ?? -1) - (a.meanAcc ?? -1) || a.candidates[0] - b.candidates[0]);
}

/** Two standard errors of an accuracy p measured on n images. */
export function samplingError(p: number, n: number): number {
  return n > 0 ? 2 * Math.sqrt((p * (1 - p)) / n) : 1;
}

export function noiseOf(groups: readonly CandidateGroup[], valImages: number): number | null {
  const best = groups.find((g) => g.meanAcc !== null);
  if (!best) return null;
  const spreads = groups.map((g) => g.spread).filter((s): s is number => s !== null);
  return Math.max(samplingError(best.meanAcc!, valImages), ...spreads);
}

/** The winner among finished coefficient sets (the base is not a scaling), and what the results say. */
export function judge(groups: readonly CandidateGroup[], candidates: readonly Candidate[], valImages: number, repeatsPlanned: number): Pick<SearchReport, 'best' | 'noise' | 'verdict'> {
  const finished = groups.filter((g) => g.role !== 'base' && g.meanAcc !== null && g.candidates.every((id) => candidates.find((c) => c.id === id)?.state === 'finished'));
  const noise = noiseOf(groups, valImages);
  if (finished.length === 0) return { best: null, noise, verdict: ['no candidate has finished yet'] };
  const [winner, runnerUp] = finished;
  const verdict: string[] = [];
  const pts = (x: number) => `${(x * 100).toFixed(1)} points`;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const name = (g: CandidateGroup) => (g.role === 'compound' ? `α ${g.alpha}, β ${g.beta}, γ ${g.gamma}` : ROLE_WORDS[g.role]);
  const seeds = (g: CandidateGroup) => (g.accs.length > 1 ? ` (mean of ${g.accs.length} seeds: ${g.accs.map(pct).join(', ')})` : '');
  verdict.push(`best: ${name(winner)} at ${pct(winner.meanAcc!)} validation accuracy${seeds(winner)}`);
  if (runnerUp) {
    const gap = winner.meanAcc! - runnerUp.meanAcc!;
    const within = noise !== null && gap <= noise;
    verdict.push(
      within
        ? `next: ${name(runnerUp)} at ${pct(runnerUp.meanAcc!)}, ${pts(gap)} behind, within the noise (±${pts(noise!)}): treat them as tied`
        : `next: ${name(runnerUp)} at ${pct(runnerUp.meanAcc!)}, ${pts(gap)} behind — more than the noise (±${pts(noise!)})`,
    );
  }
  const paper = finished.find((g) => g.role === 'paper');
  if (paper && paper !== winner && paper !== runnerUp) {
    const gap = winner.meanAcc! - paper.meanAcc!;
    verdict.push(`against the paper's coefficients (${pct(paper.meanAcc!)}): ${gap <= (noise ?? 0) ? `${pts(gap)} better, within the noise — the paper's choice is as good here` : `${pts(gap)} better, beyond the noise`}`);
  }
  for (const role of ['depth', 'width', 'resolution'] as const) {
    const alone = finished.find((g) => g.role === role);
    if (alone && alone !== winner && winner.role === 'compound') verdict.push(`${ROLE_WORDS[role]}: ${pct(alone.meanAcc!)} (${pts(winner.meanAcc! - alone.meanAcc!)} below the best)`);
  }
  if (repeatsPlanned === 0) verdict.push('no candidate was repeated with another seed: the noise is only the sampling error of the validation subset');
  const bestCandidate = winner.candidates[0];
  return { best: { role: winner.role, alpha: winner.alpha, beta: winner.beta, gamma: winner.gamma, candidateId: bestCandidate, meanAcc: winner.meanAcc! }, noise, verdict };
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
