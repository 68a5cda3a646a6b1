import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../../main/contract/calls-train';
import { buildNetworkGraph, type NetworkGraph } from '../../../main/engine/plan/network-graph';
import { countForward, countTrainingStep, planForward, planTrainingStep, type TrainingStepOptions } from '../../../main/engine/plan/step-plan';
import { getVariant, planArchitecture } from '../../../main/model/variants';
import { prepareForMode } from '../../../main/train/model-setup';
import { createOptimizer } from '../../../main/train/optimizer';
import { imageForward, trainStep } from '../../../main/train/steps';
import { deviceRequired, maxRelativeError, testDevice } from '../../fixtures/engine-gpu';
import { compareStep as compareCase, engineWeights, expectWeightsClose, model as modelOf, pixels as pixelsOf, snapshot, type StepCase } from './step-compare';

// the smallest model with residual adds and SE in every block; SwiftShader compiles every kernel
const VARIANT = 'phi=-6';
const RESOLUTION = 32;
const CLASSES = 3;
const BATCH = 3;
const BUILD = { classes: CLASSES, resolution: RESOLUTION, dropout: 0, dropConnect: 0, seed: 11 };
const CASE: StepCase = { variant: getVariant(VARIANT), build: BUILD, batch: BATCH };
const SLOW = 600_000;

async function device() {
  const gpu = await testDevice();
  if (typeof gpu === 'string' && deviceRequired()) throw new Error(gpu);
  return gpu;
}

describe('engine step plan (WebGPU; SwiftShader without a GPU)', () => {
  let graph: NetworkGraph;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    graph = buildNetworkGraph(getVariant(VARIANT), BUILD);
  });

  const model = () => modelOf(CASE);
  const pixels = (seed: number) => pixelsOf(CASE, seed);
  const compareStep = (gpu: Exclude<Awaited<ReturnType<typeof device>>, string>, options: TrainingStepOptions, config: Pick<TrainConfig, 'mode' | 'topBlocks' | 'freezeBatchNorm'>, optimizer: 'adam' | 'adamw' | 'sgd', lr: number) =>
    compareCase(CASE, gpu, graph, options, config, optimizer, lr);

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
      // this step runs the shared-memory reductions, the full-mode one above the subgroup ones where
      // the device has them (SwiftShader does), so both paths are held to TF.js's step
      const shared = { ...gpu, subgroupSize: 0 };
      const { before, after, got, grads, metrics, result } = await compareStep(shared, options, { mode: 'top', topBlocks: 1, freezeBatchNorm: true }, 'adamw', 1e-3);
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
        // float32 noise through batch-3 training BatchNorms: up to 8e-4 of a tensor's largest on
        // SwiftShader and on lavapipe without subgroups, 1.1e-3 with lavapipe's subgroups of 8 (another
        // summation order); a wrong gradient is off by its own size
        expect(worst / scale, `${name} first moment`).toBeLessThan(3e-3);
      });
      expect(compared).toBeGreaterThan(n / 2);
      now[0].tensor.dispose();
      opt.dispose();
      plan.destroy();
      m.dispose();
    },
    SLOW,
  );

  it('counts a B0 224 px batch 32 full step without compiling: at most 800 dispatches, and an arena that shares memory by lifetime', () => {
    const b0 = buildNetworkGraph(getVariant('b0'), { classes: 10, resolution: 224 });
    const count = countTrainingStep(b0, { batch: 32, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: null, seed: 1 });
    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    console.log(`B0 224 px batch 32 full step: ${count.dispatches} dispatches, ${count.pipelines} pipelines, arena ${mib(count.arenaBytes)} MiB (${mib(count.arenaBytes - count.sharedBytes + count.unsharedBytes)} MiB with every tensor in a range of its own)`);
    expect(count.dispatches).toBeLessThanOrEqual(800);
    expect(count.pipelines).toBeGreaterThan(0);
    // each of B0's 16 SE scales is done by its projection's prologue (forward and weight gradient):
    // no scale pass of its own, and its product x·gate is never stored
    expect(count.byKernel['squeeze-excitation scale'] ?? 0).toBe(0);
    expect(count.byKernel['squeeze-excitation scale input grad + pool grad']).toBe(16);
    // the batch statistics of the 32 BatchNorms after a 1×1 convolution (15 expansions, 16
    // projections, the top) come from that convolution's GEMM epilogue, not from a pass over its output
    expect(count.byKernel['batchnorm statistics (from the GEMM epilogue)']).toBe(32);
    // every tensor in a range of its own took 4,133 MiB (3,851 with the SE products fused); by lifetime the gradients take the memory
    // of activations the backward is done with, and the shared block is about the activations
    // alive at the loss (the least any placement needs)
    expect(mib(count.arenaBytes)).toBeLessThan(1900);
    expect(count.sharedBytes).toBeLessThan(1.02 * count.peakLiveBytes);
    const top = countTrainingStep(b0, { batch: 32, mode: 'top', trainable: (l) => l === 'predictions' || l.startsWith('top_') || l.startsWith('block7a_'), optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: null, seed: 1 });
    // nothing below the first trained layer runs backward
    expect(top.dispatches).toBeLessThan(count.dispatches / 2 + 10);
    expect(top.byKernel['batchnorm backward: dgamma, dbeta'] ?? 0).toBe(0);
    // and nothing below it is kept for a backward: the frozen trunk's activations come and go (2,077 MiB unshared)
    // (and no gradient or moments for the frozen trunk's weights: 374 MiB when they had them)
    expect(mib(top.arenaBytes)).toBeLessThan(360);
    // an inference plan holds no gradient or optimizer moments at all (374 MiB with them)
    const forward = countForward(b0, { batch: 32 });
    expect(mib(forward.arenaBytes)).toBeLessThan(340);
  });
});
