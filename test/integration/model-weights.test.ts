/**
 * Weight import with exact parity. The tests write real-format files themselves (Keras .h5 with
 * h5wasm in keras applications' layout, timm .safetensors bytes) from a seeded random EfficientNet-B0
 * and compare the imported tf.js model with an independent float64 forward pass
 * (test/fixtures/model/reference-efficientnet.ts): its own block table, padding arithmetic and
 * convolution loops, reading parameters in the neutral [out][in][kh][kw] layout. The .h5 path is
 * checked against it with TF "SAME" padding and BN eps 1e-3, the timm path for tf_efficientnet_b0
 * (same) and for plain efficientnet_b0 (symmetric padding, eps 1e-5); the two references differ, so
 * a wrong padding, epsilon, layout or normalisation fails a test.
 * Resolution 64 keeps the reference and tf.js cpu fast; the weights are B0's at any resolution.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { useBackend } from '../../main/backend/tfjs-backend';
import { importWeights, type ImportWeightsOptions } from '../../main/model/weights/import';
import { calibrateBatchNorm, randomB0, referenceForward, testImages, type RefForwardOptions, type RefNet, type RefOutput } from '../fixtures/model/reference-efficientnet';
import { IMAGENET_MEAN, IMAGENET_STD, kerasLayers, timmTensors, writeKerasH5, writeSafetensors, type SafetensorsTensor } from '../fixtures/model/weight-files';

const SIZE = 64;
const TOLERANCE = 1e-4;

let dir: string;
let pixels: tf.Tensor4D;
/** the network in the Keras and tf_efficientnet files, and its reference outputs (TF SAME, eps 1e-3) */
let tfSame: RefOutput;
/** another network, in the plain efficientnet_b0 file, and its reference outputs (symmetric, eps 1e-5) */
let symmetric: RefOutput;
/** the first network's outputs computed as if it were a plain efficientnet_b0 */
let tfNetSymmetric: RefOutput;
let files: { h5: string; h5NoTop: string; timm: string; timmPlainDir: string; timmTensors: SafetensorsTensor[] };

/** A random B0 whose BatchNorm statistics come from these images under this padding and epsilon. */
function calibratedNet(seed: number, images: Float64Array[], options: RefForwardOptions): RefNet {
  const net = randomB0(seed);
  calibrateBatchNorm(net, [...images, ...testImages(2, SIZE, seed + 1)], SIZE, options, seed + 2);
  return net;
}

beforeAll(async () => {
  await useBackend('cpu');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-model-weights-'));
  const images = testImages(2, SIZE, 2);
  pixels = tf.tensor4d(Float32Array.from(images.flatMap((a) => Array.from(a))), [images.length, SIZE, SIZE, 3]);
  const keras = { padding: 'tf-same', eps: 1e-3, mean: IMAGENET_MEAN, std: IMAGENET_STD } as const;
  const pytorch = { ...keras, padding: 'symmetric', eps: 1e-5 } as const;

  const net = calibratedNet(20240611, images, keras);
  tfSame = referenceForward(net, images, SIZE, keras);
  tfNetSymmetric = referenceForward(net, images, SIZE, pytorch);
  const h5 = path.join(dir, 'efficientnetb0.h5');
  await writeKerasH5(h5, kerasLayers(net, { includeTop: true, normalization: 'std-as-variance' }));
  const h5NoTop = path.join(dir, 'efficientnetb0_notop.h5');
  await writeKerasH5(h5NoTop, kerasLayers(net, { includeTop: false, normalization: 'variance' }));
  const tensors = timmTensors(net);
  const timm = path.join(dir, 'model.safetensors');
  writeSafetensors(timm, tensors);

  const plainNet = calibratedNet(777, images, pytorch);
  symmetric = referenceForward(plainNet, images, SIZE, pytorch);
  // timm's hub layout: model.safetensors beside a config.json naming the architecture
  const timmPlainDir = path.join(dir, 'efficientnet_b0.ra_in1k');
  fs.mkdirSync(timmPlainDir);
  writeSafetensors(path.join(timmPlainDir, 'model.safetensors'), timmTensors(plainNet));
  fs.writeFileSync(
    path.join(timmPlainDir, 'config.json'),
    JSON.stringify({ architecture: 'efficientnet_b0', num_classes: 1000, pretrained_cfg: { tag: 'ra_in1k', mean: IMAGENET_MEAN, std: IMAGENET_STD } }),
  );
  files = { h5, h5NoTop, timm, timmPlainDir, timmTensors: tensors };
}, 120_000);

afterAll(() => {
  pixels?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Largest absolute difference between the model's pooled features / probabilities and the reference. */
function deviation(model: tfl.LayersModel, reference: RefOutput): { features: number; probabilities: number | null } {
  const featureModel = tfl.model({ inputs: model.inputs, outputs: model.getLayer('avg_pool').output as tfl.SymbolicTensor });
  const features = (featureModel.predict(pixels) as tf.Tensor).dataSync();
  const width = reference.features[0].length;
  let f = 0;
  reference.features.forEach((ref, n) => ref.forEach((v, i) => (f = Math.max(f, Math.abs(v - features[n * width + i])))));
  const out = model.outputs[0].shape;
  if (out[1] !== reference.probabilities[0].length) return { features: f, probabilities: null };
  const probabilities = (model.predict(pixels) as tf.Tensor).dataSync();
  let p = 0;
  reference.probabilities.forEach((ref, n) => ref.forEach((v, i) => (p = Math.max(p, Math.abs(v - probabilities[n * ref.length + i])))));
  return { features: f, probabilities: p };
}

async function importError(options: ImportWeightsOptions): Promise<ApiError> {
  const before = tf.memory().numTensors;
  try {
    const imported = await importWeights(options);
    imported.model.dispose();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    // refused before a model existed: nothing half-loaded is left behind
    expect(tf.memory().numTensors).toBe(before);
    return err as ApiError;
  }
  throw new Error(`importing ${options.file} should have failed`);
}

describe('the reference itself', () => {
  it('TF "SAME" + eps 1e-3 and symmetric + eps 1e-5 give clearly different outputs (so parity below means something)', () => {
    let f = 0;
    let p = 0;
    tfSame.features.forEach((ref, n) => ref.forEach((v, i) => (f = Math.max(f, Math.abs(v - tfNetSymmetric.features[n][i])))));
    tfSame.probabilities.forEach((ref, n) => ref.forEach((v, i) => (p = Math.max(p, Math.abs(v - tfNetSymmetric.probabilities[n][i])))));
    expect(f).toBeGreaterThan(100 * TOLERANCE);
    expect(p).toBeGreaterThan(10 * TOLERANCE);
    // and the output depends on the picture: the two images give different features
    for (const out of [tfSame, symmetric]) {
      let images01 = 0;
      out.features[0].forEach((v, i) => (images01 = Math.max(images01, Math.abs(v - out.features[1][i]))));
      expect(images01).toBeGreaterThan(0.1);
    }
  });
});

describe('Keras .h5 import (keras applications layout)', () => {
  it('efficientnetb0.h5: variant recognised from the tensors, outputs equal the reference within 1e-4', async () => {
    const imported = await importWeights({ file: files.h5, resolution: SIZE });
    try {
      expect(imported.variant.id).toBe('b0');
      expect(imported).toMatchObject({ format: 'keras-h5', classes: 1000, headLoaded: true });
      expect(imported.notes.join('\n')).toMatch(/std in its variance slot/);
      const d = deviation(imported.model, tfSame);
      expect(d.features).toBeLessThan(TOLERANCE);
      expect(d.probabilities).toBeLessThan(TOLERANCE);
    } finally {
      imported.model.dispose();
    }
  });

  it('efficientnetb0_notop.h5 with a true variance and 5 classes: same backbone outputs, a new 5-class head', async () => {
    const imported = await importWeights({ file: files.h5NoTop, variant: 'b0', classes: 5, resolution: SIZE, seed: 3 });
    try {
      expect(imported).toMatchObject({ classes: 5, headLoaded: false });
      expect(imported.notes.join('\n')).toMatch(/true variance/);
      expect(imported.model.outputs[0].shape).toEqual([null, 5]);
      expect(deviation(imported.model, tfSame).features).toBeLessThan(TOLERANCE);
    } finally {
      imported.model.dispose();
    }
  });

  it('without top: a feature extractor ending at top_activation', async () => {
    const imported = await importWeights({ file: files.h5, includeTop: false, resolution: SIZE });
    try {
      expect(imported.classes).toBeNull();
      expect(imported.model.outputs[0].shape).toEqual([null, 2, 2, 1280]);
    } finally {
      imported.model.dispose();
    }
  });
});

describe('timm .safetensors import', () => {
  it('tf_efficientnet_b0: PyTorch layouts converted, outputs equal the reference (TF SAME, eps 1e-3) within 1e-4', async () => {
    const imported = await importWeights({ file: files.timm, timmModel: 'tf_efficientnet_b0.ns_jft_in1k', resolution: SIZE });
    try {
      expect(imported).toMatchObject({ format: 'timm-safetensors', classes: 1000, headLoaded: true });
      expect(imported.buildOptions).toMatchObject({ padding: 'tf-same', bnEpsilon: 1e-3 });
      const d = deviation(imported.model, tfSame);
      expect(d.features).toBeLessThan(TOLERANCE);
      expect(d.probabilities).toBeLessThan(TOLERANCE);
    } finally {
      imported.model.dispose();
    }
  });

  it('plain efficientnet_b0 (named by config.json): symmetric padding and eps 1e-5, equal to that reference within 1e-4', async () => {
    const imported = await importWeights({ file: path.join(files.timmPlainDir, 'model.safetensors'), resolution: SIZE });
    try {
      expect(imported.variant.id).toBe('b0');
      expect(imported.buildOptions).toMatchObject({ padding: 'symmetric', bnEpsilon: 1e-5 });
      expect(imported.notes[0]).toMatch(/efficientnet_b0\.ra_in1k.*config\.json/);
      const d = deviation(imported.model, symmetric);
      expect(d.features).toBeLessThan(TOLERANCE);
      expect(d.probabilities).toBeLessThan(TOLERANCE);
    } finally {
      imported.model.dispose();
    }
  });

  it('refuses to guess between tf_efficientnet_bN and efficientnet_bN when nothing names the model', async () => {
    const err = await importError({ file: files.timm });
    expect(err.code).toBe('invalid_input');
    expect(err.message).toMatch(/cannot tell which timm model .*model\.safetensors holds.*--timm-model tf_efficientnet_b0/);
  });

  it('refuses other timm architectures and a variant that contradicts the name', async () => {
    expect((await importError({ file: files.timm, timmModel: 'efficientnetv2_rw_s' })).message).toMatch(/timm model "efficientnetv2_rw_s".*not supported/);
    expect((await importError({ file: files.timm, timmModel: 'tf_efficientnet_b0', variant: 'b3' })).message).toMatch(/holds EfficientNet-B0.*not EfficientNet-B3/);
  });
});

describe('bad weight files are refused with the tensor named, never half-loaded', () => {
  const write = (name: string, bytes: Buffer | string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };

  it('truncated .h5', async () => {
    const bytes = fs.readFileSync(files.h5NoTop);
    const err = await importError({ file: write('cut.h5', bytes.subarray(0, Math.floor(bytes.length * 0.6))), classes: 3 });
    expect(err.message).toMatch(/cut\.h5 is not a readable HDF5 file: .*truncated/);
  });

  it('truncated .safetensors', async () => {
    const bytes = fs.readFileSync(files.timm);
    const err = await importError({ file: write('cut.safetensors', bytes.subarray(0, bytes.length - 1000)), timmModel: 'tf_efficientnet_b0' });
    expect(err.message).toMatch(/cut\.safetensors is not a valid \.safetensors file: tensor "classifier\.bias" ends at byte \d+ of the data but the file holds only \d+ \(truncated\?\)/);
  });

  it('not a weights file at all', async () => {
    expect((await importError({ file: write('notes.h5', 'hello') })).message).toMatch(/notes\.h5 is not an HDF5 file/);
    expect((await importError({ file: write('notes.safetensors', 'hello there, not tensors') })).message).toMatch(/not a valid \.safetensors file/);
    expect((await importError({ file: path.join(dir, 'missing.h5') })).code).toBe('not_found');
  });

  it('a file for another variant: the missing weight is named and the matching variant suggested', async () => {
    const err = await importError({ file: files.h5, variant: 'b1' });
    expect(err.message).toMatch(/lacks weight "block1b_dwconv\/depthwise_kernel" that EfficientNet-B1 needs — the file matches EfficientNet-B0 \(--model b0\)/);
  });

  it('a shape mismatch names the tensor and both shapes (in the file\'s own layout)', async () => {
    // same depth as B0, 10 % wider: the first different tensor is block3a's projection (40 vs 48 filters)
    const h5 = await importError({ file: files.h5, variant: 'phi=1,alpha=1,beta=1.1,gamma=1.15' });
    expect(h5.message).toMatch(/tensor "block3a_project_conv\/block3a_project_conv\/kernel:0" in .* has shape \[1, 1, 144, 40\] but .* needs \[1, 1, 144, 48\]/);

    const tensors = files.timmTensors.map((t) => (t.name === 'blocks.1.0.conv_pw.weight' ? { ...t, shape: [48, 32, 1, 1] } : t));
    const file = path.join(dir, 'reshaped', 'tf_efficientnet_b0.safetensors');
    fs.mkdirSync(path.dirname(file));
    writeSafetensors(file, tensors);
    const timm = await importError({ file });
    expect(timm.message).toMatch(/tensor "blocks\.1\.0\.conv_pw\.weight" in .* has shape \[48, 32, 1, 1\] but EfficientNet-B0 needs \[96, 16, 1, 1\]/);
  });

  it('an unknown tensor or a missing one', async () => {
    const extra = path.join(dir, 'extra-tf_efficientnet_b0.safetensors');
    writeSafetensors(extra, [...files.timmTensors.slice(0, 3), { name: 'blocks.0.0.conv_extra.weight', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
    expect((await importError({ file: extra })).message).toMatch(/tensor "blocks\.0\.0\.conv_extra\.weight" in .* is not part of a timm EfficientNet/);

    const missing = path.join(dir, 'missing-tf_efficientnet_b0.safetensors');
    writeSafetensors(missing, files.timmTensors.filter((t) => t.name !== 'blocks.3.1.bn2.running_var'));
    expect((await importError({ file: missing })).message).toMatch(/lacks weight "block4b_bn\/moving_variance" that EfficientNet-B0 needs/);
  });

  it('a notop file without a class count', async () => {
    expect((await importError({ file: files.h5NoTop })).message).toMatch(/has no classifier .*give the number of classes/);
  });
});
