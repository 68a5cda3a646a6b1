/**
 * Kernels of one kind share a pipeline: shapes, offsets and per-layer scalars are read from a
 * per-dispatch uniform slot (dispatch.ts KernelParams, arena.ts paramSlot) instead of being baked
 * into the WGSL. Before, every dispatch of a plan was its own pipeline (380 for the φ=−6 step the
 * step-plan test trains, 715 for B0), and SwiftShader spent minutes compiling them.
 */
import { describe, expect, it } from 'vitest';
import { subRange } from '../../../main/engine/arena';
import { KernelParams, PARAM_WORDS, type Dispatch } from '../../../main/engine/dispatch';
import { activationForward } from '../../../main/engine/kernels/activation';
import { depthwiseForward, depthwiseGeometry, type DepthwiseShape } from '../../../main/engine/kernels/depthwise';
import { gemm } from '../../../main/engine/kernels/gemm';
import { dropoutForward, RNG_SCALARS, rngScalars, uniformAt } from '../../../main/engine/kernels/random';
import { buildNetworkGraph } from '../../../main/engine/plan/network-graph';
import { countTrainingStep, type TrainingStepOptions } from '../../../main/engine/plan/step-plan';
import { getVariant } from '../../../main/model/variants';
import { benchOf, maxRelativeError, randomArray, deviceOrSkip } from '../../fixtures/engine-gpu';

const device = deviceOrSkip;

const step = (batch: number): TrainingStepOptions => ({ batch, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0.01 }, labelSmoothing: 0.1, classWeights: null, seed: 1 });

describe('shared pipelines: plans (no GPU needed)', () => {
  it('a φ=−6 training step compiles a few dozen pipelines, not one per dispatch', () => {
    // the step-plan test's model, and the same with dropout and per-block stochastic-depth rates
    for (const rates of [{ dropout: 0, dropConnect: 0 }, { dropout: 0.2, dropConnect: 0.2 }]) {
      const graph = buildNetworkGraph(getVariant('phi=-6'), { classes: 3, resolution: 32, seed: 11, ...rates });
      const count = countTrainingStep(graph, step(3));
      // 380 dispatches: 380 pipelines before, 61 with shared ones
      expect(count.dispatches).toBeGreaterThan(300);
      expect(count.pipelines).toBeLessThanOrEqual(80);
    }
  });

  it('a B0 224 px batch 32 step compiles at most 100 pipelines (715 before)', () => {
    const count = countTrainingStep(buildNetworkGraph(getVariant('b0'), { classes: 10, resolution: 224, seed: 1 }), step(32));
    expect(count.dispatches).toBeGreaterThan(600);
    expect(count.pipelines).toBeLessThanOrEqual(100);
  });
});

describe('KernelParams', () => {
  it('gives out words in call order, the same word for the same name, and bitcasts f32 and i32', () => {
    const p = new KernelParams();
    expect(p.u('n', 7)).toBe('params[0].x');
    expect(p.i('pad', -2)).toBe('bitcast<i32>(params[0].y)');
    expect(p.f('rate', 0.1)).toBe('bitcast<f32>(params[0].z)');
    expect(p.at('x', { name: 'x', length: 4, at: 1234 })).toBe('params[0].w');
    expect(p.u('m', 9)).toBe('params[1].x');
    expect(p.u('n', 7)).toBe('params[0].x');
    const words = p.values();
    expect(Array.from(words.subarray(0, 2))).toEqual([7, 0xfffffffe]);
    expect(new Float32Array(words.buffer, 8, 1)[0]).toBe(Math.fround(0.1));
    expect(words[3]).toBe(1234);
    expect(words.length).toBe(5);
  });

  it('refuses a name given two values, values that are not what the kind holds, and more than a slot', () => {
    const p = new KernelParams();
    p.u('n', 1);
    expect(() => p.u('n', 2)).toThrow(/twice/);
    expect(() => p.f('n', 1)).toThrow(/twice/);
    expect(() => p.u('neg', -1)).toThrow(/u32/);
    expect(() => p.u('half', 0.5)).toThrow(/u32/);
    expect(() => p.i('big', 2 ** 31)).toThrow(/i32/);
    expect(() => p.f('nan', NaN)).toThrow(/finite/);
    for (let i = 1; i < PARAM_WORDS; i++) p.u(`w${i}`, i);
    expect(() => p.u('one too many', 0)).toThrow(/more than 64/);
  });
});

/** float64 op(A)·op(B), A [M,K], B [K,N] as stored. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) c[m * N + n] += a[m * K + k] * b[k * N + n];
  return c;
}

/** float64 depthwise forward, SAME padding. */
function depthwise(s: DepthwiseShape, x: ArrayLike<number>, f: ArrayLike<number>): Float64Array {
  const g = depthwiseGeometry(s);
  const y = new Float64Array(s.n * g.oh * g.ow * s.c);
  for (let n = 0; n < s.n; n++)
    for (let r = 0; r < g.oh; r++)
      for (let q = 0; q < g.ow; q++)
        for (let c = 0; c < s.c; c++)
          for (let ki = 0; ki < s.k; ki++)
            for (let kj = 0; kj < s.k; kj++) {
              const ih = r * s.stride + ki - g.padTop;
              const iw = q * s.stride + kj - g.padLeft;
              if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
              y[((n * g.oh + r) * g.ow + q) * s.c + c] += x[((n * s.h + ih) * s.w + iw) * s.c + c] * f[(ki * s.k + kj) * s.c + c];
            }
  return y;
}

describe('shared pipelines: one pass, kernels of a kind at different shapes and offsets (WebGPU; SwiftShader without a GPU)', () => {
  it('two GEMMs, two depthwise layers and two dropouts, interleaved, each reads its own parameters', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    const tiles = { tm: 32, tn: 32 } as const;
    const g1 = { M: 45, N: 19, K: 33 };
    const g2 = { M: 70, N: 40, K: 17 };
    const d1: DepthwiseShape = { n: 2, h: 9, w: 7, c: 5, k: 3, stride: 2, padding: 'same' };
    const d2: DepthwiseShape = { n: 1, h: 12, w: 13, c: 11, k: 3, stride: 2, padding: 'same' };
    const len = (s: DepthwiseShape) => s.n * s.h * s.w * s.c;
    const outLen = (s: DepthwiseShape) => {
      const g = depthwiseGeometry(s);
      return s.n * g.oh * g.ow * s.c;
    };
    const v = {
      a1: randomArray(g1.M * g1.K, 1),
      b1: randomArray(g1.K * g1.N, 2),
      x1: randomArray(len(d1), 3),
      f1: randomArray(9 * d1.c, 4),
      a2: randomArray(g2.M * g2.K, 5),
      b2: randomArray(g2.K * g2.N, 6),
      x2: randomArray(len(d2), 7),
      f2: randomArray(9 * d2.c, 8),
      u: randomArray(3000, 9),
    };
    const b = benchOf(gpu, { ...v, c1: g1.M * g1.N, y1: outLen(d1), c2: g2.M * g2.N, y2: outLen(d2), rng: RNG_SCALARS, drop1: 1000, drop2: 3000 });
    b.arena.write(b.t.rng, rngScalars(5, 3));
    const { ctx, t } = b;
    // the second dropout reads the last 1000 values of u: an offset inside a tensor
    const uTail = subRange(t.u, 'u tail', 2000, 1000);
    const drop2Tail = subRange(t.drop2, 'drop2 tail', 2000, 1000);
    const gemm1 = gemm(ctx, t.a1, t.b1, t.c1, g1, { tiles, splitK: 1 });
    const dw1 = depthwiseForward(ctx, t.x1, t.f1, t.y1, d1, 'swish');
    const drop1 = dropoutForward(ctx, subRange(t.u, 'u head', 0, 1000), t.drop1, t.rng, { rate: 0.3, stream: 4 });
    const gemm2 = gemm(ctx, t.a2, t.b2, t.c2, g2, { tiles, splitK: 1 });
    const dw2 = depthwiseForward(ctx, t.x2, t.f2, t.y2, d2, 'swish');
    const drop2 = dropoutForward(ctx, uTail, drop2Tail, t.rng, { rate: 0.6, stream: 9 });
    const pairs: [Dispatch, Dispatch][] = [
      [gemm1[0], gemm2[0]],
      [dw1, dw2],
      [drop1, drop2],
    ];
    for (const [first, second] of pairs) {
      expect(second.pipeline, first.label).toBe(first.pipeline);
      expect(second.params, first.label).not.toBe(first.params);
    }
    expect(ctx.pipelineCount).toBe(3);
    // interleaved: the pipeline changes at every dispatch and each one rebinds its slot
    b.run([...gemm1, dw1, drop1, ...gemm2, dw2, drop2]);
    const [c1, y1, c2, y2, out1, out2] = await b.read('c1', 'y1', 'c2', 'y2', 'drop1', 'drop2');
    expect(gpu.error()).toBeNull();
    expect(maxRelativeError(c1, matmul(v.a1, v.b1, g1.M, g1.N, g1.K))).toBeLessThan(1e-4);
    expect(maxRelativeError(c2, matmul(v.a2, v.b2, g2.M, g2.N, g2.K))).toBeLessThan(1e-4);
    const swish = (z: Float64Array) => z.map((q) => q / (1 + Math.exp(-q)));
    expect(maxRelativeError(y1, swish(depthwise(d1, v.x1, v.f1)))).toBeLessThan(1e-5);
    expect(maxRelativeError(y2, swish(depthwise(d2, v.x2, v.f2)))).toBeLessThan(1e-5);
    const dropped = (u: Float32Array, from: number, rate: number, stream: number) =>
      Array.from({ length: 1000 }, (_, i) => (uniformAt(5, 3, stream, i) < Math.fround(1 - rate) ? u[from + i] * Math.fround(1 / Math.fround(1 - rate)) : 0));
    expect(maxRelativeError(out1, dropped(v.u, 0, 0.3, 4))).toBeLessThan(1e-6);
    expect(maxRelativeError(out2.subarray(2000), dropped(v.u, 2000, 0.6, 9))).toBeLessThan(1e-6);
    // the head of drop2 was not touched
    expect(out2.subarray(0, 2000).every((q) => q === 0)).toBe(true);
    b.destroy();
  });

  it('more launches than one uniform buffer holds: every slot reaches its dispatch', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    const n = 1100;
    const x = randomArray(n, 11).map((q) => q * 4);
    const b = benchOf(gpu, { x, y: n });
    // one element each: 1,100 parameter blocks, one pipeline
    const dispatches = Array.from({ length: n }, (_, i) => activationForward(b.ctx, 'sigmoid', subRange(b.t.x, `x${i}`, i, 1), subRange(b.t.y, `y${i}`, i, 1)));
    expect(b.ctx.pipelineCount).toBe(1);
    expect(b.arena.paramSlotCount).toBe(n);
    expect(new Set(dispatches.map((d) => d.params.bindGroup)).size).toBe(2);
    b.run(dispatches);
    const [y] = await b.read('y');
    expect(gpu.error()).toBeNull();
    expect(maxRelativeError(y, Array.from(x, (q) => 1 / (1 + Math.exp(-q))))).toBeLessThan(1e-6);
    // the same block again gets the slot it has
    const again = activationForward(b.ctx, 'sigmoid', subRange(b.t.x, 'x0', 0, 1), subRange(b.t.y, 'y0', 0, 1));
    expect(again.params).toBe(dispatches[0].params);
    b.destroy();
  });
});
