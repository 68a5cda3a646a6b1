/**
 * What the step-plan tests share: a model with non-trivial weights, deterministic batches, and one
 * engine step set beside one TF.js CPU step (the trainer's own trainStep) from the same weights and
 * batch, for any variant (V1 φ=−6 in step-plan.test.ts, a small V2 in step-plan-v2.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { expect } from 'vitest';
import type { TrainConfig } from '../../../main/contract/calls-train';
import type { EngineDevice } from '../../../main/engine/gpu-device';
import type { NetworkGraph } from '../../../main/engine/plan/network-graph';
import { planTrainingStep, type TrainingStepOptions } from '../../../main/engine/plan/step-plan';
import type { BuildOptions } from '../../../main/model/build-options';
import { buildEfficientNet } from '../../../main/model/builder';
import type { VariantSpec } from '../../../main/model/variants';
import { prepareForMode } from '../../../main/train/model-setup';
import { createOptimizer } from '../../../main/train/optimizer';
import { imageForward, trainStep } from '../../../main/train/steps';
import { randomArray } from '../../fixtures/engine-gpu';

export interface StepCase {
  readonly variant: VariantSpec;
  readonly build: BuildOptions & { classes: number; resolution: number };
  readonly batch: number;
}

/** A built model with non-trivial BatchNorm statistics and head (fresh builds have mean 0, variance 1). */
export function model(c: StepCase): tfl.LayersModel {
  const m = buildEfficientNet(c.variant, c.build);
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

export function pixels(c: StepCase, seed: number): Float32Array {
  const r = c.build.resolution;
  return randomArray(c.batch * r * r * 3, seed).map((v) => (v + 1) * 127.5);
}

export function snapshot(m: tfl.LayersModel): Map<string, Float32Array> {
  return new Map(m.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
}

type Ranges = { name: string; length: number; at: number };

export async function engineWeights(plan: { arena: { read(r: readonly Ranges[]): Promise<Float32Array[]> }; params: { slots: ReadonlyMap<string, { value: Ranges }> } }) {
  const names = [...plan.params.slots.keys()];
  const data = await plan.arena.read(names.map((n) => plan.params.slots.get(n)!.value));
  return new Map(names.map((n, i) => [n, data[i]]));
}

/**
 * Every weight after the step within `tol` (relative) of TF.js's. Adam's first step is
 * lr·g/(|g| + 1e-7): about ±lr whatever |g| is, so where the gradient is at the level of float32
 * noise (a BatchNorm beta feeding a training-mode BatchNorm through a linear layer has an exact
 * gradient of 0; a few elements of every large kernel sit near 0) the sign of the noise decides the
 * step on both sides. Those elements (|g| below 3e-3 of the tensor's largest, or a whole tensor below 1e-4) need only
 * stay within one Adam step (2.5·lr); they are counted and must be the minority. (Gradients that
 * pass through a training-mode BatchNorm cancel in their sums: on lavapipe, whose subgroups of 8
 * sum in another order than SwiftShader's of 4, an SE kernel's element at 1.01e-3 of its tensor's
 * largest gradient came out 0.0038 against TF.js's 0.0004, and a second Adam step moved it 0.14·lr
 * apart.)
 */
export function expectWeightsClose(got: Map<string, Float32Array>, want: Map<string, Float32Array>, grads: Map<string, Float32Array>, tol: number, lr: number) {
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
      if (g && (Math.abs(g[i]) < 3e-3 * gmax || gmax < 1e-4)) {
        noisy++;
        expect(Math.abs(e[i] - w[i]), `${name}[${i}] (gradient ${g[i]} at noise level)`).toBeLessThan(2.5 * lr);
      } else if (error > worst.error) worst = { name: `${name}[${i}]`, error };
    }
  }
  console.log(`worst weight ${worst.name}: ${worst.error.toExponential(2)}; ${noisy} of ${total} values with a gradient at noise level`);
  expect(worst.error, `worst weight ${worst.name}`).toBeLessThan(tol);
  expect(noisy / total).toBeLessThan(0.5);
}

/** One engine step and one TF.js CPU step (the trainer's own trainStep) from the same weights and batch. */
export async function compareStep(
  c: StepCase,
  gpu: EngineDevice,
  graph: NetworkGraph,
  options: TrainingStepOptions,
  config: Pick<TrainConfig, 'mode' | 'topBlocks' | 'freezeBatchNorm'>,
  optimizer: 'adam' | 'adamw' | 'sgd',
  lr: number,
) {
  const { classes, resolution } = c.build;
  const m = model(c);
  const before = snapshot(m);
  const plan = planTrainingStep(gpu, graph, options);
  await plan.loadWeights(m);
  const x = pixels(c, 2);
  const labels = Int32Array.from({ length: c.batch }, (_, i) => i % classes);
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
  const arenaBytes = plan.arena.layout.bytes;

  const setup = prepareForMode(m, c.variant, config as TrainConfig);
  const opt = createOptimizer(optimizer, setup.variables, options.optimizer.weightDecay);
  const classWeights = options.classWeights ? tf.tensor1d(options.classWeights) : null;
  const result = await trainStep(imageForward(m), opt, { classes, labelSmoothing: options.labelSmoothing, classWeights }, x, [resolution, resolution, 3], labels, lr);
  const after = snapshot(m);
  opt.dispose();
  classWeights?.dispose();
  plan.destroy();
  m.dispose();
  return { before, after, got, grads, metrics, result, arenaBytes };
}
