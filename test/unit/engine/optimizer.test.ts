import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// registers the gradient functions (as the trainer does by loading tf.layers)
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OptimizerName } from '../../../main/contract/calls-train';
import { OPTIMIZER_SCALARS, optimizerScalars, optimizerStep, type OptimizerConfig, type ParameterSegment } from '../../../main/engine/kernels/optimizer';
import { createOptimizer } from '../../../main/train/optimizer';
import { benchOf, deviceRequired, maxRelativeError, randomArray, testDevice } from '../../fixtures/engine-gpu';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function device() {
  const gpu = await testDevice();
  if (typeof gpu === 'string' && deviceRequired()) throw new Error(gpu);
  return gpu;
}

// the flat buffer: a kernel, a bias, a frozen tensor (top-N mode) and another kernel
const layout = [
  { name: 'conv/kernel', start: 0, length: 50, decay: true, trainable: true },
  { name: 'conv/bias', start: 50, length: 7, decay: false, trainable: true },
  { name: 'frozen/kernel', start: 57, length: 20, decay: true, trainable: false },
  { name: 'dense/kernel', start: 77, length: 33, decay: true, trainable: true },
];
const size = 110;
const segments: ParameterSegment[] = layout.filter((l) => l.trainable).map(({ start, length, decay }) => ({ start, length, decay }));
const steps = [
  { lr: 1e-2, grads: randomArray(size, 51) },
  { lr: 5e-3, grads: randomArray(size, 52).map((v) => 3 * v) },
  { lr: 2e-3, grads: randomArray(size, 53).map((v) => 0.01 * v) },
];
const initial = randomArray(size, 54).map((v) => 0.5 * v);

/** float64 reference of the same formulas (tfjs' Adam / momentum, then the decoupled decay) */
function reference(config: OptimizerConfig) {
  const w = Array.from(initial);
  const m = new Float64Array(size);
  const v = new Float64Array(size);
  const [b1, b2] = [0.9, 0.999];
  steps.forEach(({ lr, grads }, s) => {
    const t = s + 1;
    for (const seg of segments)
      for (let e = seg.start; e < seg.start + seg.length; e++) {
        const g = grads[e];
        if (config.kind === 'adam') {
          m[e] = b1 * m[e] + (1 - b1) * g;
          v[e] = b2 * v[e] + (1 - b2) * g * g;
          w[e] -= (lr * (m[e] / (1 - b1 ** t))) / (Math.sqrt(v[e] / (1 - b2 ** t)) + 1e-7);
        } else {
          m[e] = 0.9 * m[e] + g;
          w[e] -= lr * m[e];
        }
        if (seg.decay) w[e] *= 1 - lr * config.weightDecay;
      }
  });
  return { w, m, v };
}

/** The trainer's optimizer (train/optimizer.ts) on TF.js CPU, fed the same gradients through a linear loss. */
async function trainer(name: OptimizerName, weightDecay: number): Promise<Float32Array> {
  const variables = layout.map((l) => tf.variable(tf.tensor1d(initial.subarray(l.start, l.start + l.length)), l.trainable, `${name}/${l.name}`));
  const trainable = variables.filter((_, i) => layout[i].trainable);
  const optimizer = createOptimizer(name, trainable, weightDecay);
  for (const { lr, grads } of steps) {
    const cost = optimizer.minimize(() => tf.addN(layout.map((l, i) => tf.sum(tf.mul(variables[i], grads.subarray(l.start, l.start + l.length))))) as tf.Scalar, lr);
    cost.dispose();
  }
  const out = new Float32Array(size);
  for (const [i, l] of layout.entries()) out.set(await variables[i].data(), l.start);
  optimizer.dispose();
  tf.dispose(variables);
  return out;
}

describe('engine optimizer kernel (WebGPU; SwiftShader without a GPU)', () => {
  const cases: { name: OptimizerName; config: OptimizerConfig }[] = [
    { name: 'adam', config: { kind: 'adam', weightDecay: 0 } },
    { name: 'adamw', config: { kind: 'adam', weightDecay: 0.05 } },
    { name: 'sgd', config: { kind: 'sgd', weightDecay: 0.1 } },
  ];
  for (const { name, config } of cases) {
    it(`${name}: one recorded dispatch, 3 steps with the learning rate from the arena, equals float64 and the trainer on TF.js CPU; frozen range untouched`, async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      const b = benchOf(gpu, { params: initial, grads: size, m: size, v: size, scalars: OPTIMIZER_SCALARS });
      const t = b.t;
      const step = optimizerStep(b.ctx, { params: t.params, grads: t.grads, m: t.m, v: config.kind === 'adam' ? t.v : null, scalars: t.scalars }, segments, config);
      steps.forEach(({ lr, grads }, s) => {
        b.arena.write(t.grads, grads);
        b.arena.write(t.scalars, optimizerScalars(config, lr, s + 1));
        b.run([step]);
      });
      const [params, m, v] = await b.read('params', 'm', 'v');
      expect(gpu.error()).toBeNull();
      const ref = reference(config);
      expect(maxRelativeError(params, ref.w)).toBeLessThan(1e-5);
      expect(maxRelativeError(m, ref.m)).toBeLessThan(1e-5);
      if (config.kind === 'adam') expect(maxRelativeError(v, ref.v)).toBeLessThan(1e-5);
      expect(Array.from(params.subarray(57, 77))).toEqual(Array.from(initial.subarray(57, 77)));
      expect(maxRelativeError(params, await trainer(name, config.weightDecay))).toBeLessThan(1e-5);
      // the steps moved the weights by more than the tolerance
      expect(maxRelativeError(params, initial)).toBeGreaterThan(1e-3);
      b.destroy();
    });
  }

  it('many segments (every other one decayed, gaps between them): each element finds its own, the gaps stay', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    const many: ParameterSegment[] = [];
    for (let start = 3, i = 0; start < 990; start += 7 + (i % 5), i++) many.push({ start, length: 3 + (i % 4), decay: i % 2 === 0 });
    expect(many.length).toBeGreaterThan(60);
    const n = 1000;
    const w0 = randomArray(n, 55);
    const g = randomArray(n, 56);
    const config: OptimizerConfig = { kind: 'sgd', weightDecay: 0.5 };
    const b = benchOf(gpu, { params: w0, grads: g, m: n, scalars: optimizerScalars(config, 0.1, 1) });
    const t = b.t;
    b.run([optimizerStep(b.ctx, { params: t.params, grads: t.grads, m: t.m, v: null, scalars: t.scalars }, many, config)]);
    const [params] = await b.read('params');
    expect(gpu.error()).toBeNull();
    const want = Array.from(w0);
    for (const s of many) for (let e = s.start; e < s.start + s.length; e++) want[e] = (w0[e] - 0.1 * g[e]) * (s.decay ? 1 - 0.1 * 0.5 : 1);
    expect(maxRelativeError(params, want)).toBeLessThan(1e-6);
    b.destroy();
  });

  it('refuses overlapping segments, segments outside the buffer, and Adam without v', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    const b = benchOf(gpu, { params: 10, grads: 10, m: 10, scalars: OPTIMIZER_SCALARS });
    const t = b.t;
    const tensors = { params: t.params, grads: t.grads, m: t.m, v: null, scalars: t.scalars };
    const sgd: OptimizerConfig = { kind: 'sgd', weightDecay: 0 };
    expect(() => optimizerStep(b.ctx, tensors, [{ start: 0, length: 6, decay: false }, { start: 5, length: 2, decay: false }], sgd)).toThrow(/overlaps/);
    expect(() => optimizerStep(b.ctx, tensors, [{ start: 8, length: 3, decay: false }], sgd)).toThrow(/leaves the 10-element/);
    expect(() => optimizerStep(b.ctx, tensors, [{ start: 0, length: 10, decay: false }], { kind: 'adam', weightDecay: 0 })).toThrow(/second-moment/);
    expect(() => optimizerScalars(sgd, 1e-3, 0)).toThrow(/from 1/);
    b.destroy();
  });
});
