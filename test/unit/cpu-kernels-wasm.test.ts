/**
 * The WASM training kernels (main/backend/cpu-kernels/wasm-training.ts): the wasm backend lacks
 * Conv2DBackpropFilter and the depthwise gradients; with them registered, its gradients must
 * equal the stock JS CPU kernels' within float32 tolerance (1e-4 relative; XNNPACK sums in float32
 * in another order than the CPU kernels).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../main/backend/cpu-kernels/wasm-training';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
type Inputs = Record<string, { values: Float32Array; shape: number[] }>;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

afterAll(async () => {
  unregisterWasmTrainingKernels();
  await tf.setBackend('cpu');
});

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function data(shape: number[], next: () => number): { values: Float32Array; shape: number[] } {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = next() * 2 - 1;
  return { values, shape };
}

async function runOn(backend: 'cpu' | 'wasm', kernel: string, inputs: Inputs, attrs: Record<string, unknown>): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, d] of Object.entries(inputs)) tensors[name] = tf.tensor(d.values, d.shape, 'float32');
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: out.dataSync() as Float32Array, shape: out.shape };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

function expectClose(label: string, ours: { values: Float32Array; shape: number[] }, stock: { values: Float32Array; shape: number[] }, rtol: number): void {
  expect(ours.shape, `${label}: shape`).toEqual(stock.shape);
  let sq = 0;
  for (const v of stock.values) sq += v * v;
  const rms = Math.sqrt(sq / Math.max(1, stock.values.length));
  let worst = 0;
  for (let i = 0; i < stock.values.length; i++) {
    const err = Math.abs(ours.values[i] - stock.values[i]) / (Math.abs(stock.values[i]) + rms || 1);
    if (!(err <= worst)) worst = err;
  }
  expect(worst, `${label}: worst relative error`).toBeLessThanOrEqual(rtol);
}

describe('WASM training kernels', () => {
  it('the wasm backend alone has no Conv2DBackpropFilter (why this module exists)', async () => {
    unregisterWasmTrainingKernels();
    const next = random(1);
    await expect(runOn('wasm', 'Conv2DBackpropFilter', { x: data([1, 3, 3, 2], next), dy: data([1, 3, 3, 4], next) }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, 2, 4] })).rejects.toThrow();
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
  });

  const convCases: { x: number[]; k: number; s: number; outC: number; pad: Pad }[] = [
    { x: [2, 7, 9, 5], k: 1, s: 1, outC: 7, pad: 'same' }, // XNNPACK BatchMatMul path
    { x: [3, 12, 12, 40], k: 1, s: 1, outC: 70, pad: 'valid' }, // XNNPACK BatchMatMul path, bigger
    { x: [2, 9, 7, 3], k: 3, s: 2, outC: 8, pad: 'same' }, // im2col chunks (JS) + BatchMatMul
    { x: [4, 24, 24, 64], k: 3, s: 1, outC: 3, pad: 'same' }, // more than one im2col chunk
    { x: [2, 8, 8, 4], k: 5, s: 1, outC: 6, pad: [[0, 0], [1, 2], [2, 1], [0, 0]] },
    { x: [2, 5, 5, 4], k: 1, s: 2, outC: 6, pad: 'valid' },
  ];
  convCases.forEach((c, n) => {
    it(`Conv2DBackpropFilter and Conv2DBackpropInput x[${c.x}] k${c.k} s${c.s} → ${c.outC}`, async () => {
      registerWasmTrainingKernels();
      const next = random(10 + n);
      const filterShape = [c.k, c.k, c.x[3], c.outC];
      const info = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], filterShape as [number, number, number, number], c.s, 1, c.pad);
      const x = data(c.x, next);
      const dy = data(info.outShape, next);
      const filter = data(filterShape, next);
      const bpf = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape };
      expectClose('Conv2DBackpropFilter', await runOn('wasm', 'Conv2DBackpropFilter', { x, dy }, bpf), await runOn('cpu', 'Conv2DBackpropFilter', { x, dy }, bpf), 1e-4);
      const bpi = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
      expectClose('Conv2DBackpropInput', await runOn('wasm', 'Conv2DBackpropInput', { dy, filter }, bpi), await runOn('cpu', 'Conv2DBackpropInput', { dy, filter }, bpi), 1e-4);
    });
  });

  it('depthwise gradients and Tile', async () => {
    registerWasmTrainingKernels();
    const next = random(99);
    for (const [xShape, k, s, mult] of [[[2, 9, 7, 6], 3, 2, 1], [[2, 8, 8, 3], 5, 1, 2]] as const) {
      const filterShape = [k, k, xShape[3], mult];
      const info = tf.backend_util.computeConv2DInfo([...xShape] as [number, number, number, number], filterShape as [number, number, number, number], s, 1, 'same', undefined, true);
      const x = data([...xShape], next);
      const dy = data(info.outShape, next);
      const filter = data(filterShape, next);
      const attrs = { strides: s, pad: 'same', dilations: 1 };
      const bpf = { ...attrs, filterShape };
      expectClose('DepthwiseConv2dNativeBackpropFilter', await runOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, bpf), await runOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, bpf), 1e-4);
      const bpi = { ...attrs, inputShape: [...xShape] };
      expectClose('DepthwiseConv2dNativeBackpropInput', await runOn('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, bpi), await runOn('cpu', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, bpi), 1e-4);
    }
    const t = data([1, 1, 1, 5], next);
    expectClose('Tile', await runOn('wasm', 'Tile', { x: t }, { reps: [2, 3, 4, 1] }), await runOn('cpu', 'Tile', { x: t }, { reps: [2, 3, 4, 1] }), 0);
  });

  it('a small conv / depthwise / squeeze-excite net trains on wasm with the same gradients as the stock CPU kernels', async () => {
    registerWasmTrainingKernels();
    const next = random(4242);
    const init = { x: data([3, 13, 11, 3], next), w1: data([3, 3, 3, 8], next), dw: data([5, 5, 8, 1], next), w2: data([1, 1, 8, 12], next) };
    const gradients = async (backend: 'cpu' | 'wasm'): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(init.x.values, init.x.shape as [number, number, number, number]);
      const vars = [init.w1, init.dw, init.w2].map((d) => tf.variable(tf.tensor(d.values, d.shape)));
      const [w1, dw, w2] = vars as unknown as tf.Tensor4D[];
      const { value, grads } = tf.variableGrads(() =>
        tf.tidy(() => {
          let h: tf.Tensor4D = tf.conv2d(x, w1, 2, 'same');
          const { mean, variance } = tf.moments(h, [0, 1, 2]);
          h = tf.batchNorm(h, mean, variance, tf.zeros([8]), tf.ones([8]), 1e-3) as tf.Tensor4D;
          h = tf.mul(h, tf.sigmoid(h));
          h = tf.depthwiseConv2d(h, dw, 1, 'same');
          h = tf.mul(h, tf.sigmoid(tf.mean(h, [1, 2], true)));
          h = tf.conv2d(h, w2, 1, 'same');
          return tf.sum(tf.square(h)) as tf.Scalar;
        }),
      );
      const out = [value, ...vars.map((v) => grads[v.name])].map((t) => t.dataSync() as Float32Array);
      tf.dispose([x, value, ...vars, ...Object.values(grads)]);
      return out;
    };
    const stock = await gradients('cpu');
    const ours = await gradients('wasm');
    ours.forEach((values, i) => expectClose(`gradient ${i}`, { values, shape: [values.length] }, { values: stock[i], shape: [stock[i].length] }, 1e-4));
  });
});
