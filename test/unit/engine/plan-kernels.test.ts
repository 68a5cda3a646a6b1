import { describe, expect, it } from 'vitest';
import { accumulateInto, addTensors, channelAffine, copyTensor, softmaxRows } from '../../../main/engine/plan/plan-kernels';
import { benchOf, deviceRequired, maxRelativeError, randomArray, testDevice } from '../../fixtures/engine-gpu';

async function device() {
  const gpu = await testDevice();
  if (typeof gpu === 'string' && deviceRequired()) throw new Error(gpu);
  return gpu;
}

describe("the step plan's own elementwise kernels (WebGPU; SwiftShader without a GPU)", () => {
  it('preprocess, add, accumulate, copy and row softmax equal their JS reference; two launches of a kind share one pipeline', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    const n = 3 * 5 * 3;
    const x = randomArray(n, 1);
    const y = randomArray(n, 2);
    const k = Float32Array.of(0.5, -2, 3);
    const b = Float32Array.of(1, 0.25, -1);
    const rows = 4;
    const classes = 5;
    const z = randomArray(rows * classes, 3).map((v) => 4 * v);
    const bench = benchOf(gpu, { x, y, k, b, affine: n, sum: n, sum2: n, acc: y, copy: n, z, p: rows * classes });
    const { ctx, t } = bench;
    const dispatches = [
      channelAffine(ctx, t.x, t.k, t.b, t.affine, 3),
      addTensors(ctx, t.x, t.y, t.sum, n),
      addTensors(ctx, t.y, t.x, t.sum2, n),
      accumulateInto(ctx, t.x, t.acc, n),
      copyTensor(ctx, t.x, t.copy, n),
      softmaxRows(ctx, t.z, t.p, rows, classes),
    ];
    expect(dispatches[1].pipeline).toBe(dispatches[2].pipeline);
    bench.run(dispatches);
    const [affine, sum, sum2, acc, copy, p] = await bench.read('affine', 'sum', 'sum2', 'acc', 'copy', 'p');
    expect(gpu.error()).toBeNull();
    expect(maxRelativeError(affine, x.map((v, i) => v * k[i % 3] + b[i % 3]))).toBeLessThan(1e-6);
    expect(maxRelativeError(sum, x.map((v, i) => v + y[i]))).toBeLessThan(1e-6);
    expect(maxRelativeError(sum2, x.map((v, i) => v + y[i]))).toBeLessThan(1e-6);
    expect(maxRelativeError(acc, x.map((v, i) => v + y[i]))).toBeLessThan(1e-6);
    expect(Array.from(copy)).toEqual(Array.from(x));
    const want = new Float32Array(rows * classes);
    for (let r = 0; r < rows; r++) {
      const row = z.subarray(r * classes, (r + 1) * classes);
      const mx = Math.max(...row);
      const e = Array.from(row, (v) => Math.exp(v - mx));
      const s = e.reduce((a, v) => a + v, 0);
      e.forEach((v, c) => (want[r * classes + c] = v / s));
    }
    expect(maxRelativeError(p, want)).toBeLessThan(1e-6);
    bench.destroy();
  });
});
