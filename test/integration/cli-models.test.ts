/**
 * The model commands as a real `effitune` process (bin/effitune.mjs) with a temporary
 * EFFITUNE_HOME: `models`, `weights import` of test-written Keras .h5 and timm .safetensors files
 * into TF.js model folders, `infer` on those folders giving the in-process model's probabilities
 * (within 1e-5), bad .npy files refused with the file and shape named, and `weights download`
 * against a local HTTP server: an interrupted transfer resumed with a Range request, then a
 * checksum mismatch that leaves nothing in the cache, and the offline message.
 * Models are tiny (φ = −8 at 48 px) or B0 at 64 px so the whole file runs in well under a minute.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useBackend } from '../../main/backend/tfjs-backend';
import { buildEfficientNet } from '../../main/model/builder';
import { importWeights } from '../../main/model/weights/import';
import { preprocessForInference } from '../../main/dataset/image-pixels';
import { calibrateBatchNorm, randomB0, seededRandom, testImages } from '../fixtures/model/reference-efficientnet';
import { IMAGENET_MEAN, IMAGENET_STD, timmTensors, writeKerasH5, writeSafetensors } from '../fixtures/model/weight-files';
import { effitune as spawnEffitune, onlyJson } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { kerasLayersOfModel as kerasLayersOf } from '../fixtures/model/tiny-weights-file';

// Each run starts Node + tsx + TensorFlow.js; on two busy CPU cores that alone can take seconds.
const SLOW = 120_000;
const TINY = { variant: 'phi=-8', size: 48, classes: 4 };
const B0_SIZE = 64;

let tmp: string;
let home: string;

/** The real binary in this file's temporary folder and EFFITUNE_HOME, with extra environment variables. */
const effitune = (args: string[], env: Record<string, string> = {}) => spawnEffitune(args, { cwd: tmp, home, env });

/** An .npy file written by hand: magic, version, padded dict header, raw data. */
function writeNpy(file: string, descr: string, shape: number[], data: Uint8Array, version: 1 | 2 = 1): void {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const prefix = version === 1 ? 10 : 12;
  const header = dict + ' '.repeat(63 - ((prefix + dict.length) % 64)) + '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
}

function floatBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function pixels(count: number, size: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  return Float32Array.from({ length: count * size * size * 3 }, () => Math.floor(rnd() * 256));
}

/**
 * BatchNorm statistics measured on the test images (layer by layer, in order) and random
 * gamma/beta: a freshly built model's outputs then depend on its input, so equal numbers mean the
 * same model ran (with the initial statistics every image gets nearly the same probabilities).
 */
function calibrateBatchNormOn(model: tfl.LayersModel, images: tf.Tensor4D, seed: number): void {
  const rnd = seededRandom(seed);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const probe = tfl.model({ inputs: model.inputs, outputs: layer.input as tfl.SymbolicTensor });
    const channels = layer.getWeights()[0].size;
    const random = (lo: number, hi: number) => tf.tensor1d(Float32Array.from({ length: channels }, () => lo + (hi - lo) * rnd()));
    const { mean, variance } = tf.tidy(() => tf.moments(probe.predict(images) as tf.Tensor, [0, 1, 2]));
    layer.setWeights([random(0.6, 1.4), random(-0.3, 0.3), mean, variance]);
  }
}


function predictInProcess(model: tfl.LayersModel, data: Float32Array, size: number): number[][] {
  const n = data.length / (size * size * 3);
  const out = tf.tidy(() => model.predict(tf.tensor4d(data, [n, size, size, 3])) as tf.Tensor2D);
  const rows = out.arraySync();
  out.dispose();
  return rows;
}

function maxDifference(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i].length);
    row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j]))));
  });
  return worst;
}

let files: { h5: string; safetensors: string; tinyNpy: string; b0Npy: string; photo: string; drawing: string };
let tinyExpected: number[][];
let tinyPixels: Float32Array;
let b0Pixels: Float32Array;

beforeAll(async () => {
  await useBackend('cpu');
  tmp = makeTempDir('cli-models');
  home = path.join(tmp, 'home');

  const tiny = buildEfficientNet(TINY.variant, { classes: TINY.classes, resolution: TINY.size, seed: 11 });
  tinyPixels = Float32Array.from(testImages(3, TINY.size, 13).flatMap((image) => Array.from(image)));
  const tinyInput = tf.tensor4d(tinyPixels, [3, TINY.size, TINY.size, 3]);
  calibrateBatchNormOn(tiny, tinyInput, 12);
  tinyInput.dispose();
  const h5 = path.join(tmp, 'tiny.h5');
  await writeKerasH5(h5, kerasLayersOf(tiny));
  tinyExpected = predictInProcess(tiny, tinyPixels, TINY.size);
  tiny.dispose();
  const tinyNpy = path.join(tmp, 'tiny.npy');
  writeNpy(tinyNpy, '<f4', [3, TINY.size, TINY.size, 3], floatBytes(tinyPixels));

  // timm names the architecture by the file name here (tf_ = TF "SAME" padding, BN eps 1e-3)
  const safetensors = path.join(tmp, 'tf_efficientnet_b0.safetensors');
  // BatchNorm statistics taken from images like the test inputs keep the outputs input-dependent
  const images = testImages(4, B0_SIZE, 22);
  const net = randomB0(21, 5);
  calibrateBatchNorm(net, images, B0_SIZE, { padding: 'tf-same', eps: 1e-3, mean: IMAGENET_MEAN, std: IMAGENET_STD }, 23);
  writeSafetensors(safetensors, timmTensors(net));
  b0Pixels = Float32Array.from(images.slice(0, 2).flatMap((image) => Array.from(image)));
  const b0Npy = path.join(tmp, 'b0.npy');
  writeNpy(b0Npy, '<f4', [2, B0_SIZE, B0_SIZE, 3], floatBytes(b0Pixels), 2);

  // a portrait photo stored sideways with an EXIF orientation, as phones do
  const photo = path.join(tmp, 'photo.jpg');
  const raw = Buffer.from(Uint8Array.from({ length: 90 * 60 * 3 }, (_, i) => (i * 31 + (i % 7) * 17) % 256));
  await sharp(raw, { raw: { width: 90, height: 60, channels: 3 } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toFile(photo);
  const drawing = path.join(tmp, 'drawing.png');
  await sharp({ create: { width: 40, height: 70, channels: 4, background: { r: 30, g: 200, b: 90, alpha: 1 } } })
    .composite([{ input: Buffer.from('<svg width="40" height="70"><circle cx="20" cy="35" r="15" fill="#c02040"/></svg>') }])
    .png()
    .toFile(drawing);
  files = { h5, safetensors, tinyNpy, b0Npy, photo, drawing };
}, SLOW);

afterAll(() => {
  removeDir(tmp);
});

describe('effitune models and the weights cache', () => {
  test('every variant with resolution, parameters, FLOPs, memory at batch 32 and local weights; a custom φ', { timeout: SLOW }, async () => {
    const imported = await effitune(['weights', 'import', files.safetensors]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^Imported: b0 with a 5-class classifier → .*tf_efficientnet_b0\.safetensors\n/);

    const [list, custom, cache] = await Promise.all([
      effitune(['models', '--json']),
      effitune(['models', 'describe', 'phi=-4', '--batch', '8', '--json']),
      effitune(['weights', 'list', '--json']),
    ]);
    expect(cache.code, cache.stderr).toBe(0);
    const { weights } = onlyJson(cache);
    expect(weights).toHaveLength(1);
    expect(weights[0]).toMatchObject({ variant: 'b0', includeTop: true, classes: 5, format: 'timm-safetensors', source: 'import', timmModel: 'tf_efficientnet_b0', verified: false });
    expect(weights[0].file.startsWith(path.join(home, 'weights'))).toBe(true);

    expect(list.code, list.stderr).toBe(0);
    const { batch, variants } = onlyJson(list);
    expect(batch).toBe(32);
    expect(variants.map((v: { id: string }) => v.id)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'v2-b0', 'v2-b1', 'v2-b2', 'v2-b3', 'v2-s', 'v2-m', 'v2-l']);
    const b0 = variants[0];
    expect(b0).toMatchObject({ resolution: 224, params: 5_288_548, batch: 32, top1: 77.1 });
    expect(Math.abs(b0.flops / 0.39e9 - 1)).toBeLessThan(0.05);
    expect(b0.trainingMemoryBytes).toBeGreaterThan(1e9);
    expect(variants[7]).toMatchObject({ id: 'b7', resolution: 600, params: 66_347_960 });
    expect(b0.pretrained.map((p: { fileName: string; local: boolean }) => [p.fileName, p.local])).toEqual([['efficientnetb0.h5', false], ['efficientnetb0_notop.h5', false]]);
    expect(b0.weights.map((w: { id: string }) => w.id)).toEqual([weights[0].id]);
    expect(variants[1].weights).toEqual([]);

    expect(custom.code, custom.stderr).toBe(0);
    const phi = onlyJson(custom);
    expect(phi).toMatchObject({ id: 'phi=-4', batch: 8, top1: null, scaling: { phi: -4, alpha: 1.2, beta: 1.1, gamma: 1.15 } });
    expect(phi.scaling.flopsGrowthPerPhi).toBeCloseTo(1.2 * 1.1 ** 2 * 1.15 ** 2, 10);
    expect(phi.params).toBeLessThan(b0.params);
  });
});

describe('effitune weights import --out and effitune infer', () => {
  test('a Keras .h5 becomes a TF.js model folder whose outputs equal the original model', { timeout: SLOW }, async () => {
    const out = path.join(tmp, 'tiny-model');
    const made = await effitune(['weights', 'import', files.h5, '--model', TINY.variant, '--resolution', String(TINY.size), '--out', out, '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect(onlyJson(made)).toMatchObject({ out, variant: TINY.variant, resolution: TINY.size, classes: TINY.classes, headLoaded: true, format: 'keras-h5' });
    expect(fs.readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);

    const inferred = await effitune(['infer', out, '--npy', files.tinyNpy, '--json']);
    expect(inferred.code, inferred.stderr).toBe(0);
    const result = onlyJson(inferred);
    expect(result.input).toMatchObject({ kind: 'npy', shape: [3, TINY.size, TINY.size, 3] });
    const probabilities = result.predictions.map((p: { probabilities: number[] }) => p.probabilities);
    expect(maxDifference(probabilities, tinyExpected)).toBeLessThan(1e-5);
    // far from uniform and different per image: equal numbers mean the same model ran
    expect(Math.max(...tinyExpected.flat())).toBeGreaterThan(0.5);
    expect(maxDifference([tinyExpected[0]], [tinyExpected[1]])).toBeGreaterThan(1e-2);
    expect(result.predictions[0].top[0]).toMatchObject({ index: tinyExpected[0].indexOf(Math.max(...tinyExpected[0])), label: String(tinyExpected[0].indexOf(Math.max(...tinyExpected[0]))) });

    // labels.json beside the model names the classes; readable output lists the top K
    fs.writeFileSync(path.join(out, 'labels.json'), JSON.stringify(['cat', 'dog', 'fox', 'owl']));
    const readable = await effitune(['infer', out, '--npy', files.tinyNpy, '--top', '2']);
    expect(readable.code, readable.stderr).toBe(0);
    const best = ['cat', 'dog', 'fox', 'owl'][tinyExpected[1].indexOf(Math.max(...tinyExpected[1]))];
    expect(readable.stdout).toContain(`${files.tinyNpy}[1]\n  ${best}`);
    expect(readable.stdout.split('\n').filter((l) => l.endsWith(' %'))).toHaveLength(6);
  });

  test('a timm .safetensors becomes a model folder; .npy and image inputs match the in-process model', { timeout: SLOW }, async () => {
    const out = path.join(tmp, 'b0-model');
    const made = await effitune(['weights', 'import', files.safetensors, '--resolution', String(B0_SIZE), '--out', out, '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect(onlyJson(made)).toMatchObject({ variant: 'b0', resolution: B0_SIZE, classes: 5, headLoaded: true, format: 'timm-safetensors' });

    const [fromNpy, fromImage] = await Promise.all([effitune(['infer', out, '--npy', files.b0Npy, '--json']), effitune(['infer', out, files.photo, files.drawing, '--json'])]);
    expect(fromNpy.code, fromNpy.stderr).toBe(0);
    expect(fromImage.code, fromImage.stderr).toBe(0);

    const imported = await importWeights({ file: files.safetensors, resolution: B0_SIZE });
    try {
      const expected = predictInProcess(imported.model, b0Pixels, B0_SIZE);
      const npyResult = onlyJson(fromNpy);
      expect(maxDifference(npyResult.predictions.map((p: { probabilities: number[] }) => p.probabilities), expected)).toBeLessThan(1e-5);
      expect(maxDifference([expected[0]], [expected[1]])).toBeGreaterThan(1e-3); // the numbers depend on the input

      const imageResult = onlyJson(fromImage);
      expect(imageResult.input).toMatchObject({ kind: 'images', shape: [2, B0_SIZE, B0_SIZE, 3], resize: expect.stringMatching(/shorter side resized .* centre crop/) });
      expect(imageResult.predictions.map((p: { source: string }) => p.source)).toEqual([files.photo, files.drawing]);
      const imagePixels = new Float32Array(2 * B0_SIZE * B0_SIZE * 3);
      imagePixels.set(await preprocessForInference(files.photo, B0_SIZE));
      imagePixels.set(await preprocessForInference(files.drawing, B0_SIZE), B0_SIZE * B0_SIZE * 3);
      const imageProbabilities = imageResult.predictions.map((p: { probabilities: number[] }) => p.probabilities);
      expect(maxDifference(imageProbabilities, predictInProcess(imported.model, imagePixels, B0_SIZE))).toBeLessThan(1e-5);
      expect(maxDifference([imageProbabilities[0]], [imageProbabilities[1]])).toBeGreaterThan(1e-3); // two different images
    } finally {
      imported.model.dispose();
    }
  });

  test('bad .npy files are refused, naming the file and the shape', { timeout: SLOW }, async () => {
    const out = path.join(tmp, 'tiny-model');
    const s = TINY.size;
    const float64 = path.join(tmp, 'float64.npy');
    writeNpy(float64, '<f8', [1, s, s, 3], new Uint8Array(s * s * 3 * 8));
    const wrongSize = path.join(tmp, 'wrong-size.npy');
    writeNpy(wrongSize, '<f4', [1, 32, 32, 3], new Uint8Array(32 * 32 * 3 * 4));
    const truncated = path.join(tmp, 'truncated.npy');
    writeNpy(truncated, '<f4', [2, s, s, 3], new Uint8Array(s * s * 3 * 4));

    const runs = await Promise.all([float64, wrongSize, truncated].map((f) => effitune(['infer', out, '--npy', f, '--json'])));
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(1);
      expect(onlyJson(run).error.code).toBe('invalid_input');
    }
    const [dtype, size, cut] = runs.map((r) => r.stderr);
    expect(dtype).toContain(`${float64} holds float64 values (dtype '<f8'); effitune needs little-endian float32 ('<f4')`);
    expect(size).toContain(`${wrongSize} has shape (1, 32, 32, 3): images of 32×32, but the model in ${out} takes ${s}×${s} (N, ${s}, ${s}, 3)`);
    expect(cut).toContain(`${truncated} is truncated: shape (2, ${s}, ${s}, 3) needs ${2 * s * s * 3 * 4} bytes of float32 data, the file holds ${s * s * 3 * 4}`);
  });
});

describe('effitune weights download', () => {
  test('download resumes an interrupted transfer, and a checksum mismatch leaves nothing in the cache', { timeout: SLOW }, async () => {
    // the server holds some other bytes under the published name: the MD5 cannot match
    const body = Buffer.from(pixels(1, 64, 31).buffer);
    const ranges: (string | null)[] = [];
    let breakNext = true;
    const server = http.createServer((req, res) => {
      ranges.push(req.headers.range ?? null);
      if (req.url !== '/efficientnetb0_notop.h5') return void res.writeHead(404).end();
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      const headers = { 'Content-Length': body.length - start, ...(start > 0 ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) };
      res.writeHead(start > 0 ? 206 : 200, headers);
      if (breakNext) {
        breakNext = false;
        res.write(body.subarray(start, start + 10_000), () => setTimeout(() => res.socket?.destroy(), 20));
      } else {
        res.end(body.subarray(start));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const part = path.join(home, 'weights', '.partial', 'efficientnetb0_notop.h5.part');
    try {
      const broken = await effitune(['weights', 'download', 'b0', '--notop', '--json'], { EFFITUNE_WEIGHTS_URL: mirror });
      expect(broken.code, broken.stderr).toBe(4);
      expect(broken.stderr).toMatch(/broke off after 10000 of \d+ bytes.*download again to resume/);
      expect(fs.statSync(part).size).toBe(10_000);

      const resumed = await effitune(['weights', 'download', 'b0', '--notop'], { EFFITUNE_WEIGHTS_URL: mirror });
      expect(ranges).toEqual([null, 'bytes=10000-']);
      expect(resumed.code, resumed.stderr).toBe(4);
      expect(resumed.stderr).toContain(`efficientnetb0_notop.h5 from ${mirror}efficientnetb0_notop.h5 has MD5`);
      expect(resumed.stderr).toContain('not the published 50bc09e76180e00e4465e1a485ddc09d');
      expect(fs.existsSync(part)).toBe(false);
      expect(fs.readdirSync(path.join(home, 'weights')).filter((n) => n.startsWith('efficientnetb0'))).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    // nobody listens there any more: the machine is offline for this URL
    const offline = await effitune(['weights', 'download', 'b0', '--notop'], { EFFITUNE_WEIGHTS_URL: mirror });
    expect(offline.code).toBe(4);
    expect(offline.stderr).toContain(`cannot reach ${new URL(mirror).host}: offline? Use \`effitune weights import <file>\``);
  });
});
