import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// registers the gradient functions (as the trainer does by loading tf.layers)
import '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import {
  depthwiseFilterGrad,
  depthwiseFilterGradScratch,
  depthwiseForward,
  depthwiseGeometry,
  depthwiseInputGrad,
  paddedAxis,
  type DepthwiseShape,
} from '../../../main/engine/kernels/depthwise';
import { benchOf, deviceRequired, maxRelativeError, randomArray, reductionPaths, testDevice } from '../../fixtures/engine-gpu';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** TF's padding rules, written out here rather than taken from the kernel module. */
function tfAxis(size: number, s: DepthwiseShape): [number, number] {
  if (s.padding === 'same') {
    const out = Math.ceil(size / s.stride);
    return [out, Math.floor(Math.max((out - 1) * s.stride + s.k - size, 0) / 2)];
  }
  const pad = s.padding === 'valid' ? 0 : s.padding;
  return [Math.floor((size + 2 * pad - s.k) / s.stride) + 1, pad];
}

/** float64 reference: forward, input gradient and filter gradient by direct loops over every tap. */
function reference(s: DepthwiseShape, x: Float32Array, f: Float32Array, dy: Float32Array) {
  const [oh, padTop] = tfAxis(s.h, s);
  const [ow, padLeft] = tfAxis(s.w, s);
  const y = new Float64Array(s.n * oh * ow * s.c);
  const dx = new Float64Array(x.length);
  const df = new Float64Array(f.length);
  for (let n = 0; n < s.n; n++)
    for (let r = 0; r < oh; r++)
      for (let q = 0; q < ow; q++)
        for (let c = 0; c < s.c; c++) {
          const o = ((n * oh + r) * ow + q) * s.c + c;
          for (let ki = 0; ki < s.k; ki++)
            for (let kj = 0; kj < s.k; kj++) {
              const ih = r * s.stride + ki - padTop;
              const iw = q * s.stride + kj - padLeft;
              if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
              const xi = ((n * s.h + ih) * s.w + iw) * s.c + c;
              const fi = (ki * s.k + kj) * s.c + c;
              y[o] += x[xi] * f[fi];
              dx[xi] += dy[o] * f[fi];
              df[fi] += dy[o] * x[xi];
            }
        }
  return { y, dx, df };
}

async function device() {
  const gpu = await testDevice();
  if (typeof gpu === 'string' && deviceRequired()) throw new Error(gpu);
  return gpu;
}

describe('engine depthwise convolution (WebGPU; SwiftShader without a GPU)', () => {
  it('SAME padding follows TF: ceil(in / stride), the odd pixel after', () => {
    expect(paddedAxis(9, 3, 2, 'same')).toEqual({ out: 5, before: 1 });
    expect(paddedAxis(10, 3, 2, 'same')).toEqual({ out: 5, before: 0 });
    expect(paddedAxis(9, 5, 1, 'same')).toEqual({ out: 9, before: 2 });
    expect(paddedAxis(10, 5, 2, 'same')).toEqual({ out: 5, before: 1 });
    expect(paddedAxis(9, 3, 2, 'valid')).toEqual({ out: 4, before: 0 });
    expect(paddedAxis(9, 3, 2, 1)).toEqual({ out: 5, before: 1 });
  });

  const cases: { name: string; s: DepthwiseShape; chunks?: number; swish?: boolean }[] = [
    { name: '3×3 stride 1 SAME, swish fused', s: { n: 2, h: 9, w: 9, c: 7, k: 3, stride: 1, padding: 'same' }, swish: true },
    { name: '3×3 stride 2 SAME, filter grad over 3 chunks', s: { n: 2, h: 9, w: 9, c: 7, k: 3, stride: 2, padding: 'same' }, chunks: 3 },
    { name: '5×5 stride 1 SAME, 37 channels (two channel tiles), 4 chunks', s: { n: 2, h: 7, w: 9, c: 37, k: 5, stride: 1, padding: 'same' }, chunks: 4 },
    { name: '5×5 stride 2 SAME, even input', s: { n: 2, h: 10, w: 10, c: 7, k: 5, stride: 2, padding: 'same' } },
    { name: '3×3 stride 2 after a symmetric 1-pixel pad', s: { n: 1, h: 9, w: 8, c: 5, k: 3, stride: 2, padding: 1 } },
    { name: '5×5 stride 2 VALID', s: { n: 2, h: 9, w: 9, c: 3, k: 5, stride: 2, padding: 'valid' } },
  ];

  for (const { name, s, chunks, swish } of cases) {
    it(`${name}: forward, input gradient and filter gradient match float64`, async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      const { oh, ow } = depthwiseGeometry(s);
      expect([oh, ow]).toEqual([tfAxis(s.h, s)[0], tfAxis(s.w, s)[0]]);
      const x = randomArray(s.n * s.h * s.w * s.c, 11);
      const f = randomArray(s.k * s.k * s.c, 12);
      const dy = randomArray(s.n * oh * ow * s.c, 13);
      const scratch = depthwiseFilterGradScratch(s, { chunks });
      if (chunks) expect(scratch).toBe(chunks * s.k * s.k * s.c);
      for (const path of reductionPaths(gpu)) {
        const b = benchOf(gpu, { x, f, dy, y: dy.length, dx: x.length, df: f.length, ...(scratch > 0 ? { scratch } : {}) }, path.subgroupSize);
        b.run([
          depthwiseForward(b.ctx, b.t.x, b.t.f, b.t.y, s, swish ? 'swish' : 'none'),
          depthwiseInputGrad(b.ctx, b.t.dy, b.t.f, b.t.dx, s),
          ...depthwiseFilterGrad(b.ctx, b.t.x, b.t.dy, b.t.df, b.t.scratch ?? null, s, { chunks }),
        ]);
        const [y, dx, df] = await b.read('y', 'dx', 'df');
        expect(gpu.error()).toBeNull();
        const ref = reference(s, x, f, dy);
        const yRef = swish ? ref.y.map((v) => v * sigmoid(v)) : ref.y;
        expect(maxRelativeError(y, yRef), path.name).toBeLessThan(1e-4);
        expect(maxRelativeError(dx, ref.dx), path.name).toBeLessThan(1e-4);
        expect(maxRelativeError(df, ref.df), path.name).toBeLessThan(1e-4);
        // the references are not trivially zero: a kernel that wrote nothing would fail
        expect(Math.max(...Array.from(df, Math.abs))).toBeGreaterThan(0.5);
        b.destroy();
      }
    });
  }

  it('equals TF.js CPU depthwiseConv2d and its gradients (5×5 stride 2 SAME on an even input, odd pad split)', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    await tf.setBackend('cpu');
    const s: DepthwiseShape = { n: 2, h: 10, w: 8, c: 5, k: 5, stride: 2, padding: 'same' };
    const { oh, ow } = depthwiseGeometry(s);
    const x = randomArray(s.n * s.h * s.w * s.c, 14);
    const f = randomArray(s.k * s.k * s.c, 15);
    const dy = randomArray(s.n * oh * ow * s.c, 16);
    const xt = tf.tensor4d(x, [s.n, s.h, s.w, s.c]);
    const ft = tf.tensor4d(f, [s.k, s.k, s.c, 1]);
    const dyt = tf.tensor4d(dy, [s.n, oh, ow, s.c]);
    const conv = (a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s.stride, 'same');
    const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), dyt)))([xt, ft]);
    const want = { y: await conv(xt, ft).data(), dx: await gx.data(), df: await gf.data() };
    tf.dispose([xt, ft, dyt, gx, gf]);
    const b = benchOf(gpu, { x, f, dy, y: dy.length, dx: x.length, df: f.length });
    b.run([depthwiseForward(b.ctx, b.t.x, b.t.f, b.t.y, s), depthwiseInputGrad(b.ctx, b.t.dy, b.t.f, b.t.dx, s), ...depthwiseFilterGrad(b.ctx, b.t.x, b.t.dy, b.t.df, null, s)]);
    const [y, dx, df] = await b.read('y', 'dx', 'df');
    expect(gpu.error()).toBeNull();
    expect(maxRelativeError(y, want.y)).toBeLessThan(1e-5);
    expect(maxRelativeError(dx, want.dx)).toBeLessThan(1e-5);
    expect(maxRelativeError(df, want.df)).toBeLessThan(1e-5);
    b.destroy();
  });

  it('asks for scratch when it splits the positions, and refuses to run without it', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    const s: DepthwiseShape = { n: 2, h: 9, w: 9, c: 7, k: 3, stride: 1, padding: 'same' };
    expect(depthwiseFilterGradScratch(s)).toBe(0);
    const b = benchOf(gpu, { x: 2 * 81 * 7, dy: 2 * 81 * 7, df: 63 });
    expect(() => depthwiseFilterGrad(b.ctx, b.t.x, b.t.dy, b.t.df, null, s, { chunks: 2 })).toThrow(/scratch needs 126/);
    b.destroy();
  });
});
