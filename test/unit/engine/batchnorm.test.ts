import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import type { Activation } from '../../../main/engine/kernels/activation';
import {
  batchNormApply,
  batchNormBackward,
  batchNormFrozenBackward,
  batchNormScratch,
  batchNormStatistics,
  type BatchNormShape,
} from '../../../main/engine/kernels/batchnorm';
import { benchOf, deviceRequired, maxRelativeError, randomArray, reductionPaths, testDevice } from '../../fixtures/engine-gpu';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const act = (a: Activation, z: number) => (a === 'swish' ? z * sigmoid(z) : a === 'sigmoid' ? sigmoid(z) : z);
const actGrad = (a: Activation, z: number) => (a === 'swish' ? sigmoid(z) * (1 + z * (1 - sigmoid(z))) : a === 'sigmoid' ? sigmoid(z) * (1 - sigmoid(z)) : 1);

interface Inputs {
  x: Float32Array;
  dy: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
}

/** float64 training-mode forward (with the loss Σ dy·y) for a finite-difference check of the reference. */
function trainingForward(s: BatchNormShape, a: Activation, x: ArrayLike<number>, inp: Inputs) {
  const { rows, c: C } = s;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) mean[c] += x[r * C + c] / rows;
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) variance[c] += (x[r * C + c] - mean[c]) ** 2 / rows;
  const y = new Float64Array(rows * C);
  let loss = 0;
  for (let i = 0; i < y.length; i++) {
    const c = i % C;
    const z = (inp.gamma[c] * (x[i] - mean[c])) / Math.sqrt(variance[c] + s.epsilon) + inp.beta[c];
    y[i] = act(a, z);
    loss += y[i] * inp.dy[i];
  }
  return { mean, variance, y, loss };
}

/** float64 reference of the training step: statistics, moving update, output and every gradient. */
function reference(s: BatchNormShape, a: Activation, inp: Inputs) {
  const { rows, c: C } = s;
  const f = trainingForward(s, a, inp.x, inp);
  const inv = Array.from(f.variance, (v) => 1 / Math.sqrt(v + s.epsilon));
  const dbeta = new Float64Array(C);
  const dgamma = new Float64Array(C);
  const g = new Float64Array(rows * C);
  const xhat = new Float64Array(rows * C);
  for (let i = 0; i < g.length; i++) {
    const c = i % C;
    xhat[i] = (inp.x[i] - f.mean[c]) * inv[c];
    g[i] = inp.dy[i] * actGrad(a, inp.gamma[c] * xhat[i] + inp.beta[c]);
    dbeta[c] += g[i];
    dgamma[c] += g[i] * xhat[i];
  }
  const dx = Array.from(g, (gi, i) => {
    const c = i % C;
    return inp.gamma[c] * inv[c] * (gi - dbeta[c] / rows - (xhat[i] * dgamma[c]) / rows);
  });
  const decay = 1 - s.momentum;
  const movingMean = Array.from(inp.movingMean, (m, c) => m - (m - f.mean[c]) * decay);
  const movingVariance = Array.from(inp.movingVariance, (m, c) => m - (m - f.variance[c]) * decay);
  return { ...f, dx, dgamma, dbeta, movingMean, movingVariance };
}

function inputs(s: BatchNormShape): Inputs {
  const { rows, c } = s;
  // a mean far from 0 against the spread: the statistics must not cancel catastrophically
  const x = randomArray(rows * c, 21).map((v, i) => 3 + (i % c) * 0.5 + 1.5 * v);
  return {
    x,
    dy: randomArray(rows * c, 22),
    gamma: randomArray(c, 23).map((v) => 1 + 0.5 * v),
    beta: randomArray(c, 24).map((v) => 0.3 * v),
    movingMean: randomArray(c, 25),
    movingVariance: randomArray(c, 26).map((v) => 1 + 0.5 * v),
  };
}

async function device() {
  const gpu = await testDevice();
  if (typeof gpu === 'string' && deviceRequired()) throw new Error(gpu);
  return gpu;
}

describe('engine BatchNormalization (WebGPU; SwiftShader without a GPU)', () => {
  it('the float64 reference gradient agrees with finite differences of Σ dy·y', () => {
    const s: BatchNormShape = { rows: 12, c: 3, epsilon: 1e-3, momentum: 0.99 };
    const inp = inputs(s);
    const ref = reference(s, 'swish', inp);
    const x = Array.from(inp.x);
    for (const i of [0, 7, 20, 35]) {
      const h = 1e-6;
      const up = trainingForward(s, 'swish', x.map((v, j) => (j === i ? v + h : v)), inp).loss;
      const down = trainingForward(s, 'swish', x.map((v, j) => (j === i ? v - h : v)), inp).loss;
      expect(Math.abs((up - down) / (2 * h) - ref.dx[i])).toBeLessThan(1e-6);
    }
  });

  const cases: { name: string; s: BatchNormShape; activation: Activation }[] = [
    { name: 'one chunk, no activation', s: { rows: 2 * 9 * 9, c: 7, epsilon: 1e-3, momentum: 0.99 }, activation: 'none' },
    { name: 'three chunks, swish fused', s: { rows: 2 * 9 * 9, c: 7, epsilon: 1e-3, momentum: 0.9, chunks: 3 }, activation: 'swish' },
    { name: '37 channels (two tiles), five chunks, sigmoid fused', s: { rows: 2 * 5 * 7, c: 37, epsilon: 1e-5, momentum: 0.99, chunks: 5 }, activation: 'sigmoid' },
    { name: '3 channels (64 lanes each), swish fused', s: { rows: 2 * 11 * 13, c: 3, epsilon: 1e-3, momentum: 0.99 }, activation: 'swish' },
  ];

  for (const { name, s, activation } of cases) {
    it(`training step, ${name}: statistics, moving averages, output, dgamma, dbeta, dx match float64`, async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      for (const path of reductionPaths(gpu)) {
        const inp = inputs(s);
        const n = s.rows * s.c;
        const scratch = batchNormScratch(s);
        if (s.chunks) expect(scratch).toBe(s.chunks * s.c * 3);
        const b = benchOf(gpu, { ...inp, mean: s.c, variance: s.c, y: n, dx: n, dgamma: s.c, dbeta: s.c, ...(scratch ? { scratch } : {}) }, path.subgroupSize);
        const t = b.t;
        b.run([
          ...batchNormStatistics(b.ctx, { x: t.x, mean: t.mean, variance: t.variance, movingMean: t.movingMean, movingVariance: t.movingVariance, scratch: t.scratch ?? null }, s),
          batchNormApply(b.ctx, { x: t.x, mean: t.mean, variance: t.variance, gamma: t.gamma, beta: t.beta, y: t.y }, s, activation),
          ...batchNormBackward(b.ctx, { x: t.x, dy: t.dy, mean: t.mean, variance: t.variance, gamma: t.gamma, beta: t.beta, dx: t.dx, dgamma: t.dgamma, dbeta: t.dbeta, scratch: t.scratch ?? null }, s, activation),
        ]);
        const [mean, variance, movingMean, movingVariance, y, dx, dgamma, dbeta] = await b.read('mean', 'variance', 'movingMean', 'movingVariance', 'y', 'dx', 'dgamma', 'dbeta');
        expect(gpu.error()).toBeNull();
        const ref = reference(s, activation, inp);
        expect(maxRelativeError(mean, ref.mean), path.name).toBeLessThan(1e-5);
        expect(maxRelativeError(variance, ref.variance), path.name).toBeLessThan(1e-5);
        expect(maxRelativeError(movingMean, ref.movingMean), path.name).toBeLessThan(1e-5);
        expect(maxRelativeError(movingVariance, ref.movingVariance), path.name).toBeLessThan(1e-5);
        expect(maxRelativeError(y, ref.y), path.name).toBeLessThan(1e-4);
        expect(maxRelativeError(dgamma, ref.dgamma), path.name).toBeLessThan(1e-4);
        expect(maxRelativeError(dbeta, ref.dbeta), path.name).toBeLessThan(1e-4);
        expect(maxRelativeError(dx, ref.dx), path.name).toBeLessThan(1e-4);
        b.destroy();
      }
    });
  }

  it('frozen mode normalises with the moving statistics, updates nothing and gives dx only', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    const s: BatchNormShape = { rows: 2 * 9 * 9, c: 7, epsilon: 1e-3, momentum: 0.99 };
    const inp = inputs(s);
    const n = s.rows * s.c;
    const b = benchOf(gpu, { ...inp, y: n, dx: n, yPlain: n, dxPlain: n });
    const t = b.t;
    const frozen = { x: t.x, mean: t.movingMean, variance: t.movingVariance, gamma: t.gamma, beta: t.beta };
    b.run([
      batchNormApply(b.ctx, { ...frozen, y: t.y }, s, 'swish'),
      batchNormFrozenBackward(b.ctx, { ...frozen, dy: t.dy, dx: t.dx }, s, 'swish'),
      batchNormApply(b.ctx, { ...frozen, y: t.yPlain }, s),
      batchNormFrozenBackward(b.ctx, { ...frozen, dy: t.dy, dx: t.dxPlain }, s),
    ]);
    const [y, dx, yPlain, dxPlain, movingMean, movingVariance] = await b.read('y', 'dx', 'yPlain', 'dxPlain', 'movingMean', 'movingVariance');
    expect(gpu.error()).toBeNull();
    const z = Array.from(inp.x, (v, i) => {
      const c = i % s.c;
      return (inp.gamma[c] * (v - inp.movingMean[c])) / Math.sqrt(inp.movingVariance[c] + s.epsilon) + inp.beta[c];
    });
    const scale = (i: number) => inp.gamma[i % s.c] / Math.sqrt(inp.movingVariance[i % s.c] + s.epsilon);
    expect(maxRelativeError(y, z.map((v) => act('swish', v)))).toBeLessThan(1e-4);
    expect(maxRelativeError(dx, z.map((v, i) => inp.dy[i] * actGrad('swish', v) * scale(i)))).toBeLessThan(1e-4);
    expect(maxRelativeError(yPlain, z)).toBeLessThan(1e-4);
    expect(maxRelativeError(dxPlain, Array.from(inp.dy, (d, i) => d * scale(i)))).toBeLessThan(1e-4);
    expect(Array.from(movingMean)).toEqual(Array.from(inp.movingMean));
    expect(Array.from(movingVariance)).toEqual(Array.from(inp.movingVariance));
    b.destroy();
  });

  it('equals tfjs-layers BatchNormalization trained on TF.js CPU (moving averages, output, gradients through swish)', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    await tf.setBackend('cpu');
    const s: BatchNormShape = { rows: 2 * 9 * 9, c: 7, epsilon: 1e-3, momentum: 0.99 };
    const inp = inputs(s);
    const shape: [number, number, number, number] = [2, 9, 9, 7];
    const layer = tfl.layers.batchNormalization({ axis: 3, momentum: s.momentum, epsilon: s.epsilon });
    layer.build(shape);
    layer.setWeights([tf.tensor1d(inp.gamma), tf.tensor1d(inp.beta), tf.tensor1d(inp.movingMean), tf.tensor1d(inp.movingVariance)]);
    const x = tf.variable(tf.tensor4d(inp.x, shape));
    const dyT = tf.tensor4d(inp.dy, shape);
    // LayerVariable.read() is the tf.Variable itself, which variableGrads differentiates by name
    const trainable = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const [gammaVar, betaVar] = trainable;
    let yT: tf.Tensor | null = null;
    const { grads } = tf.variableGrads(() => {
      const z = layer.apply(x, { training: true }) as tf.Tensor;
      const y = tf.mul(z, tf.sigmoid(z));
      yT = tf.keep(y);
      return tf.sum(tf.mul(y, dyT)) as tf.Scalar;
    }, [x, ...trainable]);
    const want = {
      y: await yT!.data(),
      dx: await grads[x.name].data(),
      dgamma: await grads[gammaVar.name].data(),
      dbeta: await grads[betaVar.name].data(),
      movingMean: await layer.getWeights()[2].data(),
      movingVariance: await layer.getWeights()[3].data(),
    };
    tf.dispose([x, dyT, yT!, ...Object.values(grads)]);
    for (const w of layer.weights) w.dispose();

    const n = s.rows * s.c;
    const b = benchOf(gpu, { ...inp, mean: s.c, variance: s.c, y: n, dx: n, dgamma: s.c, dbeta: s.c });
    const t = b.t;
    b.run([
      ...batchNormStatistics(b.ctx, { x: t.x, mean: t.mean, variance: t.variance, movingMean: t.movingMean, movingVariance: t.movingVariance, scratch: null }, s),
      batchNormApply(b.ctx, { x: t.x, mean: t.mean, variance: t.variance, gamma: t.gamma, beta: t.beta, y: t.y }, s, 'swish'),
      ...batchNormBackward(b.ctx, { x: t.x, dy: t.dy, mean: t.mean, variance: t.variance, gamma: t.gamma, beta: t.beta, dx: t.dx, dgamma: t.dgamma, dbeta: t.dbeta, scratch: null }, s, 'swish'),
    ]);
    const [y, dx, dgamma, dbeta, movingMean, movingVariance] = await b.read('y', 'dx', 'dgamma', 'dbeta', 'movingMean', 'movingVariance');
    expect(gpu.error()).toBeNull();
    expect(maxRelativeError(movingMean, want.movingMean)).toBeLessThan(1e-6);
    expect(maxRelativeError(movingVariance, want.movingVariance)).toBeLessThan(1e-6);
    expect(maxRelativeError(y, want.y)).toBeLessThan(1e-5);
    expect(maxRelativeError(dx, want.dx)).toBeLessThan(1e-4);
    expect(maxRelativeError(dgamma, want.dgamma)).toBeLessThan(1e-4);
    expect(maxRelativeError(dbeta, want.dbeta)).toBeLessThan(1e-4);
    b.destroy();
  });
});
