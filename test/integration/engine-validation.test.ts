/**
 * An engine run's validation and Precise BN on the engine itself (engine-steps.ts recalibrate and
 * openInference), against what the TF.js path computes on the same weights: the averaged batch
 * statistics Precise BN gives the tf.layers model, the model's predict, and the validation loss
 * (loss.ts crossEntropy). SwiftShader without a GPU; the model has no dropout, since the engine's
 * statistics pass leaves dropout out where TF.js's training-mode pass applies it.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainOptions } from '../../main/contract/calls-train';
import { resolveTrainConfig } from '../../main/train/config';
import { startEngineSteps, type EngineSteps } from '../../main/train/engine-steps';
import { crossEntropy, correctCount, probabilityRowsLoss } from '../../main/train/loss';
import { buildTrainingModel, prepareForMode, type TrainingModel } from '../../main/train/model-setup';
import { createOptimizer } from '../../main/train/optimizer';
import { recalibratedWeights } from '../../main/train/precise-batch-norm';
import { deviceRequired, maxRelativeError, randomArray, testDevice } from '../fixtures/engine-gpu';

const RES = 32;
const BATCH = 4;
const CLASSES = ['a', 'b', 'c'];

let built: TrainingModel;
let engine: EngineSteps | null = null;
let noDevice: string | null = null;

const pixels = (n: number, seed: number) => Float32Array.from(randomArray(n * RES * RES * 3, seed), (v) => 127.5 + 127.5 * v);

beforeAll(async () => {
  await tf.setBackend('cpu');
  const gpu = await testDevice();
  if (typeof gpu === 'string') {
    if (deviceRequired()) throw new Error(gpu);
    noDevice = gpu;
    return;
  }
  const options = TrainOptions.parse({ model: 'phi=-6', resolution: RES, mode: 'full', engine: 'effitune', dropout: 0, dropConnect: 0, labelSmoothing: 0.1, seed: 5 });
  const { config } = resolveTrainConfig(options, CLASSES.map((name) => ({ name, train: 10 })));
  built = await buildTrainingModel(config);
  const setup = prepareForMode(built.model, built.variant, config);
  const optimizer = createOptimizer(config.optimizer, setup.variables, config.weightDecay);
  engine = await startEngineSteps(config, built, { classes: CLASSES.length, labelSmoothing: 0.1, classWeights: null }, BATCH, optimizer);
  // a few steps, so the weights are not the initial ones
  for (let s = 0; s < 3; s++) await engine.step(pixels(BATCH, 10 + s), Int32Array.from({ length: BATCH }, (_, i) => (i + s) % 3), 5e-3);
  await engine.readPending();
  await engine.syncToModel();
}, 600_000);

afterAll(() => {
  engine?.dispose();
  built?.model.dispose();
});

describe("an engine run's Precise BN and validation on the engine", () => {
  it('Precise BN: the averaged batch statistics equal TF.js recalibrating the model on the same batches', { timeout: 600_000 }, async (context) => {
    if (noDevice || !engine) return context.skip(noDevice ?? 'no engine');
    const model = built.model;
    const names = recalibratedWeights(model);
    expect(names.size).toBeGreaterThan(20);
    expect(names.has('stem_bn/moving_mean') && names.has('top_bn/moving_variance')).toBe(true);
    const batches = [pixels(BATCH, 1), pixels(BATCH, 2), pixels(BATCH, 3)];
    // TF.js's Precise BN (precise-batch-norm.ts): momentum (k−1)/k for the k-th batch
    const layers = model.layers.filter((l) => names.has(`${l.name}/moving_mean`)) as unknown as { momentum: number }[];
    const saved = layers.map((l) => l.momentum);
    batches.forEach((x, i) => {
      for (const l of layers) l.momentum = i / (i + 1);
      tf.tidy(() => {
        model.apply(tf.tensor4d(x, [BATCH, RES, RES, 3]), { training: true });
      });
    });
    layers.forEach((l, i) => (l.momentum = saved[i]));
    const want = new Map(model.weights.filter((w) => names.has(w.originalName)).map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
    const before = new Map(model.weights.map((w) => [w.originalName, Float32Array.from(w.read().dataSync() as Float32Array)]));

    async function* fed() {
      for (const x of batches) yield x;
    }
    await engine.recalibrate(fed(), names);
    await engine.syncToModel();
    let worst = 0;
    for (const w of model.weights) {
      const got = w.read().dataSync() as Float32Array;
      if (names.has(w.originalName)) {
        const err = maxRelativeError(got, want.get(w.originalName)!);
        worst = Math.max(worst, err);
        expect(err, w.originalName).toBeLessThan(1e-4);
      } else {
        // nothing else changes
        expect(maxRelativeError(got, before.get(w.originalName)!), w.originalName).toBe(0);
      }
    }
    console.log(`Precise BN on the engine vs TF.js: worst relative error ${worst.toExponential(2)} over ${names.size} statistics`);
  });

  it("validation: the engine's probabilities of a short last batch equal the model's predict, and the loss TF.js's crossEntropy", { timeout: 600_000 }, async (context) => {
    if (noDevice || !engine) return context.skip(noDevice ?? 'no engine');
    const n = BATCH - 1;
    const x = pixels(n, 7);
    const labels = Int32Array.of(0, 2, 1);
    const inference = engine.openInference();
    const probs = await inference.probabilities(x, n);
    // the same batch again gives the same answer (the padding does not leak into the images)
    const again = await inference.probabilities(x, n);
    await expect(inference.probabilities(pixels(BATCH + 1, 1), BATCH + 1)).rejects.toThrow(/takes up to 4 images/);
    inference.close();
    expect(Array.from(again)).toEqual(Array.from(probs));
    const want = tf.tidy(() => (built.model.predict(tf.tensor4d(x, [n, RES, RES, 3])) as tf.Tensor).dataSync() as Float32Array);
    expect(probs.length).toBe(n * CLASSES.length);
    expect(maxRelativeError(probs, want)).toBeLessThan(1e-4);

    const ours = probabilityRowsLoss(probs, labels, CLASSES.length, 0.1);
    const [loss, correct] = tf.tidy(() => {
      const p = tf.tensor2d(probs, [n, CLASSES.length]);
      const l = tf.tensor1d(labels, 'int32');
      return [crossEntropy(p, l, { classes: CLASSES.length, labelSmoothing: 0.1, classWeights: null }).dataSync()[0] * n, correctCount(p, l).dataSync()[0]];
    });
    expect(Math.abs(ours.loss - loss) / loss).toBeLessThan(1e-5);
    expect(ours.correct).toBe(correct);
  });

  it('the loss of confident and tied rows: clipped as Keras clips, ties to the first class', () => {
    const rows = Float32Array.of(0, 1, 0.5, 0.5);
    const got = probabilityRowsLoss(rows, Int32Array.of(0, 1), 2, 0);
    expect(got.loss).toBeCloseTo(-Math.log(1e-7) - Math.log(0.5), 4);
    expect(got.correct).toBe(0);
    expect(probabilityRowsLoss(rows, Int32Array.of(1, 0), 2, 0).correct).toBe(2);
    expect(() => probabilityRowsLoss(rows, Int32Array.of(0), 2, 0)).toThrow(/4 probabilities for 1 labels of 2 classes/);
  });
});
