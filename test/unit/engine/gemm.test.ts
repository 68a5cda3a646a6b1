import { describe, expect, it } from 'vitest';
import { batchNormStatisticsFromPartials } from '../../../main/engine/kernels/batchnorm';
import { columnReduce, columnReduceScratchElements, gemm, gemmPlan, gemmScratchElements, gemmSplitK, gemmStatisticsGroups, gemmTiles, type GemmTiles } from '../../../main/engine/kernels/gemm';
import { benchOf, maxRelativeError, randomArray, deviceOrSkip, reductionPaths } from '../../fixtures/engine-gpu';

const device = deviceOrSkip;

/** float64 op(A)·op(B); A stored [M,K] or [K,M] (transA), B stored [K,N] or [N,K] (transB). */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number, transA = false, transB = false): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (transA ? a[k * M + m] : a[m * K + k]) * (transB ? b[n * K + k] : b[k * N + n]);
      c[m * N + n] = s;
    }
  }
  return c;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const TOLERANCE = 1e-4;

describe('engine GEMM (WebGPU; SwiftShader without a GPU)', () => {
  it('odd-sized products match float64 with A and B as stored or transposed, on every tile shape', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    const [M, N, K] = [70, 37, 41];
    const a = randomArray(M * K, 1);
    const b = randomArray(K * N, 2);
    const cases: { transA: boolean; transB: boolean; tiles?: GemmTiles }[] = [
      { transA: false, transB: false },
      { transA: true, transB: false },
      { transA: false, transB: true },
      { transA: true, transB: true },
      { transA: false, transB: false, tiles: { tm: 128, tn: 16 } },
      { transA: false, transB: true, tiles: { tm: 16, tn: 32 } },
      { transA: true, transB: false, tiles: { tm: 32, tn: 32 } },
      { transA: true, transB: true, tiles: { tm: 64, tn: 64 } },
    ];
    const bench = benchOf(gpu, { a, b, ...Object.fromEntries(cases.map((_, i) => [`c${i}`, M * N])) });
    bench.run(cases.flatMap((c, i) => gemm(bench.ctx, bench.t.a, bench.t.b, bench.t[`c${i}`], { M, N, K, transA: c.transA, transB: c.transB }, { tiles: c.tiles })));
    const results = await bench.read(...cases.map((_, i) => `c${i}`));
    cases.forEach((c, i) => {
      const want = matmul(a, b, M, N, K, c.transA, c.transB);
      expect(maxRelativeError(results[i], want), JSON.stringify(c)).toBeLessThan(TOLERANCE);
    });
    expect(gpu.error()).toBeNull();
    bench.destroy();
  });

  it('fuses the epilogue: + bias, swish or sigmoid, the pre-activation kept, accumulation into C', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    const [M, N, K] = [33, 19, 27];
    const a = randomArray(M * K, 3).map((v) => v * 2);
    const b = randomArray(K * N, 4);
    const bias = randomArray(N, 5);
    const acc0 = randomArray(M * N, 6);
    const bench = benchOf(gpu, { a, b, bias, swish: M * N, pre: M * N, sig: acc0, plain: acc0 });
    const { t, ctx } = bench;
    bench.run([
      ...gemm(ctx, t.a, t.b, t.swish, { M, N, K }, { bias: t.bias, activation: 'swish', preActivation: t.pre }),
      ...gemm(ctx, t.a, t.b, t.sig, { M, N, K }, { bias: t.bias, activation: 'sigmoid', accumulate: true }),
      ...gemm(ctx, t.a, t.b, t.plain, { M, N, K }, { accumulate: true }),
    ]);
    const [swish, pre, sig, plain] = await bench.read('swish', 'pre', 'sig', 'plain');
    const z = matmul(a, b, M, N, K).map((v, i) => v + bias[i % N]);
    expect(maxRelativeError(pre, z)).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(swish, z.map((v) => v * sigmoid(v)))).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(sig, z.map((v, i) => acc0[i] + sigmoid(v)))).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(plain, matmul(a, b, M, N, K).map((v, i) => acc0[i] + v))).toBeLessThan(TOLERANCE);
    expect(gpu.error()).toBeNull();
    bench.destroy();
  });

  it('1×1 convolution and the dense head: forward, input gradient, weight gradient (split-K and not), bias gradient', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    // 1×1 conv over NHWC [2, 9, 9, 5] → 7 channels: pixels are rows of a [162, 5] matrix
    const [P, Cin, Cout] = [2 * 9 * 9, 5, 7];
    const x = randomArray(P * Cin, 7);
    const w = randomArray(Cin * Cout, 8);
    const bias = randomArray(Cout, 9);
    const dy = randomArray(P * Cout, 10);
    // the dense head: batch 3, 40 features, 11 classes
    const [B, F, C] = [3, 40, 11];
    const hx = randomArray(B * F, 11);
    const hw = randomArray(F * C, 12);
    const hb = randomArray(C, 13);
    const hdy = randomArray(B * C, 14);
    const wgradSplit = { splitK: 4 };
    expect(gemmPlan(Cin, Cout, P, wgradSplit).chunks).toBe(4);
    const bench = benchOf(gpu, {
      x, w, bias, dy, y: P * Cout, dx: P * Cin, dw: Cin * Cout, dwSplit: Cin * Cout, db: Cout,
      scratch: gemmScratchElements({ M: Cin, N: Cout, K: P }, wgradSplit),
      hx, hw, hb, hdy, hy: B * C, hdx: B * F, hdw: F * C, hdb: C,
    });
    const { t, ctx } = bench;
    bench.run([
      ...gemm(ctx, t.x, t.w, t.y, { M: P, N: Cout, K: Cin }, { bias: t.bias }),
      ...gemm(ctx, t.dy, t.w, t.dx, { M: P, N: Cin, K: Cout, transB: true }),
      ...gemm(ctx, t.x, t.dy, t.dw, { M: Cin, N: Cout, K: P, transA: true }),
      ...gemm(ctx, t.x, t.dy, t.dwSplit, { M: Cin, N: Cout, K: P, transA: true }, { ...wgradSplit, scratch: t.scratch }),
      ...columnReduce(ctx, t.dy, t.db, { rows: P, cols: Cout }),
      ...gemm(ctx, t.hx, t.hw, t.hy, { M: B, N: C, K: F }, { bias: t.hb }),
      ...gemm(ctx, t.hdy, t.hw, t.hdx, { M: B, N: F, K: C, transB: true }),
      ...gemm(ctx, t.hx, t.hdy, t.hdw, { M: F, N: C, K: B, transA: true }),
      ...columnReduce(ctx, t.hdy, t.hdb, { rows: B, cols: C }),
    ]);
    const [y, dx, dw, dwSplit, db, hy, hdx, hdw, hdb] = await bench.read('y', 'dx', 'dw', 'dwSplit', 'db', 'hy', 'hdx', 'hdw', 'hdb');

    // the gradients by their explicit formulas: dX[p,i] = Σ_o dY[p,o]·W[i,o], dW[i,o] = Σ_p X[p,i]·dY[p,o], db[o] = Σ_p dY[p,o]
    const layer = (X: Float32Array, W: Float32Array, b: Float32Array, dY: Float32Array, rows: number, cin: number, cout: number) => {
      const out = { y: new Float64Array(rows * cout), dx: new Float64Array(rows * cin), dw: new Float64Array(cin * cout), db: new Float64Array(cout) };
      for (let p = 0; p < rows; p++) {
        for (let o = 0; o < cout; o++) {
          let s = b[o];
          for (let i = 0; i < cin; i++) {
            s += X[p * cin + i] * W[i * cout + o];
            out.dx[p * cin + i] += dY[p * cout + o] * W[i * cout + o];
            out.dw[i * cout + o] += X[p * cin + i] * dY[p * cout + o];
          }
          out.y[p * cout + o] = s;
          out.db[o] += dY[p * cout + o];
        }
      }
      return out;
    };
    const conv = layer(x, w, bias, dy, P, Cin, Cout);
    expect(maxRelativeError(y, conv.y)).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(dx, conv.dx)).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(dw, conv.dw)).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(dwSplit, conv.dw)).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(db, conv.db)).toBeLessThan(TOLERANCE);
    const head = layer(hx, hw, hb, hdy, B, F, C);
    expect(maxRelativeError(hy, head.y)).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(hdx, head.dx)).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(hdw, head.dw)).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(hdb, head.db)).toBeLessThan(TOLERANCE);
    expect(gpu.error()).toBeNull();
    bench.destroy();
  });

  it('split-K over a long K applies the epilogue in its reduce (bias, sigmoid, pre-activation, accumulate)', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    const [M, N, K] = [9, 13, 1500];
    const auto = gemmPlan(M, N, K);
    expect(auto.chunks).toBeGreaterThan(1);
    const forced = gemmPlan(M, N, K, { splitK: 7 });
    expect(forced.chunks).toBe(7);
    expect(forced.kChunk % 16).toBe(0);
    const a = randomArray(M * K, 15).map((v) => v * 0.2);
    const b = randomArray(K * N, 16);
    const bias = randomArray(N, 17);
    const acc0 = randomArray(M * N, 18);
    const bench = benchOf(gpu, {
      a, b, bias, c: acc0, pre: M * N, forced: M * N,
      scratch: gemmScratchElements({ M, N, K }),
      scratch7: gemmScratchElements({ M, N, K }, { splitK: 7 }),
    });
    const { t, ctx } = bench;
    const dispatches = gemm(ctx, t.a, t.b, t.c, { M, N, K }, { bias: t.bias, activation: 'sigmoid', preActivation: t.pre, accumulate: true, scratch: t.scratch });
    expect(dispatches).toHaveLength(2);
    bench.run([...dispatches, ...gemm(ctx, t.a, t.b, t.forced, { M, N, K }, { splitK: 7, scratch: t.scratch7 })]);
    const [c, pre, forcedC] = await bench.read('c', 'pre', 'forced');
    const ab = matmul(a, b, M, N, K);
    const z = ab.map((v, i) => v + bias[i % N]);
    expect(maxRelativeError(pre, z)).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(c, z.map((v, i) => acc0[i] + sigmoid(v)))).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(forcedC, ab)).toBeLessThan(TOLERANCE);
    expect(() => gemm(ctx, t.a, t.b, t.forced, { M, N, K }, { splitK: 7 })).toThrow(/scratch tensor of 819 values/);
    expect(gpu.error()).toBeNull();
    bench.destroy();
  });

  it('scales A as it loads (the SE gate on the projection input), forward and in the weight gradient', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    // X [2 images · 6 pixels, 5 channels], gate [2, 5], W [5, 7]
    const [images, pixels, Cin, Cout] = [2, 6, 5, 7];
    const P = images * pixels;
    const x = randomArray(P * Cin, 19);
    const gate = randomArray(images * Cin, 20).map((v) => v + 1);
    const w = randomArray(Cin * Cout, 21);
    const dy = randomArray(P * Cout, 22);
    const bench = benchOf(gpu, { x, gate, w, dy, y: P * Cout, dw: Cin * Cout });
    const { t, ctx } = bench;
    const aScale = { scale: t.gate, rowsPerGroup: pixels };
    bench.run([
      ...gemm(ctx, t.x, t.w, t.y, { M: P, N: Cout, K: Cin }, { aScale }),
      ...gemm(ctx, t.x, t.dy, t.dw, { M: Cin, N: Cout, K: P, transA: true }, { aScale }),
    ]);
    const [y, dw] = await bench.read('y', 'dw');
    const scaled = x.map((v, i) => v * gate[Math.floor(i / (pixels * Cin)) * Cin + (i % Cin)]);
    expect(maxRelativeError(y, matmul(scaled, w, P, Cout, Cin))).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(dw, matmul(scaled, dy, Cin, Cout, P, true))).toBeLessThan(TOLERANCE);
    expect(gpu.error()).toBeNull();
    bench.destroy();
  });

  it('writes a BatchNorm\'s partial statistics in its epilogue: merged, they are the float64 batch mean and variance, on every tile shape', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    // 300 rows (no tile height divides it), 37 channels; the values sit around 30 with a spread of
    // about 1, where a sum of squares in f32 would lose the variance
    const [M, N, K] = [300, 37, 20];
    const a = randomArray(M * K, 31).map((v) => v + 2);
    const b = randomArray(K * N, 32);
    const bias = randomArray(N, 33).map((v) => v + 30);
    const movingMean = randomArray(N, 34);
    const movingVariance = randomArray(N, 35).map((v) => v + 2);
    const momentum = 0.99;
    const tilings: (GemmTiles | undefined)[] = [undefined, { tm: 128, tn: 16 }, { tm: 16, tn: 64 }, { tm: 64, tn: 64 }, { tm: 32, tn: 16 }];
    const groups = tilings.map((tiles) => gemmStatisticsGroups({ M, N, K }, { tiles }));
    const tensors: Record<string, Float32Array | number> = { a, b, bias };
    tilings.forEach((_, i) => Object.assign(tensors, { [`c${i}`]: M * N, [`p${i}`]: groups[i] * N * 3, [`mean${i}`]: N, [`var${i}`]: N, [`mm${i}`]: movingMean, [`mv${i}`]: movingVariance }));
    for (const path of reductionPaths(gpu)) {
      const bench = benchOf(gpu, tensors, path.subgroupSize);
      const { t, ctx } = bench;
      bench.run(
        tilings.flatMap((tiles, i) => [
          ...gemm(ctx, t.a, t.b, t[`c${i}`], { M, N, K }, { tiles, splitK: 1, bias: t.bias, statistics: t[`p${i}`] }),
          batchNormStatisticsFromPartials(ctx, { partials: t[`p${i}`], mean: t[`mean${i}`], variance: t[`var${i}`], movingMean: t[`mm${i}`], movingVariance: t[`mv${i}`] }, { c: N, groups: groups[i], momentum }),
        ]),
      );
      const c = matmul(a, b, M, N, K).map((v, i) => v + bias[i % N]);
      const mean = new Float64Array(N);
      const variance = new Float64Array(N);
      for (let i = 0; i < M * N; i++) mean[i % N] += c[i] / M;
      for (let i = 0; i < M * N; i++) variance[i % N] += (c[i] - mean[i % N]) ** 2 / M;
      expect(Math.min(...mean)).toBeGreaterThan(15);
      for (let i = 0; i < tilings.length; i++) {
        const [ci, mi, vi, mmi, mvi] = await bench.read(`c${i}`, `mean${i}`, `var${i}`, `mm${i}`, `mv${i}`);
        const what = `${JSON.stringify(tilings[i] ?? 'default')}, ${path.name}`;
        expect(maxRelativeError(ci, c), what).toBeLessThan(TOLERANCE);
        expect(maxRelativeError(mi, mean), what).toBeLessThan(TOLERANCE);
        expect(maxRelativeError(vi, variance), what).toBeLessThan(1e-3);
        expect(maxRelativeError(mmi, mean.map((m, j) => movingMean[j] - (movingMean[j] - m) * (1 - momentum))), what).toBeLessThan(TOLERANCE);
        expect(maxRelativeError(mvi, variance.map((v, j) => movingVariance[j] - (movingVariance[j] - v) * (1 - momentum))), what).toBeLessThan(TOLERANCE);
      }
      expect(groups).toEqual(tilings.map((tiles) => Math.ceil(M / (tiles ?? gemmTiles(M, N)).tm)));
      // a split-K product has no tile of whole columns to summarise, and says so
      expect(gemmStatisticsGroups({ M: 8, N: 8, K: 8192 })).toBe(0);
      expect(() => gemm(ctx, t.a, t.b, t.c0, { M, N, K }, { splitK: 2, statistics: t.p0, scratch: t.c1 })).toThrow(/statistics epilogue/);
      expect(gpu.error()).toBeNull();
      bench.destroy();
    }
  });

  it('column reduce sums a long matrix in two passes and a wide one in one, or accumulates', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    const long = { rows: 1000, cols: 7 };
    const wide = { rows: 50, cols: 130 };
    expect(columnReduceScratchElements(long.rows, long.cols)).toBeGreaterThan(0);
    expect(columnReduceScratchElements(wide.rows, wide.cols)).toBe(0);
    const l = randomArray(long.rows * long.cols, 23);
    const wd = randomArray(wide.rows * wide.cols, 24);
    const acc0 = randomArray(wide.cols, 25);
    const bench = benchOf(gpu, { l, wd, ls: long.cols, ws: acc0, scratch: columnReduceScratchElements(long.rows, long.cols) });
    const { t, ctx } = bench;
    const twoPass = columnReduce(ctx, t.l, t.ls, long, { scratch: t.scratch });
    expect(twoPass).toHaveLength(2);
    bench.run([...twoPass, ...columnReduce(ctx, t.wd, t.ws, wide, { accumulate: true })]);
    const [ls, ws] = await bench.read('ls', 'ws');
    const sums = (m: Float32Array, rows: number, cols: number) => Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => m[r * cols + c]).reduce((p, v) => p + v, 0));
    expect(maxRelativeError(ls, sums(l, long.rows, long.cols))).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(ws, sums(wd, wide.rows, wide.cols).map((v, c) => v + acc0[c]))).toBeLessThan(TOLERANCE);
    expect(() => columnReduce(ctx, t.l, t.ls, long)).toThrow(/scratch tensor/);
    expect(gpu.error()).toBeNull();
    bench.destroy();
  });

  it('picks split-K when K ≫ M·N, and not for forward products or short K', () => {
    expect(gemmTiles(32 * 112 * 112, 32)).toEqual({ tm: 128, tn: 32 });
    expect(gemmTiles(32 * 56 * 56, 144)).toEqual({ tm: 64, tn: 64 });
    expect(gemmTiles(8, 10)).toEqual({ tm: 16, tn: 16 });
    // the stem's weight gradient at B0 224 px batch 32: 27×32 outputs over 401,408 pixels
    expect(gemmSplitK(27, 32, 32 * 112 * 112)).toBeGreaterThan(16);
    // an early 1×1 weight gradient: 16×96 over 401,408 pixels
    expect(gemmSplitK(16, 96, 32 * 112 * 112)).toBeGreaterThan(16);
    // a late one, 1152×192 over 1,568 pixels, has tiles enough to fill the GPU
    expect(gemmSplitK(1152, 192, 32 * 7 * 7)).toBe(1);
    // forward products have a huge M and short K
    expect(gemmSplitK(32 * 112 * 112, 32, 27)).toBe(1);
    expect(gemmSplitK(32 * 56 * 56, 144, 24)).toBe(1);
    expect(gemmSplitK(5, 7, 162)).toBe(1);
    expect(gemmScratchElements({ M: 5, N: 7, K: 162 })).toBe(0);
    const plan = gemmPlan(27, 32, 401408);
    expect(gemmScratchElements({ M: 27, N: 32, K: 401408 })).toBe(plan.chunks * 27 * 32);
    expect(plan.chunks * plan.kChunk).toBeGreaterThanOrEqual(401408);
    expect((plan.chunks - 1) * plan.kChunk).toBeLessThan(401408);
  });
});
