import { describe, expect, it } from 'vitest';
import { activationElements, allParams, describeVariant, describeVariants, multiplyAdds, trainableParams, trainingMemory } from '../../main/model/estimates';
import { describeLayers } from '../../main/model/layers';
import { getVariant } from '../../main/model/variants';

/** docs/efficientnet-reference.md: trainable parameters with a 1000-class head (torchvision and timm agree). */
const PUBLISHED_PARAMS = { b0: 5_288_548, b1: 7_794_184, b2: 9_109_994, b3: 12_233_232, b4: 19_341_616, b5: 30_389_784, b6: 43_040_704, b7: 66_347_960 };
/** Same sheet: FLOPs (multiply-adds) at native resolution, in G. */
const PUBLISHED_GFLOPS = { b0: 0.39, b1: 0.7, b2: 1.0, b3: 1.8, b4: 4.2, b5: 9.9, b6: 19, b7: 37 };
/**
 * Keras' model.count_params() of EfficientNetV2 (weights of every layer, BatchNorm statistics
 * included; the preprocessing there has no weights). Our count minus our 6 preprocessing constants
 * must equal it exactly.
 */
const KERAS_V2_TOTAL = { 'v2-b0': 7_200_312, 'v2-b1': 8_212_124, 'v2-b2': 10_178_374, 'v2-b3': 14_467_622, 'v2-s': 21_612_360, 'v2-m': 54_431_388, 'v2-l': 119_027_848 };
/** Published V2 sizes from docs/efficientnet-reference.md ("EfficientNetV2"), in millions (rounded there, so within 1 %). */
const PUBLISHED_V2_MILLIONS = { 'v2-b0': 7.1, 'v2-s': 21.5, 'v2-m': 54.1, 'v2-l': 119.5 };

describe('parameter counts', () => {
  for (const [id, published] of Object.entries(PUBLISHED_PARAMS)) {
    it(`${id}: ${published.toLocaleString('en')} trainable parameters with 1000 classes, exactly`, () => {
      expect(trainableParams(describeLayers(getVariant(id)))).toBe(published);
    });
  }

  it('V1 totals are Keras EfficientNetB0/B7 count_params() minus its Normalization layer (mean, variance, count = 7)', () => {
    // Keras: B0 5,330,571 and B7 66,658,687 total; its Normalization holds 7 numbers, our preprocess 6
    expect(allParams(describeLayers(getVariant('b0'))) - 6).toBe(5_330_571 - 7);
    expect(allParams(describeLayers(getVariant('b7'))) - 6).toBe(66_658_687 - 7);
  });

  for (const [id, total] of Object.entries(KERAS_V2_TOTAL)) {
    it(`${id}: all weights equal Keras' ${total.toLocaleString('en')}`, () => {
      expect(allParams(describeLayers(getVariant(id))) - 6).toBe(total);
    });
  }

  it('V2 trainable parameters are within 1 % of the published sizes', () => {
    for (const [id, millions] of Object.entries(PUBLISHED_V2_MILLIONS)) {
      const params = trainableParams(describeLayers(getVariant(id)));
      expect(Math.abs(params / 1e6 / millions - 1), id).toBeLessThan(0.01);
    }
  });

  it('the class count changes only the classifier', () => {
    const b0 = getVariant('b0');
    expect(trainableParams(describeLayers(b0, { classes: 10 }))).toBe(PUBLISHED_PARAMS.b0 - 1280 * 990 - 990);
    expect(trainableParams(describeLayers(b0, { includeTop: false }))).toBe(PUBLISHED_PARAMS.b0 - 1280 * 1000 - 1000);
  });
});

describe('FLOPs (multiply-adds)', () => {
  for (const [id, g] of Object.entries(PUBLISHED_GFLOPS)) {
    it(`${id}: within 5 % of the published ${g} G`, () => {
      const flops = multiplyAdds(describeLayers(getVariant(id)));
      expect(Math.abs(flops / (g * 1e9) - 1)).toBeLessThan(0.05);
    });
  }

  it('V2-S is within 5 % of its published 8.4 G', () => {
    expect(Math.abs(multiplyAdds(describeLayers(getVariant('v2-s'))) / 8.4e9 - 1)).toBeLessThan(0.05);
  });

  it('scale with the square of the resolution (convolutions) plus the classifier', () => {
    const b0 = getVariant('b0');
    const at224 = multiplyAdds(describeLayers(b0, { resolution: 224 })) - 1280 * 1000;
    const at448 = multiplyAdds(describeLayers(b0, { resolution: 448 })) - 1280 * 1000;
    // SE layers work on pooled vectors and do not scale: the ratio stays a hair under 4
    expect(at448 / at224).toBeGreaterThan(3.98);
    expect(at448 / at224).toBeLessThan(4);
  });
});

describe('training memory', () => {
  it('is 4 bytes × (8·batch·activations + weights + 4·trainable), linear in the batch', () => {
    const layers = describeLayers(getVariant('b0'));
    const m1 = trainingMemory(layers, 1);
    const m32 = trainingMemory(layers, 32);
    expect(m32.activations).toBe(32 * m1.activations);
    expect(m1.activations).toBe(4 * 8 * activationElements(layers));
    expect(m1.weights).toBe(4 * allParams(layers));
    expect(m1.gradients).toBe(4 * 2 * PUBLISHED_PARAMS.b0);
    expect(m1.optimizerState).toBe(4 * 2 * PUBLISHED_PARAMS.b0);
    expect(m32.total - m1.total).toBe(31 * m1.activations);
  });
});

describe('describeVariants (effitune models --json)', () => {
  it('lists every published variant with resolution, params, FLOPs, memory and top-1', () => {
    const all = describeVariants(32);
    expect(all.map((v) => v.id)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'v2-b0', 'v2-b1', 'v2-b2', 'v2-b3', 'v2-s', 'v2-m', 'v2-l']);
    const b0 = all[0];
    expect(b0).toMatchObject({ name: 'EfficientNet-B0', resolution: 224, params: 5_288_548, top1: 77.1, batch: 32, blocks: 16 });
    expect(b0.flops).toBeGreaterThan(0.37e9);
    expect(all.map((v) => v.top1).slice(0, 8)).toEqual([77.1, 79.1, 80.1, 81.6, 82.9, 83.6, 84.0, 84.3]);
    // bigger variants cost more on every axis
    for (let i = 1; i < 8; i++) {
      expect(all[i].flops).toBeGreaterThan(all[i - 1].flops);
      expect(all[i].trainingMemoryBytes).toBeGreaterThan(all[i - 1].trainingMemoryBytes);
    }
    expect(JSON.parse(JSON.stringify(all))).toEqual(all);
  });

  it('describes a custom φ at its own resolution', () => {
    const tiny = describeVariant('phi=-6', 8, { classes: 10 });
    expect(tiny.resolution).toBe(96);
    expect(tiny.top1).toBeNull();
    expect(tiny.params).toBeLessThan(1_000_000);
    expect(describeVariant('phi=-6', 8, { resolution: 64 }).resolution).toBe(64);
    expect(tiny.flops).toBeLessThan(describeVariant('b0', 8).flops / 10);
  });
});
