/** Learning-rate schedule, loss, optimizers and the memory rules of the trainer. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// registers the gradient functions (as in the trainer, which always loads tf.layers)
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { getVariant } from '../../main/model/variants';
import { correctCount, crossEntropy } from '../../main/train/loss';
import { chooseBatchSize, FaultPlan, isOutOfMemory, OutOfMemoryFault } from '../../main/train/memory';
import { engineBindingOn, engineStepBytes } from '../../main/train/engine-options';
import { resolveTrainConfig } from '../../main/train/config';
import { TrainOptions, type TrainConfig } from '../../main/contract/calls-train';
import { createOptimizer } from '../../main/train/optimizer';
import { learningRateAt } from '../../main/train/schedule';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('learning-rate schedule', () => {
  const config = { lr: 1e-3, epochs: 10, warmupEpochs: 2 };
  it('warms up linearly, peaks, then follows a cosine to 0', () => {
    expect(learningRateAt(0, config)).toBe(0);
    expect(learningRateAt(1, config)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(2, config)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(6, config)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(10, config)).toBeCloseTo(0, 12);
    expect(learningRateAt(3, config)).toBeGreaterThan(learningRateAt(4, config));
  });
  it('without warm-up starts at the peak', () => {
    expect(learningRateAt(0, { lr: 0.01, epochs: 4, warmupEpochs: 0 })).toBeCloseTo(0.01, 12);
  });
});

describe('loss', () => {
  it('is cross-entropy of the probabilities, with label smoothing and class weights', () => {
    const probs = tf.tensor2d([
      [0.7, 0.2, 0.1],
      [0.1, 0.1, 0.8],
    ]);
    const labels = tf.tensor1d([0, 1], 'int32');
    const plain = crossEntropy(probs, labels, { classes: 3, labelSmoothing: 0, classWeights: null }).dataSync()[0];
    expect(plain).toBeCloseTo((-Math.log(0.7) - Math.log(0.1)) / 2, 5);
    const smooth = crossEntropy(probs, labels, { classes: 3, labelSmoothing: 0.3, classWeights: null }).dataSync()[0];
    const t = (hot: boolean) => (hot ? 0.7 + 0.1 : 0.1);
    const expected = (-(t(true) * Math.log(0.7) + t(false) * Math.log(0.2) + t(false) * Math.log(0.1)) - (t(false) * Math.log(0.1) + t(true) * Math.log(0.1) + t(false) * Math.log(0.8))) / 2;
    expect(smooth).toBeCloseTo(expected, 5);
    const weights = tf.tensor1d([2, 0.5, 1]);
    const weighted = crossEntropy(probs, labels, { classes: 3, labelSmoothing: 0, classWeights: weights }).dataSync()[0];
    expect(weighted).toBeCloseTo((-2 * Math.log(0.7) - 0.5 * Math.log(0.1)) / 2, 5);
    expect(correctCount(probs, labels).dataSync()[0]).toBe(1);
    tf.dispose([probs, labels, weights]);
  });
  it('stays finite for a confident mistake', () => {
    const probs = tf.tensor2d([[1, 0]]);
    const loss = crossEntropy(probs, tf.tensor1d([1], 'int32'), { classes: 2, labelSmoothing: 0, classWeights: null }).dataSync()[0];
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeCloseTo(-Math.log(1e-7), 3);
  });
});

describe('batch size from memory', () => {
  const variant = getVariant('b0');
  const choose = (memoryBytes: number | null, trainImages = 1000) => chooseBatchSize({ variant, resolution: 224, classes: 10, trainImages, memoryBytes, memorySource: 'test', onGpu: false });
  it('takes the recipe batch (32) when memory allows, never more than the training images', () => {
    expect(choose(64 * 1024 ** 3).batch).toBe(32);
    expect(choose(64 * 1024 ** 3, 20).batch).toBe(16);
  });
  it('halves until the estimate fits, and says how much a step needs', () => {
    const small = choose(4 * 1024 ** 3);
    expect(small.batch).toBeLessThan(32);
    expect(small.batch).toBeGreaterThanOrEqual(1);
    expect(small.reason).toMatch(/needs about .* within 50 % of 4.0 GiB/);
    expect(choose(1024 ** 2).batch).toBe(1);
    expect(choose(null).reason).toMatch(/reports no memory size/);
  });
  it('for a run on the Effitune engine, by its step plan: B0 224 px at batch 32 fits a 4 GB GPU (TF.js would need ~23 GB), and mixed precision needs less', () => {
    const config = resolveTrainConfig(TrainOptions.parse({ model: 'b0', mode: 'full', backend: 'webgpu' }), [{ name: 'a', train: 500 }, { name: 'b', train: 500 }]).config;
    const onGpu = (c: TrainConfig, memoryBytes: number) =>
      chooseBatchSize({ variant, resolution: 224, classes: 2, trainImages: 1000, memoryBytes, memorySource: 'largest buffer', onGpu: true, engineBytes: engineStepBytes(c, variant) });
    // the formula (TF.js keeps every intermediate) would allow only batch 2 or 4 here
    expect(chooseBatchSize({ variant, resolution: 224, classes: 2, trainImages: 1000, memoryBytes: 4e9, memorySource: 'largest buffer', onGpu: true }).batch).toBeLessThanOrEqual(4);
    const fp32 = onGpu(config, 4e9);
    expect(fp32.batch).toBe(32);
    // the step plan (1.7 GiB) and, beside it after each epoch, the forward plan of Precise BN and validation (0.3 GiB)
    expect(fp32.reason).toMatch(/^batch 32: the Effitune engine's training step with its validation plan \(their arenas\) needs about 2\.\d GiB, within 70 % of 3\.7 GiB/);
    const mixed = { ...config, precision: 'mixed' as const };
    expect(engineStepBytes(mixed, variant)(32)).toBeLessThan(0.75 * engineStepBytes(config, variant)(32));
    // where fp32 must halve, mixed precision keeps the larger batch
    expect(onGpu(config, 2.4e9).batch).toBe(16);
    expect(onGpu(mixed, 2.4e9).batch).toBe(32);
  });
  it("for an engine run, also a batch whose plans fit what the GPU's storage bindings hold: B0 224 px at 32 (a 1.7 GiB arena) is more than 4 pages of 256 MiB, 16 is not; 512 MiB bindings hold 32", () => {
    const config = resolveTrainConfig(TrainOptions.parse({ model: 'b0', mode: 'full', backend: 'webgpu' }), [{ name: 'a', train: 500 }, { name: 'b', train: 500 }]).config;
    const choose = (c: TrainConfig, maxBindingBytes: number) =>
      chooseBatchSize({ variant, resolution: 224, classes: 2, trainImages: 1000, memoryBytes: 64e9, memorySource: 'largest buffer', onGpu: true, engineBytes: engineStepBytes(c, variant), engineBinding: engineBindingOn(c, variant, { name: 'webgpu', maxBindingBytes }) });
    const fp32 = choose(config, 256 * 2 ** 20);
    expect(fp32.batch).toBe(16);
    expect(fp32.reason).toMatch(/^batch 16: the Effitune engine's plans at batch 32 do not fit what this GPU's storage bindings hold for one of their arenas \(1\.0 GiB\); batch 16 does and needs about \d/);
    expect(choose(config, 512 * 2 ** 20).batch).toBe(32);
    // where not even batch 1 fits, the engine cannot start: the batch stays the memory's (the TF.js fallback trains at it)
    expect(choose(config, 2 ** 20).batch).toBe(32);
    // a backend that reports no binding, or a run TF.js steps, is not held to one
    expect(engineBindingOn(config, variant, { name: 'webgpu' })).toBeUndefined();
    expect(engineBindingOn({ ...config, engine: 'tfjs' }, variant, { name: 'webgpu', maxBindingBytes: 2 ** 20 })).toBeUndefined();
  });
  it('for an engine run of a model whose plan at 32 is more than the engine can address (B7 at 600 px), a smaller batch', () => {
    const b7 = getVariant('b7');
    const config = resolveTrainConfig(TrainOptions.parse({ model: 'b7', mode: 'full', backend: 'webgpu' }), [{ name: 'a', train: 500 }, { name: 'b', train: 500 }]).config;
    const bytes = engineStepBytes(config, b7);
    expect(bytes(32)).toBe(Infinity);
    const choice = chooseBatchSize({ variant: b7, resolution: 600, classes: 2, trainImages: 1000, memoryBytes: 64e9, memorySource: 'largest buffer', onGpu: true, engineBytes: bytes });
    expect(choice.batch).toBeLessThan(32);
    expect(choice.batch).toBeGreaterThanOrEqual(1);
  });
});

describe('out-of-memory errors', () => {
  it('are recognised across backends', () => {
    expect(isOutOfMemory(new Error('OOM when allocating tensor with shape[32,112,112,96]'))).toBe(true);
    expect(isOutOfMemory(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(isOutOfMemory(new Error('Failed to allocate GPU buffer'))).toBe(true);
    expect(isOutOfMemory(new OutOfMemoryFault(3))).toBe(true);
    expect(isOutOfMemory(new Error('shape mismatch'))).toBe(false);
  });
  it('can be injected once at a step', () => {
    const plan = new FaultPlan('oom@2');
    expect(() => plan.beforeStep(1)).not.toThrow();
    expect(() => plan.beforeStep(2)).toThrow(OutOfMemoryFault);
    expect(() => plan.beforeStep(2)).not.toThrow();
    expect(() => new FaultPlan('boom@1')).toThrow(/EFFITUNE_TRAIN_FAULT/);
    const diverges = new FaultPlan('nan@3');
    expect(diverges.lossAfter(2, 0.5)).toBe(0.5);
    expect(diverges.lossAfter(3, 0.5)).toBeNaN();
    expect(diverges.lossAfter(40, 0.5)).toBeNaN();
    const forward = new FaultPlan('oom@9, forward-oom@1');
    expect(forward.forwardOutOfMemory(0)).toBe(false);
    expect(forward.forwardOutOfMemory(1)).toBe(true);
    expect(forward.forwardOutOfMemory(1)).toBe(false);
    expect(() => new FaultPlan('forward-oom@x')).toThrow(/forward-oom@<epoch>/);
  });
});

describe('optimizers', () => {
  it('adamw decays kernels (decoupled from the gradient), never biases', () => {
    const kernel = tf.variable(tf.tensor1d([1, -2]), true, 'opt_test_dense/kernel');
    const bias = tf.variable(tf.tensor1d([1, -2]), true, 'opt_test_dense/bias');
    const optimizer = createOptimizer('adamw', [kernel, bias], 0.1);
    // a loss whose gradient is zero: Adam moves nothing, only the decay acts
    optimizer.minimize(() => tf.mul(tf.sum(tf.add(kernel, bias)), 0) as tf.Scalar, 0.5);
    const [k0, k1] = kernel.dataSync();
    expect(k0).toBeCloseTo(0.95, 6);
    expect(k1).toBeCloseTo(-1.9, 6);
    expect(Array.from(bias.dataSync())).toEqual([1, -2]);
    optimizer.dispose();
  });

  it('sgd follows the learning rate it is given at each step', () => {
    const w = tf.variable(tf.scalar(1), true, 'opt_test_sgd/kernel');
    const optimizer = createOptimizer('sgd', [w], 0);
    optimizer.minimize(() => tf.mul(w, 1) as tf.Scalar, 0.1);
    expect(w.dataSync()[0]).toBeCloseTo(0.9, 6);
    // momentum 0.9: the accumulated gradient is 1.9 at the second step
    optimizer.minimize(() => tf.mul(w, 1) as tf.Scalar, 0.01);
    expect(w.dataSync()[0]).toBeCloseTo(0.9 - 0.019, 6);
    optimizer.dispose();
  });
});
