import { describe, expect, it } from 'vitest';
import {
  dropoutBackward,
  dropoutForward,
  RNG_SCALARS,
  rngScalars,
  stochasticDepthBackward,
  stochasticDepthForward,
  uniformAt,
} from '../../../main/engine/kernels/random';
import { benchOf, deviceRequired, maxRelativeError, randomArray, testDevice } from '../../fixtures/engine-gpu';

async function device() {
  const gpu = await testDevice();
  if (typeof gpu === 'string' && deviceRequired()) throw new Error(gpu);
  return gpu;
}

const fraction = (mask: boolean[]) => mask.filter(Boolean).length / mask.length;

describe('engine counter-based RNG, dropout and stochastic depth (WebGPU; SwiftShader without a GPU)', () => {
  it('uniformAt is spread over [0, 1) and depends on every part of its counter', () => {
    const draws = Array.from({ length: 20000 }, (_, i) => uniformAt(7, 3, 1, i));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    const deciles = new Array(10).fill(0);
    for (const d of draws) deciles[Math.floor(d * 10)]++;
    for (const count of deciles) expect(Math.abs(count - 2000)).toBeLessThan(200);
    const base = uniformAt(7, 3, 1, 5);
    for (const other of [uniformAt(8, 3, 1, 5), uniformAt(7, 4, 1, 5), uniformAt(7, 3, 2, 5), uniformAt(7, 3, 1, 6)]) expect(other).not.toBe(base);
    expect(() => rngScalars(2 ** 24, 0)).toThrow(/seed/);
    expect(() => rngScalars(1, -1)).toThrow(/step/);
  });

  it('dropout: the mask is the JS draw, the same for the same seed and step, new for another step, kept at 1 − rate, and the backward reuses it', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    const n = 10007;
    const rate = 0.3;
    const x = randomArray(n, 61).map((v) => v + 2); // never 0: a zero output means dropped
    const dy = randomArray(n, 62);
    const b = benchOf(gpu, { x, dy, rng: RNG_SCALARS, y1: n, y2: n, y3: n, yOther: n, dx: n });
    const t = b.t;
    const o = { rate, stream: 4 };
    const forward = (y: string) => dropoutForward(b.ctx, t.x, b.t[y], t.rng, o);
    b.arena.write(t.rng, rngScalars(1234, 10));
    b.run([forward('y1'), dropoutBackward(b.ctx, t.dy, t.dx, t.rng, o)]);
    b.arena.write(t.rng, rngScalars(1234, 10));
    b.run([forward('y2'), dropoutForward(b.ctx, t.x, t.yOther, t.rng, { rate, stream: 5 })]);
    b.arena.write(t.rng, rngScalars(1234, 11));
    b.run([forward('y3')]);
    const [y1, y2, y3, yOther, dx] = await b.read('y1', 'y2', 'y3', 'yOther', 'dx');
    expect(gpu.error()).toBeNull();
    const mask = (y: Float32Array) => Array.from(y, (v) => v !== 0);
    const m1 = mask(y1);
    const want = Array.from(x, (_, i) => uniformAt(1234, 10, 4, i) < 1 - rate);
    expect(m1).toEqual(want);
    expect(maxRelativeError(y1, Array.from(x, (v, i) => (want[i] ? v / (1 - rate) : 0)))).toBeLessThan(1e-6);
    expect(maxRelativeError(dx, Array.from(dy, (v, i) => (want[i] ? v / (1 - rate) : 0)))).toBeLessThan(1e-6);
    expect(Array.from(y2)).toEqual(Array.from(y1));
    expect(Math.abs(fraction(m1) - 0.7)).toBeLessThan(0.015);
    // another step, another stream: independent masks agree on keep² + rate² of the elements
    for (const other of [mask(y3), mask(yOther)]) {
      expect(Math.abs(fraction(other) - 0.7)).toBeLessThan(0.015);
      expect(Math.abs(fraction(other.map((v, i) => v === m1[i])) - 0.58)).toBeLessThan(0.02);
    }
    // neighbouring elements are independent too
    expect(Math.abs(fraction(m1.slice(1).map((v, i) => v === m1[i])) - 0.58)).toBeLessThan(0.02);
    b.destroy();
  });

  it('stochastic depth: each sample keeps or drops its whole branch (scaled by 1/keep), the residual is added, the backward reuses the draw', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    const samples = 300;
    const per = 3 * 3 * 5;
    const rate = 0.25;
    const branch = randomArray(samples * per, 71).map((v) => v + 2);
    const residual = randomArray(samples * per, 72);
    const dy = randomArray(samples * per, 73);
    const b = benchOf(gpu, { branch, residual, dy, rng: rngScalars(99, 5), y: branch.length, yPlain: branch.length, dBranch: branch.length });
    const t = b.t;
    const o = { n: samples, rate, stream: 17 };
    b.run([
      stochasticDepthForward(b.ctx, t.branch, t.residual, t.y, t.rng, o),
      stochasticDepthForward(b.ctx, t.branch, null, t.yPlain, t.rng, o),
      stochasticDepthBackward(b.ctx, t.dy, t.dBranch, t.rng, o),
    ]);
    const [y, yPlain, dBranch] = await b.read('y', 'yPlain', 'dBranch');
    expect(gpu.error()).toBeNull();
    const keep = Array.from({ length: samples }, (_, s) => uniformAt(99, 5, 17, s) < 1 - rate);
    const scaleOf = (i: number) => (keep[Math.floor(i / per)] ? 1 / (1 - rate) : 0);
    expect(maxRelativeError(y, Array.from(branch, (v, i) => v * scaleOf(i) + residual[i]))).toBeLessThan(1e-6);
    expect(maxRelativeError(yPlain, Array.from(branch, (v, i) => v * scaleOf(i)))).toBeLessThan(1e-6);
    expect(maxRelativeError(dBranch, Array.from(dy, (v, i) => v * scaleOf(i)))).toBeLessThan(1e-6);
    expect(Math.abs(fraction(keep) - 0.75)).toBeLessThan(0.1);
    expect(() => stochasticDepthForward(b.ctx, t.branch, null, t.y, t.rng, { ...o, n: 7 })).toThrow(/per sample of 7/);
    b.destroy();
  });
});
