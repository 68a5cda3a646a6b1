/**
 * Every path that predicts runs on ONNX Runtime by default and gives the TF.js model's answers
 * within 1e-4: the evaluation's predictor (files and "try an image", in this process and in the
 * service's predictor process), `effitune infer` (models.predict) and `effitune predict`
 * (predict.files) on a TF.js folder. Each says what ran it; forcing a TF.js backend still runs TF.js.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../main/backend/tfjs-backend';
import { ProcessPredictor } from '../../main/eval/predictor-client';
import { LocalPredictor, type PredictJob } from '../../main/eval/predictor';
import { predictWithModelFolder } from '../../main/eval/predict-model-folder';
import { openPredictionModel } from '../../main/export/predict/prediction-model';
import { preprocessForInference } from '../../main/dataset/image-pixels';
import { buildEfficientNet } from '../../main/model/builder';
import { saveModelFolder } from '../../main/model/manager/model-folder';
import * as tf from '@tensorflow/tfjs-core';
import { getVariant } from '../../main/model/variants';
import { backboneOf, prepareForMode } from '../../main/train/model-setup';
import { backboneOnOnnx, splitAtTop } from '../../main/train/frozen-on-onnx';
import type { TrainConfig } from '../../main/contract/calls-train';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { writeTrainImages } from '../fixtures/train-project';

let dir: string;
let modelDir: string;
let images: { id: number; path: string }[];
const local = new LocalPredictor();
const child = new ProcessPredictor();
const previousHome = process.env.EFFITUNE_HOME;

beforeAll(async () => {
  dir = makeTempDir('inference-paths');
  process.env.EFFITUNE_HOME = path.join(dir, 'home');
  await useBackend('cpu');
  const model = buildEfficientNet('phi=-8', { classes: 3, resolution: 32, includeTop: true, seed: 11 });
  modelDir = path.join(dir, 'run', 'model');
  await saveModelFolder(model, modelDir, { variant: 'phi=-8', resolution: 32, classes: 3, input: 'RGB 0..255' });
  model.dispose();
  const files = Object.values(await writeTrainImages(path.join(dir, 'images'), 8)).flat();
  images = files.map((file, i) => ({ id: i + 1, path: file }));
}, 120_000);

afterAll(() => {
  child.close();
  local.close();
  if (previousHome === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = previousHome;
  removeDir(dir);
});

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

async function predictAll(predictor: LocalPredictor | ProcessPredictor, job: PredictJob) {
  const probs = new Map<number, Float32Array>();
  const result = await predictor.predictFiles(job, images, { onBatch: (batch) => batch.forEach((r) => probs.set(r.id, r.probs)), onProgress: () => undefined });
  return { probs, ...result };
}

describe('evaluation predictor', () => {
  const model = () => ({ dir: modelDir, resolution: 32, classes: 3 });

  it('predicts files on ONNX Runtime by default, equal to TF.js within 1e-4, and says so', async () => {
    const onnx = await predictAll(local, { model: model() });
    const tfjs = await predictAll(local, { model: model(), backend: 'cpu' });
    expect(onnx.backend).toBe('onnxruntime:cpu');
    expect(tfjs.backend).toBe('cpu');
    expect(onnx.probs.size).toBe(images.length);
    for (const [id, p] of tfjs.probs) expect(maxDifference(onnx.probs.get(id)!, p), `image ${id}`).toBeLessThan(1e-4);
  });

  it('the service predictor process gives the same on ONNX Runtime, and "try an image" too', async () => {
    const inProcess = await predictAll(local, { model: model() });
    const there = await predictAll(child, { model: model() });
    expect(there.backend).toBe('onnxruntime:cpu');
    for (const [id, p] of inProcess.probs) expect(maxDifference(there.probs.get(id)!, p)).toBeLessThan(1e-5);
    const pixels = await preprocessForInference(images[0].path, 32);
    const one = await child.predictPixels({ model: model() }, pixels);
    const tfjs = await local.predictPixels({ model: model(), backend: 'cpu' }, pixels);
    expect(maxDifference(one, tfjs)).toBeLessThan(1e-4);
  }, 120_000);

  it('a provider that does not load here is refused in words when forced', async () => {
    const error = await predictAll(local, { model: model(), provider: 'coreml' }).catch((e: unknown) => e);
    if (process.platform === 'darwin') return;
    expect(error).toMatchObject({ code: 'invalid_input' });
    expect((error as Error).message).toMatch(/provider: coreml does not load here: .*only on macOS/);
  });
});

describe('infer and predict on a TF.js folder', () => {
  it('effitune infer (models.predict) runs on ONNX Runtime and matches TF.js', async () => {
    const files = images.slice(0, 3).map((i) => i.path);
    const onnx = await predictWithModelFolder({ model: modelDir, images: files, top: 3 });
    const tfjs = await predictWithModelFolder({ model: modelDir, images: files, top: 3, backend: 'cpu' });
    expect(onnx.backend).toBe('onnxruntime:cpu');
    expect(tfjs.backend).toBe('cpu');
    onnx.predictions.forEach((p, i) => expect(maxDifference(p.probabilities, tfjs.predictions[i].probabilities)).toBeLessThan(1e-4));
  });

  it('effitune predict (predict.files) runs a TF.js folder on ONNX Runtime; an export check still runs it in TF.js', async () => {
    const auto = await openPredictionModel(modelDir, { runtime: 'auto' });
    const tfjs = await openPredictionModel(modelDir);
    try {
      expect(auto.ranOn).toBe('onnxruntime:cpu');
      expect(tfjs.ranOn).toMatch(/^tfjs:/);
      const pixels = await preprocessForInference(images[1].path, 32);
      expect(maxDifference(await auto.run(pixels, 1), await tfjs.run(pixels, 1))).toBeLessThan(1e-4);
    } finally {
      auto.dispose();
      tfjs.dispose();
    }
  });
});

describe("training's frozen parts on ONNX Runtime", () => {
  it('head mode: the backbone features equal TF.js within 1e-4', async () => {
    const model = buildEfficientNet('phi=-8', { classes: 3, resolution: 64, includeTop: true, seed: 12 });
    try {
      const onnx = (await backboneOnOnnx(model, path.join(dir, 'head-run')))!;
      expect(onnx.record.engine).toBe('onnxruntime');
      const pixels = Float32Array.from({ length: 3 * 64 * 64 * 3 }, (_, i) => (i * 31) % 256);
      const expected = tf.tidy(() => backboneOf(model).predict(tf.tensor4d(pixels, [3, 64, 64, 3])) as tf.Tensor);
      expect(maxDifference(await onnx.run(pixels, 3), (await expected.data()) as Float32Array)).toBeLessThan(1e-4);
      expected.dispose();
    } finally {
      model.dispose();
    }
  });

  it('top mode: the trainable top on the ONNX trunk gives what the whole TF.js model gives', async () => {
    const variant = getVariant('phi=-8');
    const model = buildEfficientNet(variant, { classes: 3, resolution: 64, includeTop: true, seed: 13 });
    try {
      prepareForMode(model, variant, { mode: 'top', topBlocks: 2, freezeBatchNorm: true } as TrainConfig);
      const split = (await splitAtTop(model, variant, 2, path.join(dir, 'top-run')))!;
      expect(split.block).toBe('block6a');
      // at 64 px block6a starts at stride 16: a 4×4 image, where NCHW and NHWC orders differ
      expect(split.activationShape.slice(0, 2)).toEqual([4, 4]);
      const pixels = Float32Array.from({ length: 2 * 64 * 64 * 3 }, (_, i) => (i * 29) % 256);
      const activations = await split.trunk.run(pixels, 2);
      const viaTop = tf.tidy(() => split.top.apply(tf.tensor(activations, [2, ...split.activationShape]), { training: false }) as tf.Tensor);
      const whole = tf.tidy(() => model.apply(tf.tensor4d(pixels, [2, 64, 64, 3]), { training: false }) as tf.Tensor);
      expect(maxDifference((await viaTop.data()) as Float32Array, (await whole.data()) as Float32Array)).toBeLessThan(1e-4);
      tf.dispose([viaTop, whole]);
      split.top.dispose();
    } finally {
      model.dispose();
    }
  });
});
