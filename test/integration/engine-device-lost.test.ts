/**
 * A GPU device lost in the middle of a run (a driver reset or timeout, the GPU taken away): the
 * engine's next step or read fails saying so and how to go on (resume from the last finished epoch),
 * instead of a bare rejected buffer read. The loss is made by destroying the device behind the
 * engine's back; a device the engine releases itself is not lost. SwiftShader without a GPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { TrainOptions } from '../../main/contract/calls-train';
import { openEngineDevice } from '../../main/engine/gpu-device';
import { resolveTrainConfig } from '../../main/train/config';
import { startEngineSteps } from '../../main/train/engine-steps';
import { buildTrainingModel, prepareForMode } from '../../main/train/model-setup';
import { createOptimizer } from '../../main/train/optimizer';
import { deviceOrSkip } from '../fixtures/engine-gpu';

const RES = 32;
const BATCH = 2;
const CLASSES = ['a', 'b'];
const LOST = /^WebGPU: the GPU device was lost \(destroyed.*\).*resume the run \(Continue, or effitune train --resume\) to go on from its last finished epoch/;

describe('a GPU device lost mid-run', () => {
  it('a device released by its owner is not lost; one destroyed behind its back is, and says how to go on', async (context) => {
    if (!(await deviceOrSkip(context))) return;
    const released = await openEngineDevice();
    released.release();
    expect(await released.lost()).toBe(false);
    expect(released.error()).toBeNull();

    const taken = await openEngineDevice();
    taken.device.destroy();
    expect(await taken.lost(5_000)).toBe(true);
    expect(`WebGPU: ${taken.error()}`).toMatch(LOST);
  });

  it("the engine's next step fails naming the loss, and so does a read of its metrics", { timeout: 300_000 }, async (context) => {
    if (!(await deviceOrSkip(context))) return;
    await tf.setBackend('cpu');
    const options = TrainOptions.parse({ model: 'phi=-6', resolution: RES, mode: 'full', engine: 'effitune', dropout: 0, dropConnect: 0, seed: 2 });
    const { config } = resolveTrainConfig(options, CLASSES.map((name) => ({ name, train: 4 })));
    const built = await buildTrainingModel(config);
    const setup = prepareForMode(built.model, built.variant, config);
    const optimizer = createOptimizer(config.optimizer, setup.variables, config.weightDecay);
    const gpu = await openEngineDevice();
    const engine = await startEngineSteps(config, built, { classes: CLASSES.length, labelSmoothing: 0, classWeights: null }, BATCH, optimizer, async () => gpu);
    try {
      const x = new Float32Array(BATCH * RES * RES * 3).fill(100);
      const y = Int32Array.from([0, 1]);
      // the first step reads its metrics at once: all is well
      expect(await engine.step(x, y, 1e-3)).toMatchObject({ n: BATCH });
      await engine.step(x, y, 1e-3);
      gpu.device.destroy();
      expect(await gpu.lost(5_000)).toBe(true);
      await expect(engine.readPending()).rejects.toThrow(LOST);
      await expect(engine.step(x, y, 1e-3)).rejects.toThrow(LOST);
    } finally {
      engine.dispose();
      built.model.dispose();
    }
  });
});
