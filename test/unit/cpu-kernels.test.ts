/**
 * The fast CPU kernels (main/backend/cpu-kernels) against the stock tfjs-backend-cpu kernels they
 * replace, on seeded random data: convolutions with strides 1/2, kernels 1/3/5, 'same'/'valid'/
 * explicit/numeric padding, batch > 1, odd sizes and channel counts that are not multiples of the
 * GEMM tile; depthwise with multipliers 1 and 2; broadcast arithmetic; reductions.
 * Each fast kernel is called directly (so a silent fallback to the stock kernel cannot pass) and
 * compared with the stock kernel within float32 tolerance (1e-4 relative).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAST_CPU_KERNEL_NAMES,
  fastCpuKernelsRegistered,
  registerFastCpuKernels,
  stockCpuKernel,
  unregisterFastCpuKernels,
} from '../../main/backend/cpu-kernels';
import { binaryKernel } from '../../main/backend/cpu-kernels/broadcast-binary';
import { conv2d, fusedConv2d } from '../../main/backend/cpu-kernels/conv2d';
import { conv2dBackpropFilter } from '../../main/backend/cpu-kernels/conv2d-backprop-filter';
import { conv2dBackpropInput } from '../../main/backend/cpu-kernels/conv2d-backprop-input';
import { depthwiseConv2d, depthwiseConv2dBackpropFilter, depthwiseConv2dBackpropInput } from '../../main/backend/cpu-kernels/depthwise-conv2d';
import { mean, sum } from '../../main/backend/cpu-kernels/reduce';
import type { CpuBackendLike, FastKernel } from '../../main/backend/cpu-kernels/tensor-data';
import { tile } from '../../main/backend/cpu-kernels/tile';
import { rsqrt, sigmoid, sqrt } from '../../main/backend/cpu-kernels/unary';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

afterAll(() => {
  unregisterFastCpuKernels();
});

/** mulberry32: the same numbers on every run. */
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

function randomTensor(shape: number[], next: () => number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = next() * 2 - 1;
  return tf.tensor(values, shape, 'float32');
}

interface Compared {
  ours: Float32Array;
  stock: Float32Array;
  oursShape: number[];
  stockShape: number[];
}

/** Run the fast kernel (which must not decline) and the stock kernel on the same inputs. */
function runBoth(name: string, fast: FastKernel, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): Compared {
  const backend = tf.backend();
  const ours = fast({ inputs, backend: backend as unknown as CpuBackendLike, attrs: attrs as tf.NamedAttrMap });
  expect(ours, `${name}: the fast kernel declined a case it should cover`).not.toBeNull();
  const stock = stockCpuKernel(name)({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  const oursT = tf.engine().makeTensorFromTensorInfo(ours!);
  const stockT = tf.engine().makeTensorFromTensorInfo(stock);
  const result = { ours: oursT.dataSync() as Float32Array, stock: stockT.dataSync() as Float32Array, oursShape: oursT.shape, stockShape: stockT.shape };
  tf.dispose([oursT, stockT]);
  return result;
}

/** |ours − stock| ≤ 1e-4·(|stock| + rms(stock)): float32 rounding, allowing for sums that cancel. */
function expectClose(label: string, { ours, stock, oursShape, stockShape }: Compared, rtol = 1e-4): void {
  expect(oursShape, `${label}: shape`).toEqual(stockShape);
  expect(ours.length).toBe(stock.length);
  let sq = 0;
  for (const v of stock) sq += v * v;
  const rms = Math.sqrt(sq / Math.max(1, stock.length));
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < stock.length; i++) {
    const err = Math.abs(ours[i] - stock[i]) / (Math.abs(stock[i]) + rms || 1);
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  expect(worst, `${label}: worst relative error at ${worstAt}: ours ${ours[worstAt]} vs stock ${stock[worstAt]}`).toBeLessThanOrEqual(rtol);
}

interface ConvCase {
  batch: number;
  height: number;
  width: number;
  inC: number;
  outC: number;
  kernel: number;
  stride: number;
  pad: Pad;
  dilation?: number;
}

const CONV_CASES: ConvCase[] = [
  { batch: 2, height: 7, width: 9, inC: 5, outC: 7, kernel: 1, stride: 1, pad: 'same' },
  { batch: 3, height: 5, width: 5, inC: 4, outC: 6, kernel: 1, stride: 2, pad: 'valid' },
  { batch: 2, height: 9, width: 7, inC: 3, outC: 8, kernel: 3, stride: 2, pad: 'same' },
  { batch: 2, height: 8, width: 8, inC: 3, outC: 5, kernel: 3, stride: 1, pad: 'valid' },
  { batch: 1, height: 11, width: 9, inC: 6, outC: 10, kernel: 5, stride: 2, pad: 'same' },
  { batch: 2, height: 7, width: 6, inC: 2, outC: 3, kernel: 5, stride: 1, pad: 'same' },
  { batch: 2, height: 9, width: 9, inC: 4, outC: 9, kernel: 3, stride: 2, pad: [[0, 0], [1, 0], [0, 2], [0, 0]] },
  { batch: 2, height: 6, width: 7, inC: 3, outC: 4, kernel: 3, stride: 1, pad: 1 },
  { batch: 2, height: 13, width: 13, inC: 7, outC: 13, kernel: 1, stride: 1, pad: 'valid' },
  // Larger than one GEMM depth slice (256), one column panel (64) and one im2col chunk.
  { batch: 2, height: 12, width: 12, inC: 40, outC: 70, kernel: 1, stride: 1, pad: 'same' },
  { batch: 2, height: 12, width: 12, inC: 40, outC: 70, kernel: 3, stride: 1, pad: 'same' },
];

function describeConv(c: ConvCase): string {
  const pad = typeof c.pad === 'object' ? 'explicit' : c.pad;
  return `x[${c.batch},${c.height},${c.width},${c.inC}] k${c.kernel} s${c.stride} ${pad} →${c.outC}${c.dilation ? ` d${c.dilation}` : ''}`;
}

function convOutShape(c: ConvCase): number[] {
  const info = tf.backend_util.computeConv2DInfo([c.batch, c.height, c.width, c.inC], [c.kernel, c.kernel, c.inC, c.outC], c.stride, c.dilation ?? 1, c.pad);
  return info.outShape;
}

describe('Conv2D family against the stock kernels', () => {
  CONV_CASES.forEach((c, n) => {
    it(`Conv2D, FusedConv2D, Conv2DBackpropFilter, Conv2DBackpropInput: ${describeConv(c)}`, () => {
      const next = random(100 + n);
      const x = randomTensor([c.batch, c.height, c.width, c.inC], next);
      const filter = randomTensor([c.kernel, c.kernel, c.inC, c.outC], next);
      const dy = randomTensor(convOutShape(c), next);
      const bias = randomTensor([c.outC], next);
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined };
      expectClose('Conv2D', runBoth('Conv2D', conv2d, { x, filter }, attrs));
      const activation = (['linear', 'relu', 'sigmoid', 'elu'] as const)[n % 4];
      expectClose(`FusedConv2D ${activation}`, runBoth('FusedConv2D', fusedConv2d, { x, filter, bias }, { ...attrs, activation, leakyreluAlpha: 0.2 }));
      expectClose(
        'Conv2DBackpropFilter',
        runBoth('Conv2DBackpropFilter', conv2dBackpropFilter, { x, dy }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: filter.shape }),
      );
      expectClose(
        'Conv2DBackpropInput',
        runBoth('Conv2DBackpropInput', conv2dBackpropInput, { dy, filter }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: x.shape }),
      );
      tf.dispose([x, filter, dy, bias]);
    });
  });

  it('Conv2D with dilation 2 and FusedConv2D with leakyrelu and a scalar bias', () => {
    const c: ConvCase = { batch: 2, height: 9, width: 10, inC: 3, outC: 5, kernel: 3, stride: 1, pad: 'same', dilation: 2 };
    const next = random(7);
    const x = randomTensor([c.batch, c.height, c.width, c.inC], next);
    const filter = randomTensor([3, 3, 3, 5], next);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 2 };
    expectClose('Conv2D d2', runBoth('Conv2D', conv2d, { x, filter }, attrs));
    const bias = randomTensor([1], next);
    expectClose('FusedConv2D leakyrelu', runBoth('FusedConv2D', fusedConv2d, { x, filter, bias }, { ...attrs, dilations: 1, activation: 'leakyrelu', leakyreluAlpha: 0.3 }));
    tf.dispose([x, filter, bias]);
  });

  it('declines NCHW and prelu, and the registered kernel then runs the stock one', () => {
    const next = random(9);
    const x = randomTensor([1, 2, 4, 4], next);
    const filter = randomTensor([1, 1, 2, 3], next);
    const backend = tf.backend() as unknown as CpuBackendLike;
    expect(conv2d({ inputs: { x, filter }, backend, attrs: { strides: 1, pad: 'same', dataFormat: 'NCHW', dilations: 1 } })).toBeNull();
    const alpha = randomTensor([3], next);
    expect(fusedConv2d({ inputs: { x, filter, preluActivationWeights: alpha }, backend, attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'prelu' } })).toBeNull();
    tf.dispose([x, filter, alpha]);
  });
});

interface DepthwiseCase {
  batch: number;
  size: [number, number];
  channels: number;
  multiplier: number;
  kernel: number;
  stride: number;
  pad: Pad;
  dilation?: number;
}

const DEPTHWISE_CASES: DepthwiseCase[] = [
  { batch: 2, size: [7, 9], channels: 5, multiplier: 1, kernel: 3, stride: 1, pad: 'same' },
  { batch: 3, size: [9, 9], channels: 6, multiplier: 1, kernel: 3, stride: 2, pad: 'same' },
  { batch: 2, size: [11, 8], channels: 7, multiplier: 1, kernel: 5, stride: 2, pad: 'same' },
  { batch: 2, size: [8, 8], channels: 4, multiplier: 2, kernel: 5, stride: 1, pad: 'valid' },
  { batch: 2, size: [9, 7], channels: 3, multiplier: 2, kernel: 3, stride: 2, pad: [[0, 0], [1, 1], [0, 1], [0, 0]] },
  { batch: 1, size: [6, 6], channels: 3, multiplier: 1, kernel: 1, stride: 1, pad: 'valid' },
  { batch: 2, size: [9, 10], channels: 4, multiplier: 1, kernel: 3, stride: 1, pad: 'same', dilation: 2 },
];

describe('Depthwise convolution against the stock kernels', () => {
  DEPTHWISE_CASES.forEach((c, n) => {
    const pad = typeof c.pad === 'object' ? 'explicit' : c.pad;
    it(`DepthwiseConv2dNative and both gradients: x[${c.batch},${c.size},${c.channels}]×${c.multiplier} k${c.kernel} s${c.stride} ${pad}${c.dilation ? ` d${c.dilation}` : ''}`, () => {
      const next = random(200 + n);
      const x = randomTensor([c.batch, c.size[0], c.size[1], c.channels], next);
      const filter = randomTensor([c.kernel, c.kernel, c.channels, c.multiplier], next);
      const dilations = c.dilation ?? 1;
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], c.stride, dilations, c.pad, undefined, true);
      const dy = randomTensor(info.outShape, next);
      const attrs = { strides: c.stride, pad: c.pad, dilations, dataFormat: 'NHWC' };
      expectClose('DepthwiseConv2dNative', runBoth('DepthwiseConv2dNative', depthwiseConv2d, { x, filter }, attrs));
      if (dilations !== 1) {
        // The stock gradient kernels ignore dilations (tfjs-core never asks for them); ours decline.
        const backend = tf.backend() as unknown as CpuBackendLike;
        expect(depthwiseConv2dBackpropFilter({ inputs: { x, dy }, backend, attrs: { ...attrs, filterShape: filter.shape } })).toBeNull();
        expect(depthwiseConv2dBackpropInput({ inputs: { dy, filter }, backend, attrs: { ...attrs, inputShape: x.shape } })).toBeNull();
        tf.dispose([x, filter, dy]);
        return;
      }
      expectClose(
        'DepthwiseConv2dNativeBackpropFilter',
        runBoth('DepthwiseConv2dNativeBackpropFilter', depthwiseConv2dBackpropFilter, { x, dy }, { ...attrs, filterShape: filter.shape }),
      );
      expectClose(
        'DepthwiseConv2dNativeBackpropInput',
        runBoth('DepthwiseConv2dNativeBackpropInput', depthwiseConv2dBackpropInput, { dy, filter }, { ...attrs, inputShape: x.shape }),
      );
      tf.dispose([x, filter, dy]);
    });
  });
});

const BROADCAST_PAIRS: [number[], number[]][] = [
  [[2, 5, 7, 6], [2, 5, 7, 6]],
  [[3, 5, 7, 6], [3, 1, 1, 6]],
  [[3, 1, 1, 6], [3, 5, 7, 6]],
  [[4, 3, 5, 2], [4, 1, 1, 1]],
  [[2, 3, 6], [6]],
  [[6], [2, 3, 6]],
  [[2, 3, 4], []],
  [[], [5, 2]],
  [[2, 1, 4], [3, 1]],
  [[2, 3, 1], [1, 3, 4]],
  [[1, 1], [1]],
  [[5, 1, 3], [5, 4, 3]],
  [[2, 0, 3], [3]],
];

describe('Broadcast arithmetic against the stock kernels (bit-identical)', () => {
  const ops = [
    ['Add', binaryKernel('add')],
    ['Sub', binaryKernel('sub')],
    ['Multiply', binaryKernel('mul')],
    ['RealDiv', binaryKernel('div')],
  ] as const;
  for (const [name, kernel] of ops) {
    it(`${name} on ${BROADCAST_PAIRS.length} shape pairs`, () => {
      const next = random(name.length);
      for (const [aShape, bShape] of BROADCAST_PAIRS) {
        const a = randomTensor(aShape, next);
        const b = randomTensor(bShape, next);
        const r = runBoth(name, kernel, { a, b }, {});
        expect(r.oursShape, `${name} ${aShape}·${bShape}`).toEqual(r.stockShape);
        expect(Array.from(r.ours), `${name} ${aShape}·${bShape}`).toEqual(Array.from(r.stock));
        tf.dispose([a, b]);
      }
    });
  }

  it('declines int32 inputs', () => {
    const a = tf.tensor([1, 2, 3], [3], 'int32');
    const b = tf.tensor([4, 5, 6], [3], 'int32');
    expect(binaryKernel('add')({ inputs: { a, b }, backend: tf.backend() as unknown as CpuBackendLike, attrs: {} })).toBeNull();
    tf.dispose([a, b]);
  });
});

const REDUCTIONS: [number[], number | number[], boolean][] = [
  [[3, 5, 7, 6], [0, 1, 2], false],
  [[3, 5, 7, 6], [0, 1, 2], true],
  [[3, 5, 7, 6], [1, 2], true],
  [[3, 5, 7, 6], [3], false],
  [[3, 5, 7, 6], -1, true],
  [[3, 5, 7, 6], [0], false],
  [[3, 5, 7, 6], [0, 2], false],
  [[3, 5, 7, 6], [0, 1, 2, 3], false],
  [[4, 1, 1, 9], [1, 2], false],
  [[7], [0], false],
  [[2, 1, 3], [1], true],
];

describe('Sum and Mean against the stock kernels', () => {
  for (const [name, kernel] of [['Sum', sum], ['Mean', mean]] as const) {
    it(`${name} over ${REDUCTIONS.length} shape/axes cases`, () => {
      const next = random(name.length + 50);
      for (const [shape, axis, keepDims] of REDUCTIONS) {
        const x = randomTensor(shape, next);
        expectClose(`${name} ${shape} axis ${axis} keepDims ${keepDims}`, runBoth(name, kernel, { x }, { axis, keepDims }), 1e-5);
        tf.dispose(x);
      }
    });
  }
});

describe('Tile and unary kernels against the stock kernels (bit-identical)', () => {
  const TILES: [number[], number[]][] = [
    [[1, 1, 1, 5], [2, 3, 4, 1]],
    [[2, 3], [2, 2]],
    [[3], [4]],
    [[2, 1, 3], [1, 4, 2]],
    [[2, 2, 1, 2], [3, 1, 5, 2]],
    [[2, 3], [1, 1]],
    [[], []],
    [[2, 0, 3], [2, 2, 1]],
  ];
  it(`Tile on ${TILES.length} shape/reps cases`, () => {
    const next = random(77);
    for (const [shape, reps] of TILES) {
      const x = randomTensor(shape, next);
      const r = runBoth('Tile', tile, { x }, { reps });
      expect(r.oursShape, `${shape} × ${reps}`).toEqual(r.stockShape);
      expect(Array.from(r.ours), `${shape} × ${reps}`).toEqual(Array.from(r.stock));
      tf.dispose(x);
    }
  });

  for (const [name, kernel] of [['Sigmoid', sigmoid], ['Sqrt', sqrt], ['Rsqrt', rsqrt]] as const) {
    it(`${name} (including negative inputs, which give NaN under a square root)`, () => {
      const next = random(name.length + 3);
      const x = tf.mul(randomTensor([3, 5, 7, 4], next), 12);
      const r = runBoth(name, kernel, { x }, {});
      expect(r.oursShape).toEqual(r.stockShape);
      expect(Array.from(r.ours)).toEqual(Array.from(r.stock));
      tf.dispose(x);
    });
  }
});

describe('Registration', () => {
  it('replaces the stock kernels, is idempotent, and restores them', () => {
    const stockConv = tf.getKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc;
    registerFastCpuKernels();
    registerFastCpuKernels();
    expect(fastCpuKernelsRegistered()).toBe(true);
    for (const name of FAST_CPU_KERNEL_NAMES) expect(tf.getKernel(name, 'cpu')!.kernelFunc, name).not.toBe(stockCpuKernel(name));
    unregisterFastCpuKernels();
    expect(fastCpuKernelsRegistered()).toBe(false);
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc).toBe(stockConv);
    registerFastCpuKernels();
    expect(fastCpuKernelsRegistered()).toBe(true);
  });

  it('int32 arithmetic still works through the registered kernels (stock fallback)', () => {
    registerFastCpuKernels();
    const r = tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([10], [1], 'int32'));
    expect(r.dtype).toBe('int32');
    expect(Array.from(r.dataSync())).toEqual([11, 12, 13]);
  });

  it('gives the same loss gradients as the stock kernels for a small conv / depthwise / squeeze-excite net', () => {
    const next = random(4242);
    const x = randomTensor([3, 13, 11, 3], next);
    const w1 = tf.variable(randomTensor([3, 3, 3, 8], next));
    const dw = tf.variable(randomTensor([5, 5, 8, 1], next));
    const w2 = tf.variable(randomTensor([1, 1, 8, 12], next));
    const gamma = tf.variable(randomTensor([12], next));
    const loss = (): tf.Scalar =>
      tf.tidy(() => {
        let h: tf.Tensor4D = tf.conv2d(x as tf.Tensor4D, w1 as unknown as tf.Tensor4D, 2, 'same');
        const { mean: m, variance } = tf.moments(h, [0, 1, 2]);
        h = tf.batchNorm(h, m, variance, tf.zeros([8]), tf.ones([8]), 1e-3) as tf.Tensor4D;
        h = tf.mul(h, tf.sigmoid(h));
        h = tf.depthwiseConv2d(h, dw as unknown as tf.Tensor4D, 1, 'same');
        const se = tf.sigmoid(tf.mean(h, [1, 2], true));
        h = tf.mul(h, se);
        h = tf.conv2d(h, w2 as unknown as tf.Tensor4D, 1, 'same');
        return tf.sum(tf.square(tf.mul(h, gamma)));
      });
    const gradients = (): Float32Array[] => {
      const { value, grads } = tf.variableGrads(loss);
      const out = [value, ...[w1, dw, w2, gamma].map((v) => grads[v.name])].map((t) => t.dataSync() as Float32Array);
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    unregisterFastCpuKernels();
    const stock = gradients();
    registerFastCpuKernels();
    const ours = gradients();
    ours.forEach((values, i) =>
      expectClose(`gradient ${i}`, { ours: values, stock: stock[i], oursShape: [values.length], stockShape: [stock[i].length] }, 1e-4),
    );
    tf.dispose([x, w1, dw, w2, gamma]);
  });
});
