/**
 * The step profile (main/engine/profile.ts): every dispatch timed on the GPU in a pass of its own
 * and summed by kernel kind, while still doing its work.
 */
import { describe, expect, it } from 'vitest';
import { columnReduce, gemm } from '../../../main/engine/kernels/gemm';
import { profileDispatches } from '../../../main/engine/profile';
import { benchOf, deviceOrSkip, randomArray } from '../../fixtures/engine-gpu';

describe('engine step profile (WebGPU timestamps; SwiftShader without a GPU)', () => {
  it('times each dispatch, sums them by kernel kind, and the dispatches still compute', async (context) => {
    const gpu = await deviceOrSkip(context);
    if (!gpu) return;
    if (!gpu.features.timestamps) return context.skip(`the adapter (${gpu.adapter.device}) has no timestamp-query`);
    const [M, N, K] = [96, 48, 64];
    const a = randomArray(M * K, 1);
    const b = randomArray(K * N, 2);
    const bench = benchOf(gpu, { a, b, c1: M * N, c2: M * N, sums: N });
    const { t, ctx } = bench;
    const dispatches = [...gemm(ctx, t.a, t.b, t.c1, { M, N, K }), ...gemm(ctx, t.a, t.b, t.c2, { M, N, K }), ...columnReduce(ctx, t.c1, t.sums, { rows: M, cols: N })];
    const profile = await profileDispatches(bench.arena, dispatches);
    expect(profile.dispatches).toBe(3);
    expect(profile.kernels.map((k) => [k.kernel, k.dispatches]).sort()).toEqual([['column reduce', 1], ['gemm', 2]]);
    expect(profile.totalMs).toBeGreaterThan(0);
    expect(profile.kernels.reduce((s, k) => s + k.ms, 0)).toBeCloseTo(profile.totalMs, 6);
    expect(profile.kernels.reduce((s, k) => s + k.share, 0)).toBeCloseTo(1, 6);
    // sorted by time, and the work was done: the column sums of C = A·B
    expect(profile.kernels[0].ms).toBeGreaterThanOrEqual(profile.kernels[1].ms);
    const [c1, c2, sums] = await bench.read('c1', 'c2', 'sums');
    expect(Array.from(c2)).toEqual(Array.from(c1));
    let want = 0;
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) want += a[m * K + k] * b[k * N];
    expect(sums[0]).toBeCloseTo(want, 3);
    expect(gpu.error()).toBeNull();
    bench.destroy();
  });
});
