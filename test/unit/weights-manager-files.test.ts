/**
 * The file formats around the weights manager, in-process: .npy parsing (versions, dtypes,
 * shapes, truncation), TF.js model folders (written, reloaded with tf.loadLayersModel through a
 * file IOHandler, damaged), labels.json, and image decoding for inference (EXIF, crop, grey, alpha).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { useBackend } from '../../main/backend/tfjs-backend';
import { buildEfficientNet } from '../../main/model/builder';
import { loadModelFolder, saveModelFolder } from '../../main/model/manager/model-folder';
import { parseNpyFloat32 } from '../../main/model/manager/npy';
import { predictWithModelFolder } from '../../main/eval/predict-model-folder';
import { makeTempDir, removeDir } from '../fixtures/temp';

function npyBytes(header: string, data: Uint8Array, version = 1): Buffer {
  const prefix = version === 1 ? 10 : 12;
  const padded = header + ' '.repeat(63 - ((prefix + header.length) % 64)) + '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(padded.length, 8);
  else head.writeUInt32LE(padded.length, 8);
  return Buffer.concat([head, Buffer.from(padded, version === 3 ? 'utf8' : 'latin1'), data]);
}

const f32 = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected an error');
}

describe('.npy files', () => {
  it('reads float32 arrays of format versions 1, 2 and 3, any shape, at any data alignment', () => {
    for (const version of [1, 2, 3]) {
      const bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 1, 3), }", f32(0, 1.5, 2, 3, 254.25, 255), version);
      // a copy starting at an odd offset: the data cannot be viewed as a Float32Array in place
      const shifted = Buffer.concat([Buffer.from([0]), bytes]).subarray(1);
      const array = parseNpyFloat32(shifted, 'x.npy');
      expect(array.shape).toEqual([2, 1, 1, 3]);
      expect(Array.from(array.data)).toEqual([0, 1.5, 2, 3, 254.25, 255]);
    }
    expect(parseNpyFloat32(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f32(7)), 's.npy').shape).toEqual([]);
    expect(parseNpyFloat32(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f32(1, 2, 3)), 'v.npy').shape).toEqual([3]);
  });

  it('refuses other dtypes, Fortran order, truncated or padded data and damaged headers, naming the file', () => {
    const header = (descr: string, shape = '(1, 2)', fortran = 'False') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
    expect(thrown(() => parseNpyFloat32(npyBytes(header('<f8'), new Uint8Array(16)), 'a.npy')).message).toBe(
      "a.npy holds float64 values (dtype '<f8'); effitune needs little-endian float32 ('<f4'): save it with array.astype('<f4')",
    );
    expect(thrown(() => parseNpyFloat32(npyBytes(header('|u1'), new Uint8Array(2)), 'b.npy')).message).toMatch(/b\.npy holds uint8 values \(dtype '\|u1'\)/);
    expect(thrown(() => parseNpyFloat32(npyBytes(header('>f4'), new Uint8Array(8)), 'c.npy')).message).toMatch(/float32 big-endian values/);
    expect(thrown(() => parseNpyFloat32(npyBytes(header('<f4', '(1, 2)', 'True'), new Uint8Array(8)), 'd.npy')).message).toMatch(/d\.npy is stored in Fortran/);
    expect(thrown(() => parseNpyFloat32(npyBytes(header('<f4', '(2, 3)'), new Uint8Array(20)), 'e.npy')).message).toBe(
      'e.npy is truncated: shape (2, 3) needs 24 bytes of float32 data, the file holds 20',
    );
    expect(thrown(() => parseNpyFloat32(npyBytes(header('<f4'), new Uint8Array(12)), 'f.npy')).message).toMatch(/f\.npy has 4 bytes after the data/);
    expect(thrown(() => parseNpyFloat32(Buffer.from('PK\x03\x04 a zip, maybe an .npz'), 'g.npy')).message).toMatch(/g\.npy is not a valid \.npy file: it does not start with/);
    expect(thrown(() => parseNpyFloat32(npyBytes("{'descr': '<f4', 'fortran_order': False}", new Uint8Array(0)), 'h.npy')).message).toMatch(/h\.npy .* has no 'shape'/);
    expect(thrown(() => parseNpyFloat32(npyBytes(header('<f4', '(2, -1)'), new Uint8Array(0)), 'i.npy')).message).toMatch(/not a tuple of whole numbers/);
    const full = npyBytes(header('<f4'), f32(1, 2));
    expect(thrown(() => parseNpyFloat32(full.subarray(0, 30), 'j.npy')).message).toMatch(/j\.npy .* file ends before \(truncated\?\)/);
    const v9 = Buffer.from(full);
    v9[6] = 9;
    expect(thrown(() => parseNpyFloat32(v9, 'k.npy')).message).toMatch(/format version 9\.0 is unknown/);
  });
});

describe('TF.js model folders', () => {
  let dir: string;
  let model: tfl.LayersModel;
  let input: tf.Tensor4D;

  beforeAll(async () => {
    await useBackend('cpu');
    input = tf.tensor4d(Float32Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => (i * 13) % 256), [2, 32, 32, 3]);
    dir = makeTempDir('model-folder');
    model = buildEfficientNet('phi=-8', { classes: 3, resolution: 32, seed: 4 });
  });
  afterAll(() => {
    model?.dispose();
    input?.dispose();
    removeDir(dir);
  });

  it('writes model.json + weights.bin that tf.loadLayersModel reloads to the same outputs', async () => {
    const out = path.join(dir, 'saved');
    const saved = await saveModelFolder(model, out, { variant: 'phi=-8', resolution: 32, classes: 3, input: 'RGB 0..255' });
    expect(saved.files.map((f) => path.basename(f))).toEqual(['model.json', 'weights.bin']);
    expect(fs.readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
    expect(json).toMatchObject({ format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'] }], userDefinedMetadata: { effitune: { variant: 'phi=-8', classes: 3 } } });

    const loaded = await loadModelFolder(out);
    expect(loaded.metadata).toMatchObject({ variant: 'phi=-8', resolution: 32 });
    const a = (model.predict(input) as tf.Tensor).dataSync();
    const b = (loaded.model.predict(input) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    loaded.model.dispose();

    // the standard loader, given the same two files, builds the same model (no custom layers needed)
    const plain = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: new Uint8Array(fs.readFileSync(path.join(out, 'weights.bin'))).buffer }),
    );
    expect(Array.from((plain.predict(input) as tf.Tensor).dataSync())).toEqual(Array.from(a));
    plain.dispose();

    await expect(saveModelFolder(model, out, { variant: 'phi=-8', resolution: 32, classes: 3, input: '' })).rejects.toThrow(/already exists and is not empty \(model\.json, weights\.bin\)/);
    await saveModelFolder(model, out, { variant: 'phi=-8', resolution: 32, classes: 3, input: '' }, true);
    expect(fs.readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);
  });

  it('refuses damaged folders with the reason', async () => {
    const out = path.join(dir, 'damaged');
    await saveModelFolder(model, out, { variant: 'phi=-8', resolution: 32, classes: 3, input: '' });
    const weights = path.join(out, 'weights.bin');
    const bytes = fs.readFileSync(weights);
    fs.writeFileSync(weights, bytes.subarray(0, bytes.length - 100));
    await expect(loadModelFolder(out)).rejects.toThrow(/hold \d+ bytes but model\.json describes \d+ \(truncated or from another model\?\)/);
    fs.rmSync(weights);
    await expect(loadModelFolder(out)).rejects.toThrow(/model\.json in .* needs weights\.bin, which is missing/);

    const json = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['../../etc/passwd'];
    fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify(json));
    await expect(loadModelFolder(out)).rejects.toThrow(/names a weights file outside the folder/);
    fs.writeFileSync(path.join(out, 'model.json'), '{ not json');
    await expect(loadModelFolder(out)).rejects.toThrow(/model\.json is not valid JSON/);
    await expect(loadModelFolder(path.join(dir, 'nothing-here'))).rejects.toThrow(/does not exist/);
  });

  it('labels.json must name every class', async () => {
    const out = path.join(dir, 'labelled');
    await saveModelFolder(model, out, { variant: 'phi=-8', resolution: 32, classes: 3, input: '' });
    const npy = path.join(dir, 'one.npy');
    fs.writeFileSync(npy, npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 32, 32, 3), }", new Uint8Array(input.dataSync().slice(0, 32 * 32 * 3).buffer)));
    fs.writeFileSync(path.join(out, 'labels.json'), JSON.stringify({ 0: 'red', 1: 'green', 2: 'blue' }));
    const result = await predictWithModelFolder({ model: out, npy, top: 3 });
    expect(result.predictions[0].top.map((t) => t.label).sort()).toEqual(['blue', 'green', 'red']);
    expect(result.predictions[0].probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    fs.writeFileSync(path.join(out, 'labels.json'), JSON.stringify(['red', 'green']));
    await expect(predictWithModelFolder({ model: out, npy, top: 3 })).rejects.toThrow(/labels\.json must list 3 class names/);
  });
});

describe('.npy input against the model', () => {
  let dir: string;
  let out: string;
  beforeAll(async () => {
    await useBackend('cpu');
    dir = makeTempDir('npy-input');
    out = path.join(dir, 'model');
    const model = buildEfficientNet('phi=-8', { classes: 2, resolution: 32, seed: 9 });
    await saveModelFolder(model, out, { variant: 'phi=-8', resolution: 32, classes: 2, input: '' });
    model.dispose();
  });
  afterAll(() => removeDir(dir));

  const write = (name: string, shape: number[], values?: Float32Array) => {
    const file = path.join(dir, name);
    const count = shape.reduce((a, b) => a * b, 1);
    const data = values ?? Float32Array.from({ length: count }, (_, i) => i % 256);
    fs.writeFileSync(file, npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`, new Uint8Array(data.buffer)));
    return file;
  };

  it('needs a batch of RGB images of the model size, and warns about values outside 0..255', async () => {
    await expect(predictWithModelFolder({ model: out, npy: write('rank3.npy', [32, 32, 3]), top: 1 })).rejects.toThrow(
      /rank3\.npy has shape \(32, 32, 3\), rank 3; the model takes a batch of RGB images \(N, 32, 32, 3\): one image needs a batch axis in front/,
    );
    await expect(predictWithModelFolder({ model: out, npy: write('grey.npy', [1, 32, 32, 1]), top: 1 })).rejects.toThrow(/grey\.npy has shape \(1, 32, 32, 1\) with 1 channels last/);
    await expect(predictWithModelFolder({ model: out, npy: write('empty.npy', [0, 32, 32, 3]), top: 1 })).rejects.toThrow(/it holds no images/);
    const nan = Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => (i === 5 ? NaN : 1));
    await expect(predictWithModelFolder({ model: out, npy: write('nan.npy', [1, 32, 32, 3], nan), top: 1 })).rejects.toThrow(/nan\.npy holds NaN at flat index 5 \(image 0\)/);

    const unit = Float32Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => (i % 100) / 100);
    const scaled = await predictWithModelFolder({ model: out, npy: write('unit.npy', [2, 32, 32, 3], unit), top: 5 });
    expect(scaled.warnings.join(' ')).toMatch(/every value is within 0\.\.0\.99; the model expects pixels 0\.\.255/);
    expect(scaled.predictions.map((p) => p.source)).toEqual([0, 1].map((i) => `${path.join(dir, 'unit.npy')}[${i}]`));
    expect(scaled.predictions[0].top).toHaveLength(2); // top is capped at the class count
  });
});

describe('image files for inference', () => {
  let dir: string;
  let out: string;
  beforeAll(async () => {
    await useBackend('cpu');
    dir = makeTempDir('image-input');
    out = path.join(dir, 'model');
    const model = buildEfficientNet('phi=-8', { classes: 2, resolution: 32, seed: 10 });
    await saveModelFolder(model, out, { variant: 'phi=-8', resolution: 32, classes: 2, input: '' });
    model.dispose();
  });
  afterAll(() => removeDir(dir));

  it('are decoded as training evaluates them, and named when missing or undecodable', async () => {
    const photo = path.join(dir, 'photo.png');
    await sharp({ create: { width: 60, height: 30, channels: 3, background: '#3080c0' } }).png().toFile(photo);
    const result = await predictWithModelFolder({ model: out, images: [photo, photo], top: 1 });
    expect(result.input).toMatchObject({ kind: 'images', shape: [2, 32, 32, 3], resize: expect.stringMatching(/shorter side resized .* centre crop/) });
    expect(result.predictions.map((p) => p.source)).toEqual([photo, photo]);

    const broken = path.join(dir, 'broken.jpg');
    fs.writeFileSync(broken, 'not a jpeg');
    await expect(predictWithModelFolder({ model: out, images: [photo, broken], top: 1 })).rejects.toThrow(`cannot read ${broken}`);
    await expect(predictWithModelFolder({ model: out, images: [path.join(dir, 'gone.jpg')], top: 1 })).rejects.toThrow(/image .*gone\.jpg does not exist/);
  });
});
