import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../main/backend/tfjs-backend';
import type { BuildOptions } from '../../main/model/build-options';
import { buildEfficientNet, countTrainableParams } from '../../main/model/builder';
import { activationElements, trainableParams, trainingMemory } from '../../main/model/estimates';
import { describeLayers } from '../../main/model/layers';
import { getVariant, IMAGENET_MEAN, IMAGENET_STD } from '../../main/model/variants';

beforeAll(async () => {
  await useBackend('cpu');
});

/** What a built model really is: every layer's name, output shape and weights. */
function builtLayers(model: tfl.LayersModel) {
  return model.layers.map((layer) => ({
    name: layer.name,
    outputShape: layer.outputShape,
    weights: layer.weights.map((w) => ({ name: w.originalName, shape: w.shape, trainable: w.trainable })),
  }));
}

function tableLayers(id: string, options: BuildOptions) {
  return describeLayers(getVariant(id), options).map((l) => ({
    name: l.name,
    outputShape: [null, ...l.outputShape],
    weights: l.weights.map((w) => ({ name: `${l.name}/${w.name}`, shape: [...w.shape], trainable: w.trainable })),
  }));
}

describe('the layer table (estimates) is the built model', () => {
  const cases: [string, BuildOptions][] = [
    ['b0', {}],
    ['b1', { resolution: 64 }],
    ['v2-b0', { resolution: 64, classes: 7 }],
    ['phi=-6', { includeTop: false, pooling: 'avg' }],
    ['b0', { resolution: 65, padding: 'symmetric', includeTop: false }],
    ['b0', { resolution: 65, dropConnect: 0, dropout: 0 }],
  ];
  for (const [id, options] of cases) {
    it(`${id} ${JSON.stringify(options)}: same layers, output shapes and weights, in order`, () => {
      const model = buildEfficientNet(id, options);
      try {
        expect(builtLayers(model)).toEqual(tableLayers(id, options));
        expect(countTrainableParams(model)).toBe(trainableParams(describeLayers(getVariant(id), options)));
      } finally {
        model.dispose();
      }
    });
  }

  it('built B0 and B1 have the published trainable parameter counts', () => {
    for (const [id, published] of [['b0', 5_288_548], ['b1', 7_794_184]] as const) {
      const model = buildEfficientNet(id, { resolution: 32 });
      expect(countTrainableParams(model)).toBe(published);
      model.dispose();
    }
  });
});

describe('the built model', () => {
  it('takes RGB pixels 0..255: its first layer computes (x/255 − mean)/std and is frozen', () => {
    const model = buildEfficientNet('phi=-8', { resolution: 32, classes: 3 });
    const preprocess = model.getLayer('preprocess');
    expect(preprocess.trainable).toBe(false);
    const sub = tfl.model({ inputs: model.inputs, outputs: preprocess.output as tfl.SymbolicTensor });
    const pixels = tf.tensor4d(Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 37) % 256), [1, 32, 32, 3]);
    const got = (sub.predict(pixels) as tf.Tensor).dataSync();
    const px = pixels.dataSync();
    let worst = 0;
    for (let i = 0; i < px.length; i++) worst = Math.max(worst, Math.abs(got[i] - (px[i] / 255 - IMAGENET_MEAN[i % 3]) / IMAGENET_STD[i % 3]));
    expect(worst).toBeLessThan(1e-5);
    model.dispose();
    pixels.dispose();
  });

  it('saves as plain TF.js layers and reloads with tf.loadLayersModel, giving the same outputs', async () => {
    const model = buildEfficientNet('phi=-4', { resolution: 32, classes: 5, seed: 1 });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const topology = JSON.stringify(saved!.modelTopology);
    const classNames = new Set([...topology.matchAll(/"class_name":"(\w+)"/g)].map((m) => m[1]));
    // only stock layer classes: a TF.js program without Effitune's code can load the export
    for (const name of classNames) expect(['Model', 'InputLayer', 'DepthwiseConv2D', 'Conv2D', 'BatchNormalization', 'Activation', 'GlobalAveragePooling2D', 'Reshape', 'Multiply', 'Dropout', 'Add', 'Dense', 'VarianceScaling', 'Zeros', 'Ones']).toContain(name);
    expect(topology).toContain('"noise_shape":[null,1,1,1]');

    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomUniform([2, 32, 32, 3], 0, 255, 'float32', 3);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (reloaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(reloaded.getLayer('preprocess').trainable).toBe(false);
    model.dispose();
    reloaded.dispose();
    x.dispose();
  });

  it('stochastic depth drops whole residual branches per sample in training and is the identity in inference', () => {
    const model = buildEfficientNet('b0', { resolution: 32, dropConnect: 0.9 });
    const drop = model.getLayer('block6d_drop');
    const rate = (0.9 * 14) / 16;
    expect(drop.getConfig()).toMatchObject({ rate, noiseShape: [null, 1, 1, 1] });
    const ones = tf.ones([200, 2, 2, 4]);
    const trained = (drop.apply(ones, { training: true }) as tf.Tensor).arraySync() as number[][][][];
    const perSample = trained.map((sample) => new Set(sample.flat(2)));
    expect(perSample.every((values) => values.size === 1)).toBe(true); // the whole branch, not single activations
    const kept = perSample.map((values) => [...values][0]);
    expect(kept.some((v) => v === 0)).toBe(true);
    expect(kept.some((v) => Math.abs(v - 1 / (1 - rate)) < 1e-4)).toBe(true);
    expect(kept.every((v) => v === 0 || Math.abs(v - 1 / (1 - rate)) < 1e-4)).toBe(true);
    const inferred = (drop.apply(ones, { training: false }) as tf.Tensor).dataSync();
    expect(inferred.every((v) => v === 1)).toBe(true);
    model.dispose();
    ones.dispose();
  });

  it('gives the same prediction twice (no dropout at inference) and a probability distribution', () => {
    const model = buildEfficientNet('phi=-8', { resolution: 32, classes: 4, seed: 2 });
    const x = tf.randomUniform([3, 32, 32, 3], 0, 255, 'float32', 5);
    const a = (model.predict(x) as tf.Tensor).arraySync() as number[][];
    const b = (model.predict(x) as tf.Tensor).arraySync() as number[][];
    expect(b).toEqual(a);
    for (const row of a) expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    model.dispose();
    x.dispose();
  });

  it('the same seed builds the same weights, another seed other weights', () => {
    const weights = (seed: number) => {
      const m = buildEfficientNet('phi=-8', { resolution: 32, classes: 3, seed });
      const w = m.getLayer('block2a_expand_conv').getWeights()[0].dataSync().slice(0, 20);
      m.dispose();
      return Array.from(w);
    };
    expect(weights(4)).toEqual(weights(4));
    expect(weights(4)).not.toEqual(weights(5));
  });
});

describe('the training-memory estimate matches tf.js', () => {
  it('activations + gradients are within 15 % of the peak tf.profile measures for a gradient pass', async () => {
    // tiny on purpose: the tf.js cpu backend's gradient pass is slow; activations are still ~80 % of the estimate here
    const variant = getVariant('phi=-8');
    const options = { resolution: 48, classes: 10 };
    const model = buildEfficientNet(variant, options);
    const layers = describeLayers(variant, options);
    for (const batch of [1, 2]) {
      const x = tf.randomUniform([batch, 48, 48, 3], 0, 255);
      const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10);
      const before = tf.memory().numBytes;
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tfl.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
        value.dispose();
        tf.dispose(grads);
      });
      const measured = profile.peakBytes - before;
      const estimate = trainingMemory(layers, batch);
      const ratio = (estimate.activations + estimate.gradients) / measured;
      expect(ratio, `batch ${batch}: estimate ${estimate.activations + estimate.gradients} vs measured ${measured} (${activationElements(layers)} elements)`).toBeGreaterThan(0.85);
      expect(ratio).toBeLessThan(1.15);
      tf.dispose([x, y]);
    }
    model.dispose();
  }, 60_000);
});
