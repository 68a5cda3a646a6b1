import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../../main/contract/calls-train';
import { buildNetworkGraph, type NetworkGraph } from '../../../main/engine/plan/network-graph';
import { countTrainingStep, planForward, planTrainingStep, type TrainingStepOptions } from '../../../main/engine/plan/step-plan';
import { buildEfficientNet } from '../../../main/model/builder';
import { getVariant, planArchitecture } from '../../../main/model/variants';
import { prepareForMode } from '../../../main/train/model-setup';
import { createOptimizer } from '../../../main/train/optimizer';
import { imageForward, trainStep } from '../../../main/train/steps';
import { deviceRequired, maxRelativeError, randomArray, testDevice } from '../../fixtures/engine-gpu';

// the smallest model with residual adds and SE in every block; SwiftShader compiles every kernel
const VARIANT = 'phi=-6';
const RESOLUTION = 32;
const CLASSES = 3;
const BATCH = 3;
const BUILD = { classes: CLASSES, resolution: RESOLUTION, dropout: 0, dropConnect: 0, seed: 11 };
const SLOW = 600_000;

async function device() {
  const gpu = await testDevice();
  if (typeof gpu === 'string' && deviceRequired()) throw new Error(gpu);
  return gpu;
}

/** A built model with non-trivial BatchNorm statistics and head (fresh builds have mean 0, variance 1). */
function model(): tfl.LayersModel {
  const m = buildEfficientNet(VARIANT, BUILD);
  let seed = 100;
  tf.tidy(() => {
    for (const w of m.weights) {
      const name = w.originalName;
      const n = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
      const r = randomArray(n, seed++);
      const value = w.read();
      if (name.endsWith('moving_mean') || name.endsWith('beta')) w.write(tf.tensor(r.map((v) => 0.2 * v), value.shape));
      else if (name.endsWith('moving_variance') || name.endsWith('gamma')) w.write(tf.tensor(r.map((v) => 1 + 0.4 * v), value.shape));
      else if (name === 'predictions/kernel' || name === 'predictions/bias') w.write(tf.tensor(r.map((v) => 0.1 * v), value.shape));
    }
  });
  return m;
}

function pixels(seed: number): Float32Array {
  return randomArray(BATCH * RESOLUTION * RESOLUTION * 3, seed).map((v) => (v + 1) * 127.5);
}

function snapshot(m: tfl.LayersModel): Map<string, Float32Array> {
  return new Map(m.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
}

async function engineWeights(plan: { arena: { read(r: readonly { name: string; length: number; at: number }[]): Promise<Float32Array[]> }; params: { slots: ReadonlyMap<string, { value: { name: string; length: number; at: number } }> } }) {
  const names = [...plan.params.slots.keys()];
  const data = await plan.arena.read(names.map((n) => plan.params.slots.get(n)!.value));
  return new Map(names.map((n, i) => [n, data[i]]));
}

/**
 * Every weight after the step within `tol` (relative) of TF.js's. Adam's first step is
 * lr·g/(|g| + 1e-7): about ±lr whatever |g| is, so where the gradient is at the level of float32
 * noise (a BatchNorm beta feeding a training-mode BatchNorm through a linear layer has an exact
 * gradient of 0; a few elements of every large kernel sit near 0) the sign of the noise decides the
 * step on both sides. Those elements (|g| below 1e-3 of the tensor's largest, or a whole tensor below 1e-4) need only
 * stay within one Adam step (2.5·lr); they are counted and must be the minority.
 */
function expectWeightsClose(got: Map<string, Float32Array>, want: Map<string, Float32Array>, grads: Map<string, Float32Array>, tol: number, lr: number) {
  let worst = { name: '', error: 0 };
  let noisy = 0;
  let total = 0;
  for (const [name, w] of want) {
    const e = got.get(name)!;
    const g = grads.get(name);
    const gmax = g ? g.reduce((m, v) => Math.max(m, Math.abs(v)), 0) : 0;
    for (let i = 0; i < w.length; i++) {
      const error = Math.abs(e[i] - w[i]) / (1 + Math.abs(w[i]));
      total++;
      if (g && (Math.abs(g[i]) < 1e-3 * gmax || gmax < 1e-4)) {
        noisy++;
        expect(Math.abs(e[i] - w[i]), `${name}[${i}] (gradient ${g[i]} at noise level)`).toBeLessThan(2.5 * lr);
      } else if (error > worst.error) worst = { name: `${name}[${i}]`, error };
    }
  }
  console.log(`worst weight ${worst.name}: ${worst.error.toExponential(2)}; ${noisy} of ${total} values with a gradient at noise level`);
  expect(worst.error, `worst weight ${worst.name}`).toBeLessThan(tol);
  expect(noisy / total).toBeLessThan(0.5);
}

describe('engine step plan (WebGPU; SwiftShader without a GPU)', () => {
  let graph: NetworkGraph;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    graph = buildNetworkGraph(getVariant(VARIANT), BUILD);
  });

  it(
    'inference plan: probabilities equal the tf.layers model’s predict on the same weights',
    async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      const m = model();
      const plan = planForward(gpu, graph, { batch: BATCH });
      await plan.loadWeights(m);
      const x = pixels(1);
      plan.setPixels(x);
      plan.run();
      const { logits, probabilities } = await plan.read();
      expect(gpu.error()).toBeNull();
      const want = tf.tidy(() => (m.predict(tf.tensor4d(x, [BATCH, RESOLUTION, RESOLUTION, 3])) as tf.Tensor).dataSync() as Float32Array);
      expect(maxRelativeError(probabilities, want)).toBeLessThan(1e-4);
      // the probabilities are the softmax of the logits the plan keeps
      const soft = tf.tidy(() => tf.softmax(tf.tensor2d(logits, [BATCH, CLASSES])).dataSync() as Float32Array);
      expect(maxRelativeError(soft, want)).toBeLessThan(1e-4);
      plan.destroy();
      m.dispose();
    },
    SLOW,
  );

  /** One engine step and one TF.js CPU step (the trainer's own trainStep) from the same weights and batch. */
  async function compareStep(gpu: Exclude<Awaited<ReturnType<typeof device>>, string>, options: TrainingStepOptions, config: Pick<TrainConfig, 'mode' | 'topBlocks' | 'freezeBatchNorm'>, optimizer: 'adam' | 'adamw' | 'sgd', lr: number) {
    const m = model();
    const before = snapshot(m);
    const plan = planTrainingStep(gpu, graph, options);
    await plan.loadWeights(m);
    const x = pixels(2);
    const labels = Int32Array.from({ length: BATCH }, (_, i) => i % CLASSES);
    plan.setBatch(x, labels);
    plan.step(lr);
    const metrics = await plan.readMetrics();
    const got = await engineWeights(plan);
    // the trained tail of the flat buffer (frozen weights have gradient slots the step never writes)
    const p = plan.params;
    const names = [...p.slots.keys()].filter((n) => p.slots.get(n)!.grad && p.slots.get(n)!.value.at - p.params.at >= p.trainFrom);
    const gradData = await plan.arena.read(names.map((n) => plan.params.slots.get(n)!.grad!));
    const grads = new Map(names.map((n, i) => [n, gradData[i]]));
    expect(gpu.error()).toBeNull();
    expect((await plan.readMetrics()).loss).toBe(0);

    const setup = prepareForMode(m, getVariant(VARIANT), config as TrainConfig);
    const opt = createOptimizer(optimizer, setup.variables, options.optimizer.weightDecay);
    const classWeights = options.classWeights ? tf.tensor1d(options.classWeights) : null;
    const result = await trainStep(imageForward(m), opt, { classes: CLASSES, labelSmoothing: options.labelSmoothing, classWeights }, x, [RESOLUTION, RESOLUTION, 3], labels, lr);
    const after = snapshot(m);
    opt.dispose();
    classWeights?.dispose();
    plan.destroy();
    m.dispose();
    return { before, after, got, grads, metrics, result };
  }

  it(
    'full mode: one Adam step equals the TF.js CPU trainer’s step (weights and moving statistics), label smoothing and class weights',
    async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      const options: TrainingStepOptions = { batch: BATCH, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: Float32Array.of(1, 2, 0.5), seed: 3 };
      const { before, after, got, grads, metrics, result } = await compareStep(gpu, options, { mode: 'full', topBlocks: null as never, freezeBatchNorm: false }, 'adam', 1e-3);
      expect(Math.abs(metrics.loss / BATCH - result.loss) / result.loss).toBeLessThan(1e-4);
      expect(metrics.correct).toBe(result.correct);
      expectWeightsClose(got, after, grads, 1e-4, 1e-3);
      // the step moved every trained weight and every moving statistic
      for (const name of ['stem_conv/kernel', 'block1a_se_reduce/bias', 'top_bn/moving_mean', 'predictions/kernel']) {
        expect(maxRelativeError(after.get(name)!, before.get(name)!), name).toBeGreaterThan(1e-6);
      }
    },
    SLOW,
  );

  it(
    'top mode: the last block and head train with frozen BatchNorm (AdamW); frozen weights and statistics stay as they were',
    async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      const blocks = planArchitecture(getVariant(VARIANT)).blocks;
      const last = `${blocks[blocks.length - 1].name}_`;
      const trainable = (layer: string) => layer === 'predictions' || layer.startsWith('top_') || layer.startsWith(last);
      const options: TrainingStepOptions = { batch: BATCH, mode: 'top', trainable, optimizer: { kind: 'adam', weightDecay: 0.05 }, labelSmoothing: 0.1, classWeights: null, seed: 3 };
      const { before, after, got, grads, metrics, result } = await compareStep(gpu, options, { mode: 'top', topBlocks: 1, freezeBatchNorm: true }, 'adamw', 1e-3);
      expect(Math.abs(metrics.loss / BATCH - result.loss) / result.loss).toBeLessThan(1e-4);
      expectWeightsClose(got, after, grads, 1e-4, 1e-3);
      for (const [name, w] of before) {
        const layer = name.split('/')[0];
        const frozen = !trainable(layer) || /_bn\//.test(name) || name.startsWith('top_bn/');
        if (frozen) expect(Array.from(got.get(name)!), name).toEqual(Array.from(w));
        else expect(maxRelativeError(got.get(name)!, w), name).toBeGreaterThan(1e-6);
      }
    },
    SLOW,
  );

  it(
    "resumes from the TF.js optimizer's saved steps and moments: the engine's next Adam step equals TF.js's second step, and its moments read back as TF.js's",
    async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      const m = model();
      const setup = prepareForMode(m, getVariant(VARIANT), { mode: 'full', freezeBatchNorm: false } as TrainConfig);
      const opt = createOptimizer('adam', setup.variables, 0);
      const loss = { classes: CLASSES, labelSmoothing: 0, classWeights: null };
      const labels = Int32Array.from({ length: BATCH }, (_, i) => (i + 1) % CLASSES);
      const shape = [RESOLUTION, RESOLUTION, 3];
      // step 1 on TF.js, as a checkpoint would hold it
      await trainStep(imageForward(m), opt, loss, pixels(4), shape, labels, 1e-3);
      const plan = planTrainingStep(gpu, graph, { batch: BATCH, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0, classWeights: null, seed: 3 });
      await plan.loadWeights(m);
      const names = m.trainableWeights.map((w) => w.originalName);
      const saved = await opt.state();
      const n = names.length;
      expect(saved).toHaveLength(1 + 2 * n);
      plan.writeOptimizerState(names, { steps: Number(saved[0].tensor.dataSync()[0]), m: saved.slice(1, 1 + n).map((s) => s.tensor.dataSync() as Float32Array), v: saved.slice(1 + n).map((s) => s.tensor.dataSync() as Float32Array) });
      saved[0].tensor.dispose();
      expect(plan.stepsDone).toBe(1);
      // step 2 on both
      plan.setBatch(pixels(5), labels);
      plan.step(1e-3);
      const got = await engineWeights(plan);
      const gradData = await plan.arena.read(names.map((name) => plan.params.slots.get(name)!.grad!));
      const grads = new Map(names.map((name, i) => [name, gradData[i]]));
      await trainStep(imageForward(m), opt, loss, pixels(5), shape, labels, 1e-3);
      expect(gpu.error()).toBeNull();
      expectWeightsClose(got, snapshot(m), grads, 1e-4, 1e-3);
      const back = await plan.readOptimizerState(names);
      const now = await opt.state();
      expect(back.steps).toBe(2);
      let compared = 0;
      names.forEach((name, i) => {
        // a tensor whose gradient is float32 noise (see expectWeightsClose) has noise for moments
        if (grads.get(name)!.reduce((a, v) => Math.max(a, Math.abs(v)), 0) < 1e-4) return;
        compared++;
        const want = now[1 + i].tensor.dataSync() as Float32Array;
        const scale = want.reduce((a, v) => Math.max(a, Math.abs(v)), 1e-12);
        const worst = back.m[i].reduce((a, v, j) => Math.max(a, Math.abs(v - want[j])), 0);
        expect(worst / scale, `${name} first moment`).toBeLessThan(1e-3);
      });
      expect(compared).toBeGreaterThan(n / 2);
      now[0].tensor.dispose();
      opt.dispose();
      plan.destroy();
      m.dispose();
    },
    SLOW,
  );

  it('counts a B0 224 px batch 32 full step without compiling: at most 800 dispatches', () => {
    const b0 = buildNetworkGraph(getVariant('b0'), { classes: 10, resolution: 224 });
    const count = countTrainingStep(b0, { batch: 32, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: null, seed: 1 });
    console.log(`B0 224 px batch 32 full step: ${count.dispatches} dispatches, ${count.pipelines} pipelines, arena ${(count.arenaBytes / 2 ** 20).toFixed(0)} MiB`);
    expect(count.dispatches).toBeLessThanOrEqual(800);
    expect(count.pipelines).toBeGreaterThan(0);
    const top = countTrainingStep(b0, { batch: 32, mode: 'top', trainable: (l) => l === 'predictions' || l.startsWith('top_') || l.startsWith('block7a_'), optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: null, seed: 1 });
    // nothing below the first trained layer runs backward
    expect(top.dispatches).toBeLessThan(count.dispatches / 2 + 10);
    expect(top.byKernel['batchnorm backward: dgamma, dbeta'] ?? 0).toBe(0);
  });
});
