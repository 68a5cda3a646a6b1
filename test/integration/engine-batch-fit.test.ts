/**
 * A batch whose fp32 step does not fit what the engine can hold on the GPU, where float16 activations
 * would: the error the run halves its batch with says that precision mixed fits this batch
 * (where the adapter has shader-f16: lavapipe, `EFFITUNE_TEST_F16_ICD`); where mixed would not fit
 * either, or the adapter has no shader-f16 (SwiftShader), it says nothing of it. The GPU's binding
 * is made small with EFFITUNE_ENGINE_ARENA_BYTES (each arena below it), as the engine's halving test does.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, it } from 'vitest';
import { TrainOptions } from '../../main/contract/calls-train';
import { countTrainingStep } from '../../main/engine/plan/step-plan';
import { resolveTrainConfig } from '../../main/train/config';
import { engineGraph, engineStepOptions } from '../../main/train/engine-options';
import { EngineDoesNotFit, startEngineSteps } from '../../main/train/engine-steps';
import { buildTrainingModel, prepareForMode } from '../../main/train/model-setup';
import { createOptimizer } from '../../main/train/optimizer';
import { deviceOrSkip } from '../fixtures/engine-gpu';

if (process.env.EFFITUNE_TEST_F16_ICD && !process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = process.env.EFFITUNE_TEST_F16_ICD;

const BATCH = 16;
const CLASSES = ['a', 'b', 'c'];
const HINT = `precision mixed (float16 activations) fits batch ${BATCH} on this GPU`;

afterEach(() => {
  delete process.env.EFFITUNE_ENGINE_ARENA_BYTES;
});

describe('a batch that does not fit the GPU in fp32', () => {
  it('says when precision mixed would fit it, and only then', { timeout: 300_000 }, async (context) => {
    const gpu = await deviceOrSkip(context);
    if (!gpu) return;
    await tf.setBackend('cpu');
    const options = TrainOptions.parse({ model: 'phi=-6', resolution: 32, mode: 'full', engine: 'effitune', seed: 4 });
    const { config } = resolveTrainConfig(options, CLASSES.map((name) => ({ name, train: 20 })));
    const built = await buildTrainingModel(config);
    const setup = prepareForMode(built.model, built.variant, config);
    const optimizer = createOptimizer(config.optimizer, setup.variables, config.weightDecay);
    const graph = engineGraph(built.variant, config, built.buildOptions);
    const fp32 = countTrainingStep(graph, engineStepOptions(config, built.variant, BATCH, null)).arenaBytes;
    const mixed = countTrainingStep(graph, engineStepOptions({ ...config, precision: 'mixed' }, built.variant, BATCH, null));
    // mixed precision lays out two arenas, each in a binding of its own: the larger must fit
    const mixedBinding = Math.max(mixed.arenaBytes - mixed.halfArenaBytes, mixed.halfArenaBytes);
    expect(mixedBinding).toBeLessThan(fp32);
    const start = () => startEngineSteps(config, built, { classes: CLASSES.length, labelSmoothing: 0.1, classWeights: null }, BATCH, optimizer);
    try {
      process.env.EFFITUNE_ENGINE_ARENA_BYTES = String(Math.floor((fp32 + mixedBinding) / 2));
      const between = await start().then(
        () => null,
        (err: unknown) => err,
      );
      expect(between).toBeInstanceOf(Error);
      expect((between as Error).message).toMatch(/does not fit: the plan needs more than \d+ bytes/);
      if (gpu.features.f16) {
        expect(between).toBeInstanceOf(EngineDoesNotFit);
        expect((between as Error).message).toContain(HINT);
      } else {
        expect((between as Error).message).not.toContain('precision mixed');
      }
      process.env.EFFITUNE_ENGINE_ARENA_BYTES = String(mixedBinding - 1);
      await expect(start()).rejects.toThrow(/does not fit: the plan needs more than \d+ bytes, the most the engine can hold on this GPU \(a smaller batch or resolution fits\)$/);
    } finally {
      built.model.dispose();
    }
  });
});
