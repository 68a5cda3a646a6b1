/**
 * Top-N training with the frozen trunk on ONNX Runtime: the training backend holds only the top's
 * activations and gradients. The estimate (topTrainingMemory) must never promise less than a
 * gradient pass of the top really takes (tf.profile's peak), nor waste the batch by far.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../main/contract/calls-train';
import { useBackend } from '../../main/backend/tfjs-backend';
import { topTrainingMemory, trainingMemory } from '../../main/model/estimates';
import { buildEfficientNet } from '../../main/model/builder';
import { describeLayers } from '../../main/model/layers';
import { getVariant } from '../../main/model/variants';
import { prepareForMode } from '../../main/train/model-setup';
import { firstTopBlock } from '../../main/train/top-start';
import { topModelOf } from '../../main/train/top-model';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('top-N memory estimate', () => {
  it('covers the measured peak of a gradient pass of the top, within 1.5×, and is far below the whole model', async () => {
    const variant = getVariant('phi=-8');
    const options = { resolution: 48, classes: 10 };
    const model = buildEfficientNet(variant, options);
    const setup = prepareForMode(model, variant, { mode: 'top', topBlocks: 2, freezeBatchNorm: true } as TrainConfig);
    const first = firstTopBlock(variant, 2);
    const top = topModelOf(model, first);
    const layers = describeLayers(variant, options);
    const shape = top.inputs[0].shape.slice(1) as number[];
    for (const batch of [1, 2, 4]) {
      const x = tf.randomUniform([batch, ...shape]);
      const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10);
      const before = tf.memory().numBytes;
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tfl.metrics.categoricalCrossentropy(y, top.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, setup.variables);
        value.dispose();
        tf.dispose(grads);
      });
      const measured = profile.peakBytes - before;
      const estimate = topTrainingMemory(layers, batch, first);
      const ratio = (estimate.activations + estimate.gradients) / measured;
      expect(ratio, `batch ${batch}: estimate ${estimate.activations + estimate.gradients} vs measured ${measured}`).toBeGreaterThanOrEqual(1);
      expect(ratio).toBeLessThan(1.5);
      const whole = trainingMemory(layers, batch);
      expect(estimate.activations).toBeLessThan(whole.activations / 3);
      tf.dispose([x, y]);
    }
    top.dispose();
    model.dispose();
  }, 60_000);
});
