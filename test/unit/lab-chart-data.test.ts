/**
 * The Lab's chart arithmetic (renderer/src/lab): one point per coefficient set with the spread of
 * its seeds, repeats folded in, pruned candidates marked, the Pareto staircase, the baselines
 * drawn from the base, and B0..B7 placed on a family's φ axis at equal FLOPs.
 */
import { describe, expect, test } from 'vitest';
import type { Candidate, CandidateGroup, ExploreRow } from '../../main/contract/calls-scaling';
import { accuracyDomain, baselineLines, paretoStaircase, scatterPoints } from '../../renderer/src/lab/scatter-data';
import { phiAtFlops, phiSpan } from '../../renderer/src/lab/explore-data';

function candidate(id: number, over: Partial<Candidate>): Candidate {
  return {
    id,
    position: id - 1,
    role: 'compound',
    alpha: 1.3,
    beta: 1.05,
    gamma: 1.2,
    constraint: 2,
    phi: 1,
    model: 'phi=1',
    seed: 1,
    repeatOf: null,
    runId: id,
    state: 'finished',
    epochsDone: 2,
    flops: id * 1e6,
    params: 1000,
    resolution: 64,
    valAcc: 0.5,
    valLoss: 1,
    secondsPerImage: id / 1000,
    peakMemoryBytes: null,
    reason: null,
    ...over,
  };
}

function group(ids: number[], accs: number[], over: Partial<CandidateGroup> = {}): CandidateGroup {
  return { role: 'compound', alpha: 1.3, beta: 1.05, gamma: 1.2, candidates: ids, meanAcc: accs.reduce((a, b) => a + b, 0) / accs.length, accs, spread: accs.length > 1 ? Math.max(...accs) - Math.min(...accs) : null, flops: ids[0] * 1e6, secondsPerImage: ids[0] / 1000, ...over };
}

const candidates = [
  candidate(1, { role: 'base', alpha: 1, beta: 1, gamma: 1, valAcc: 0.4 }),
  candidate(2, { role: 'depth', alpha: 2, beta: 1, gamma: 1, valAcc: 0.5 }),
  candidate(3, { role: 'width', alpha: 1, beta: 1.4142, gamma: 1, valAcc: 0.45 }),
  candidate(4, { valAcc: 0.7 }),
  candidate(5, { state: 'pruned', alpha: 1.5, beta: 1, gamma: 1.15, valAcc: 0.3 }),
  candidate(6, { state: 'training', valAcc: null }),
  candidate(7, { repeatOf: 4, seed: 2, valAcc: 0.6 }),
];
const groups = [group([4, 7], [0.7, 0.6]), group([2], [0.5], { role: 'depth' }), group([3], [0.45], { role: 'width' }), group([1], [0.4], { role: 'base' })];
const report = { candidates, groups };

describe('Lab scatter data', () => {
  test('one point per coefficient set: repeats folded into a mean with its spread, pruned marked, untrained left out', () => {
    const points = scatterPoints(report, 'flops');
    expect(points.map((p) => p.candidateId)).toEqual([1, 2, 3, 4, 5]);
    const compound = points.find((p) => p.candidateId === 4)!;
    expect(compound.accuracy).toBeCloseTo(0.65);
    expect(compound.spread).toEqual({ low: 0.6, high: 0.7 });
    expect(compound.candidateIds).toEqual([4, 7]);
    expect(compound.label).toBe('1.3·1.05·1.2');
    expect(points.find((p) => p.candidateId === 5)!.out).toBe(true);
    expect(points.find((p) => p.candidateId === 2)!.out).toBe(false);
    expect(points.find((p) => p.candidateId === 2)!.cost).toBe(2e6);
  });

  test('the time axis uses the measured seconds per image and leaves out candidates without one', () => {
    const withoutTime = { candidates: candidates.map((c) => (c.id === 3 ? { ...c, secondsPerImage: null } : c)), groups: groups.map((g) => (g.candidates[0] === 3 ? { ...g, secondsPerImage: null } : g)) };
    const points = scatterPoints(withoutTime, 'time');
    expect(points.map((p) => p.candidateId)).toEqual([1, 2, 4, 5]);
    expect(points.find((p) => p.candidateId === 4)!.cost).toBe(0.004);
  });

  test('the Pareto front is a staircase, cheapest first, stepping up at each next point', () => {
    const points = scatterPoints(report, 'flops');
    expect(paretoStaircase(points, [4, 1, 2]).map((s) => ({ cost: s.cost, accuracy: Number(s.accuracy.toFixed(6)) }))).toEqual([
      { cost: 1e6, accuracy: 0.4 },
      { cost: 2e6, accuracy: 0.4 },
      { cost: 2e6, accuracy: 0.5 },
      { cost: 4e6, accuracy: 0.5 },
      { cost: 4e6, accuracy: 0.65 },
    ]);
    expect(paretoStaircase(points, [])).toEqual([]);
  });

  test('baselines run from the base to each one-dimension candidate that has a point', () => {
    const lines = baselineLines(scatterPoints(report, 'flops'));
    expect(lines.map((l) => [l.role, l.from.candidateId, l.to.candidateId])).toEqual([
      ['depth', 1, 2],
      ['width', 1, 3],
    ]);
    expect(baselineLines(scatterPoints({ candidates: candidates.filter((c) => c.role !== 'base'), groups }, 'flops'))).toEqual([]);
  });

  test('the accuracy axis covers every spread in 5 % steps, at least 10 % tall, within 0..1', () => {
    const [lo, hi] = accuracyDomain(scatterPoints(report, 'flops'));
    expect(lo).toBeCloseTo(0.25);
    expect(hi).toBeCloseTo(0.75);
    const tight = accuracyDomain(scatterPoints({ candidates: [candidate(1, { valAcc: 0.99 })], groups: [group([1], [0.99])] }, 'flops'));
    expect(tight[1]).toBeLessThanOrEqual(1);
    expect(tight[1] - tight[0]).toBeCloseTo(0.1);
  });
});

describe('φ explorer data', () => {
  const row = (phi: number | null, flops: number): ExploreRow => ({ label: String(phi), model: `phi=${phi}`, phi, depth: 1, width: 1, resolution: 64, blocks: 16, params: 1, flops, trainingMemoryBytes: 1, secondsPerImage: null });
  const family = [row(0, 1e6), row(1, 2e6), row(2, 4e6), row(3, 8e6)];

  test('a published variant sits at the family φ of the same FLOPs (log-linear), also past the ends', () => {
    expect(phiAtFlops(family, 2e6)).toBeCloseTo(1);
    expect(phiAtFlops(family, Math.SQRT2 * 2e6)).toBeCloseTo(1.5);
    expect(phiAtFlops(family, 16e6)).toBeCloseTo(4);
    expect(phiAtFlops(family, 0.5e6)).toBeCloseTo(-1);
    expect(phiAtFlops([row(0, 1e6)], 2e6)).toBeNull();
  });

  test('the slider spans 0..the largest φ in quarter steps', () => {
    expect(phiSpan([row(0.3, 1), row(5.1, 2)], 0.25)).toEqual({ min: 0, max: 5.25 });
    expect(phiSpan([], 0.25)).toEqual({ min: 0, max: 4 });
  });
});
