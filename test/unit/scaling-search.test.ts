/**
 * The compound-scaling lab's pure parts: the grid keeps α·β²·γ² at 2 and always has its
 * references; the FLOPs budget chooses the base; the Pareto front; successive halving driven to the
 * end on synthetic results; the verdict calls a small difference a tie; the stratified subset.
 */
import { describe, expect, it } from 'vitest';
import { baseForBudget, constraintError, gridCandidates, gridPoints, searchCandidates, spreadOver } from '../../main/scaling/grid';
import { dominates, paretoFront } from '../../main/scaling/pareto';
import { nextStep, rungsFor, type CandidateView } from '../../main/scaling/schedule';
import { groupCandidates, judge } from '../../main/scaling/statistics';
import { stratifiedSubset } from '../../main/train/data/subset';
import { getVariant, planArchitecture } from '../../main/model/variants';
import { SearchOptions, SearchPlan, type Candidate } from '../../main/contract/calls-scaling';
import { TrainOptions } from '../../main/contract/calls-train';
import { resolveTrainConfig } from '../../main/train/config';
import { planSearch } from '../../main/scaling/search-plan';
import { trainOptionsOf } from '../../main/scaling/search-runner';

const GRID = { grid: 'coarse' as const, tolerance: 0.05, maxCandidates: null, phi: 1, batch: 32, classes: 10 };

describe('search candidates', () => {
  it('keeps every candidate within the tolerance of α·β²·γ² = 2 and always trains the base, the paper point and each dimension alone', () => {
    for (const grid of ['coarse', 'fine'] as const) {
      const candidates = searchCandidates({ ...GRID, grid, basePhi: -8 });
      for (const c of candidates.filter((c) => c.role !== 'base')) expect(constraintError(c.alpha, c.beta, c.gamma)).toBeLessThanOrEqual(0.05);
      expect(candidates.map((c) => c.role).slice(0, 5)).toEqual(['base', 'paper', 'depth', 'width', 'resolution']);
      expect(candidates.filter((c) => c.role === 'compound').length).toBeGreaterThanOrEqual(grid === 'coarse' ? 6 : 12);
    }
    const [base, paper, depth, width, resolution] = searchCandidates({ ...GRID, basePhi: -8 });
    // one dimension grows, the others stay the base's
    expect(base.model).toBe('phi=0,alpha=1,beta=1,gamma=1,base=-8');
    expect(getVariant(depth.model).depth).toBeCloseTo(getVariant(base.model).depth * 2, 10);
    expect(getVariant(width.model).width).toBeCloseTo(getVariant(base.model).width * Math.SQRT2, 3);
    expect(resolution.resolution).toBeGreaterThan(base.resolution);
    expect(getVariant(resolution.model).width).toBe(getVariant(base.model).width);
    expect(paper).toMatchObject({ alpha: 1.2, beta: 1.1, gamma: 1.15 });
    // φ = 0 with no base is B0 exactly; a base shrinks it by the paper's coefficients
    expect(getVariant('phi=0,base=0').resolution).toBe(224);
    expect(getVariant('phi=0,base=-8')).toMatchObject({ resolution: 72 });
  });

  it('trains a network once: grid points that round to the network of an earlier candidate are merged, in words', () => {
    const { candidates, merged } = gridCandidates({ ...GRID, grid: 'fine', basePhi: -10 });
    expect(merged.length).toBeGreaterThan(0);
    expect(merged[0]).toMatch(/builds the same network as .* above base φ -10/);
    const networks = candidates.map((c) => { const v = getVariant(c.model); const p = planArchitecture(v); return JSON.stringify([v.resolution, p.headFilters, p.blocks.map((b) => [b.filtersIn, b.filtersOut])]); });
    expect(new Set(networks).size).toBe(networks.length);
  });

  it('a tighter tolerance keeps fewer grid points; none at all is refused by name', () => {
    expect(gridPoints('fine', 0.001).length).toBeLessThan(gridPoints('fine', 0.05).length);
    expect(() => searchCandidates({ ...GRID, tolerance: 0.0000001, basePhi: -8 })).toThrow(/tolerance: no grid point/);
  });

  it('spreads a limited number of grid points over the grid', () => {
    expect(spreadOver([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([1, 4, 7]);
    expect(spreadOver([1, 2, 3], 1)).toEqual([2]);
    expect(spreadOver([1, 2], null)).toEqual([1, 2]);
  });

  it('chooses the largest base whose largest candidate fits a FLOPs budget, and refuses a budget nothing fits', () => {
    const options = { ...GRID, lowest: -10 };
    const basePhi = baseForBudget(20e6, options);
    expect(Math.max(...searchCandidates({ ...GRID, basePhi }).map((c) => c.flops))).toBeLessThanOrEqual(20e6);
    expect(Math.max(...searchCandidates({ ...GRID, basePhi: basePhi + 0.5 }).map((c) => c.flops))).toBeGreaterThan(20e6);
    expect(() => baseForBudget(1e5, options)).toThrow(/budgetFlops: .* is below the largest candidate of the smallest base/);
  });
});

describe('Pareto front', () => {
  it('keeps the points nothing beats on both accuracy and cost, cheapest first', () => {
    const points = [
      { id: 1, accuracy: 0.5, cost: 10 },
      { id: 2, accuracy: 0.6, cost: 20 },
      { id: 3, accuracy: 0.55, cost: 25 }, // beaten by 2
      { id: 4, accuracy: 0.7, cost: 40 },
      { id: 5, accuracy: 0.5, cost: 12 }, // beaten by 1
      { id: 6, accuracy: 0.7, cost: 40 }, // equal to 4: both stay
    ];
    expect(paretoFront(points)).toEqual([1, 2, 4, 6]);
    expect(dominates(points[0], points[4])).toBe(true);
    expect(dominates(points[3], points[5])).toBe(false);
  });
});

describe('successive halving', () => {
  it('halves only the compound candidates at each rung, then repeats the best and the paper point, then is done', () => {
    const roles = ['base', 'paper', 'depth', 'width', 'resolution', 'compound', 'compound', 'compound', 'compound'] as const;
    let candidates: CandidateView[] = roles.map((role, i) => ({ id: i + 1, role, state: 'pending', epochsDone: 0, valAcc: null, valLoss: null, repeatOf: null, alpha: 1 + i / 10, beta: 1, gamma: 1 }));
    const plan = { rungs: rungsFor(6), repeats: 1 };
    expect(plan.rungs).toEqual([2, 4, 6]);
    // a candidate's accuracy grows with its id and its epochs
    const trainTo = (id: number, epochs: number) => {
      candidates = candidates.map((c) => (c.id === id ? { ...c, epochsDone: epochs, valAcc: c.id / 100 + epochs / 1000, valLoss: 1 / c.id, state: epochs === 6 ? 'finished' : 'waiting' } : c));
    };
    const trained: string[] = [];
    for (let guard = 0; guard < 100; guard++) {
      const step = nextStep(plan, candidates);
      if (step.kind === 'done') break;
      if (step.kind === 'train') {
        trained.push(`${step.candidateId}@${step.toEpochs}`);
        trainTo(step.candidateId, step.toEpochs);
      } else if (step.kind === 'prune') {
        candidates = candidates.map((c) => (step.candidateIds.includes(c.id) ? { ...c, state: 'pruned' } : c));
      } else {
        step.of.forEach((of, i) => candidates.push({ ...candidates.find((c) => c.id === of)!, id: 100 + i, repeatOf: of, state: 'pending', epochsDone: 0, valAcc: null }));
      }
    }
    const state = (id: number) => candidates.find((c) => c.id === id)!.state;
    // rung 1 keeps the better half of the 4 compound candidates (8, 9), rung 2 the better of those (9)
    expect([6, 7, 8].map(state)).toEqual(['pruned', 'pruned', 'pruned']);
    expect([1, 2, 3, 4, 5, 9].map(state)).toEqual(Array(6).fill('finished'));
    expect(trained.filter((t) => t.endsWith('@2'))).toHaveLength(9);
    // repeats: the best finished (9) and the paper point (2), trained from scratch to the last rung
    expect(candidates.filter((c) => c.repeatOf !== null).map((c) => [c.repeatOf, c.state, c.epochsDone])).toEqual([
      [9, 'finished', 6],
      [2, 'finished', 6],
    ]);
  });
});

describe('verdict', () => {
  const candidate = (id: number, role: Candidate['role'], valAcc: number, repeatOf: number | null = null): Candidate => ({
    id, position: id, role, alpha: 1 + id / 10, beta: 1, gamma: 1, constraint: 2, phi: 1, model: `m${id}`, seed: repeatOf ? 2 : 1, repeatOf, runId: id,
    state: 'finished', epochsDone: 4, flops: 1e6 * id, params: 1, resolution: 64, valAcc, valLoss: 1 - valAcc, secondsPerImage: 0.01 * id, peakMemoryBytes: null, reason: null,
  });

  it('groups seeds, and calls a gap smaller than the seed spread a tie', () => {
    const candidates = [candidate(1, 'base', 0.5), candidate(2, 'paper', 0.7), candidate(3, 'compound', 0.72), candidate(4, 'compound', 0.66, 3), candidate(5, 'paper', 0.69, 2)];
    const groups = groupCandidates(candidates);
    expect(groups.map((g) => [g.role, g.candidates])).toEqual([
      ['paper', [2, 5]],
      ['compound', [3, 4]],
      ['base', [1]],
    ]);
    expect(groups[1].spread).toBeCloseTo(0.06, 10);
    const { best, noise, verdict } = judge(groups, candidates, 1000, 1);
    expect(best).toMatchObject({ role: 'paper', candidateId: 2 });
    expect(noise).toBeCloseTo(0.06, 10);
    expect(verdict[1]).toBe('next: α 1.3, β 1, γ 1 at 69.0 %, 0.5 points behind, within the noise (±6.0 points): treat them as tied');
  });

  it('says a winner is beyond the noise when the gap is larger than seeds and sampling error', () => {
    const candidates = [candidate(2, 'paper', 0.6), candidate(3, 'compound', 0.8), candidate(4, 'compound', 0.8, 3), candidate(5, 'paper', 0.6, 2)];
    const { best, verdict } = judge(groupCandidates(candidates), candidates, 2000, 1);
    expect(best).toMatchObject({ role: 'compound', alpha: 1.3 });
    expect(verdict.join('\n')).toMatch(/more than the noise/);
    expect(verdict[1]).toBe("next: the paper's coefficients (B0's) at 60.0 %, 20.0 points behind — more than the noise (±1.8 points)");
    // the paper point said once, as the runner-up
    expect(verdict.filter((line) => line.includes("paper's"))).toHaveLength(1);
  });
});

describe('stratified subset', () => {
  const items = Array.from({ length: 100 }, (_, i) => ({ label: i < 70 ? 0 : i < 95 ? 1 : 2, hash: `h${i}` }));

  it('keeps each class its share (at least one), fixed by the subset seed alone', () => {
    const kept = stratifiedSubset(items, { count: 20, seed: 1 });
    expect(kept).toHaveLength(20);
    const per = [0, 1, 2].map((label) => kept.filter((i) => items[i].label === label).length);
    expect(per).toEqual([14, 5, 1]);
    expect(stratifiedSubset(items, { count: 20, seed: 1 })).toEqual(kept);
    expect(stratifiedSubset(items, { count: 20, seed: 2 })).not.toEqual(kept);
    // the same images in any order of the rows
    const reversed = [...items].reverse();
    expect(stratifiedSubset(reversed, { count: 20, seed: 1 }).map((i) => reversed[i].hash).sort()).toEqual(kept.map((i) => items[i].hash).sort());
    expect(stratifiedSubset(items, { count: 500, seed: 1 })).toHaveLength(100);
  });
});

describe("the candidates' runs", () => {
  const trainable = {
    classes: ['a', 'b'].map((name, id) => ({ id, name, total: 30, train: 20, val: 5, test: 5, unsplit: 0 })),
    train: 40,
    val: 10,
    test: 10,
    unsplit: 0,
    warnings: [],
  };
  const candidates = planSearch(SearchOptions.parse({ basePhi: -8 }), trainable).candidates;
  /** what train.start resolves a candidate's run to */
  const configOf = (plan: SearchPlan, index = 0) => {
    const c = candidates[index];
    return resolveTrainConfig(TrainOptions.parse(trainOptionsOf(plan, { model: c.model, seed: plan.seed, resolution: c.resolution })), trainable.classes).config;
  };

  it('train in the precision the search was given: mixed makes every candidate a mixed-precision run on the WebGPU engine', () => {
    const mixed = planSearch(SearchOptions.parse({ basePhi: -8, precision: 'mixed' }), trainable).plan;
    expect(mixed.precision).toBe('mixed');
    for (const i of [0, 1, 4]) expect(configOf(mixed, i)).toMatchObject({ precision: 'mixed', engine: 'effitune', backend: 'webgpu', mode: 'full' });
    // fp32, asked for or left out, is what a search was before precision could be chosen
    for (const options of [{ basePhi: -8 }, { basePhi: -8, precision: 'fp32' }]) {
      const plan = planSearch(SearchOptions.parse(options), trainable).plan;
      expect(plan.precision).toBeUndefined();
      expect(configOf(plan).precision).toBeUndefined();
    }
    const { precision: _, ...before } = mixed;
    expect(SearchPlan.parse(before).precision).toBeUndefined();
    expect(() => SearchOptions.parse({ precision: 'half' })).toThrow(/precision/);
  });

  it('a mixed search on a backend other than WebGPU is refused by the check its first candidate gets (train.start\'s)', () => {
    const plan = planSearch(SearchOptions.parse({ basePhi: -8, precision: 'mixed', backend: 'cpu' }), trainable).plan;
    expect(() => configOf(plan)).toThrow(/precision: mixed .*leave out backend or give webgpu \(not cpu\)/);
  });
});

