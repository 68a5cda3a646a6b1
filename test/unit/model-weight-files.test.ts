import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { readKerasH5 } from '../../main/model/weights/keras-h5';
import { parseSafetensors } from '../../main/model/weights/safetensors';
import type { FileTensor } from '../../main/model/weights/tensors';
import { timmToKeras } from '../../main/model/weights/timm';
import { safetensorsBytes, writeKerasH5 } from '../fixtures/model/weight-files';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-weight-files-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected an ApiError');
}

describe('safetensors reader', () => {
  it('decodes F32, F64, F16 and BF16 to float32 and keeps integer tensors out of the floats', () => {
    const half = Uint16Array.of(0x3c00, 0xc000, 0x3555); // 1, -2, 0.33325
    const bytes = safetensorsBytes([
      { name: 'a', dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
      { name: 'h', dtype: 'F16', shape: [3], data: half },
      { name: 'n', dtype: 'I64', shape: [], data: BigInt64Array.of(7n) },
    ]);
    const file = parseSafetensors(bytes, 'x.safetensors');
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(Array.from(file.tensors.get('a')!.data)).toEqual([1, 2, 3, 4]);
    expect(file.tensors.get('a')!.shape).toEqual([2, 2]);
    expect(Array.from(file.tensors.get('h')!.data)).toEqual([1, -2, 0.333251953125]);
    expect(file.tensors.has('n')).toBe(false);
    expect(file.entries.get('n')).toMatchObject({ dtype: 'I64', shape: [] });

    // BF16 and F64 written by hand: bfloat16 is the top half of a float32
    const header = JSON.stringify({ b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] }, d: { dtype: 'F64', shape: [1], data_offsets: [4, 12] } });
    const raw = Buffer.alloc(8 + header.length + 12);
    raw.writeBigUInt64LE(BigInt(header.length), 0);
    raw.write(header, 8);
    raw.writeUInt16LE(0x3fc0, 8 + header.length); // 1.5
    raw.writeUInt16LE(0xc120, 8 + header.length + 2); // -10
    raw.writeDoubleLE(0.1, 8 + header.length + 4);
    const bf = parseSafetensors(raw, 'bf.safetensors');
    expect(Array.from(bf.tensors.get('b')!.data)).toEqual([1.5, -10]);
    expect(bf.tensors.get('d')!.data[0]).toBeCloseTo(0.1, 7);
  });

  it('refuses damaged files, naming the file and the tensor', () => {
    const good = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [4], data: new Float32Array(4) }]);
    expect(apiError(() => parseSafetensors(good.subarray(0, 5), 'a.safetensors')).message).toMatch(/a\.safetensors .*fewer than the 8-byte header length/);
    expect(apiError(() => parseSafetensors(good.subarray(0, 20), 'b.safetensors')).message).toMatch(/header needs \d+ bytes .*truncated/);
    expect(apiError(() => parseSafetensors(good.subarray(0, good.length - 4), 'c.safetensors')).message).toMatch(/tensor "w" ends at byte 16 .* holds only 12/);
    const lying = Buffer.from(good);
    lying.write('[3]', lying.indexOf('[4]'), 'utf8'); // the shape now disagrees with the offsets
    expect(apiError(() => parseSafetensors(lying, 'd.safetensors')).message).toMatch(/tensor "w" F32 \[3\] needs 12 bytes, its offsets span 16/);
    const notJson = Buffer.alloc(12);
    notJson.writeBigUInt64LE(4n, 0);
    notJson.write('{{{{', 8);
    expect(apiError(() => parseSafetensors(notJson, 'e.safetensors')).message).toMatch(/header is not JSON/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(10n ** 12n, 0);
    expect(apiError(() => parseSafetensors(huge, 'f.safetensors')).message).toMatch(/header length field says/);
  });
});

describe('timm names and layouts', () => {
  const t = (source: string, shape: number[], data?: number[]): [string, FileTensor] => [
    source,
    { source, shape, data: Float32Array.from(data ?? Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i)) },
  ];

  it('maps stage-0 depthwise-separable and later inverted-residual blocks to Keras names', () => {
    const tensors = new Map([
      t('conv_stem.weight', [4, 3, 3, 3]),
      t('bn1.running_var', [4]),
      t('blocks.0.0.conv_dw.weight', [4, 1, 3, 3]),
      t('blocks.0.0.bn1.weight', [4]),
      t('blocks.0.0.conv_pw.weight', [2, 4, 1, 1]),
      t('blocks.0.0.bn2.bias', [2]),
      t('blocks.1.2.conv_pw.weight', [8, 2, 1, 1]),
      t('blocks.1.2.bn1.running_mean', [8]),
      t('blocks.1.2.conv_dw.weight', [8, 1, 5, 5]),
      t('blocks.1.2.bn2.weight', [8]),
      t('blocks.1.2.se.conv_reduce.bias', [1]),
      t('blocks.1.2.se.conv_expand.weight', [8, 1, 1, 1]),
      t('blocks.1.2.conv_pwl.weight', [2, 8, 1, 1]),
      t('blocks.1.2.bn3.running_var', [2]),
      t('conv_head.weight', [16, 2, 1, 1]),
      t('bn2.weight', [16]),
      t('classifier.weight', [5, 16]),
      t('classifier.bias', [5]),
    ]);
    const keras = timmToKeras(tensors, 'x.safetensors');
    expect([...keras.keys()]).toEqual([
      'stem_conv/kernel',
      'stem_bn/moving_variance',
      'block1a_dwconv/depthwise_kernel',
      'block1a_bn/gamma',
      'block1a_project_conv/kernel',
      'block1a_project_bn/beta',
      'block2c_expand_conv/kernel',
      'block2c_expand_bn/moving_mean',
      'block2c_dwconv/depthwise_kernel',
      'block2c_bn/gamma',
      'block2c_se_reduce/bias',
      'block2c_se_expand/kernel',
      'block2c_project_conv/kernel',
      'block2c_project_bn/moving_variance',
      'top_conv/kernel',
      'top_bn/gamma',
      'predictions/kernel',
      'predictions/bias',
    ]);
    expect(keras.get('block2c_dwconv/depthwise_kernel')!.shape).toEqual([5, 5, 8, 1]);
    expect(keras.get('predictions/kernel')!.shape).toEqual([16, 5]);
  });

  it('moves every element where TF.js expects it: [o,i,kh,kw] → [kh,kw,i,o], [c,1,kh,kw] → [kh,kw,c,1], [o,i] → [i,o]', () => {
    // values encode their PyTorch index, so each destination can be checked by formula
    const [o, i, k] = [3, 2, 2];
    const conv = timmToKeras(new Map([t('conv_stem.weight', [o, i, k, k])]), 'x').get('stem_conv/kernel')!;
    for (let a = 0; a < o; a++)
      for (let b = 0; b < i; b++)
        for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) expect(conv.data[((y * k + x) * i + b) * o + a]).toBe(((a * i + b) * k + y) * k + x);
    const dw = timmToKeras(new Map([t('blocks.0.0.conv_dw.weight', [3, 1, k, k])]), 'x').get('block1a_dwconv/depthwise_kernel')!;
    for (let c = 0; c < 3; c++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) expect(dw.data[(y * k + x) * 3 + c]).toBe((c * k + y) * k + x);
    const fc = timmToKeras(new Map([t('classifier.weight', [2, 3])]), 'x').get('predictions/kernel')!;
    expect(Array.from(fc.data)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(fc.toSourceShape!([3, 2])).toEqual([2, 3]);
  });

  it('refuses unknown names and wrong ranks, naming the tensor', () => {
    expect(apiError(() => timmToKeras(new Map([t('blocks.0.0.attn.weight', [2])]), 'x.safetensors')).message).toMatch(/tensor "blocks\.0\.0\.attn\.weight" in x\.safetensors is not part of a timm EfficientNet/);
    expect(apiError(() => timmToKeras(new Map([t('bn1.num_features', [2])]), 'x')).message).toMatch(/"bn1\.num_features"/);
    expect(apiError(() => timmToKeras(new Map([t('conv_head.weight', [16, 2])]), 'x')).message).toMatch(/"conv_head\.weight" .* shape \[16, 2\], expected \[out, in, kh, kw\]/);
    expect(apiError(() => timmToKeras(new Map([t('blocks.0.0.conv_dw.weight', [4, 2, 3, 3])]), 'x')).message).toMatch(/expected \[channels, 1, kh, kw\]/);
  });
});

describe('Keras .h5 reader', () => {
  it('reads layer_names / weight_names / datasets, skipping weightless layers', async () => {
    const file = path.join(dir, 'small.h5');
    await writeKerasH5(file, [
      { name: 'input_1', weights: [] },
      { name: 'stem_conv', weights: [{ name: 'kernel', shape: [1, 1, 3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) }] },
      { name: 'stem_bn', weights: [{ name: 'gamma', shape: [2], data: Float32Array.of(7, 8) }] },
    ]);
    const weights = await readKerasH5(file);
    expect([...weights.layers.keys()]).toEqual(['input_1', 'stem_conv', 'stem_bn']);
    expect(weights.layers.get('input_1')!.size).toBe(0);
    const kernel = weights.layers.get('stem_conv')!.get('kernel')!;
    expect(kernel).toMatchObject({ source: 'stem_conv/stem_conv/kernel:0', shape: [1, 1, 3, 2] });
    expect(Array.from(kernel.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads full-model files (weights under /model_weights) and explains Keras 3 files it cannot read', async () => {
    await h5wasm.ready;
    const full = path.join(dir, 'full.h5');
    const f = new h5wasm.File(full, 'w');
    const root = f.create_group('model_weights');
    root.create_attribute('layer_names', ['top_bn'], [1], 'S6');
    const g = root.create_group('top_bn');
    g.create_attribute('weight_names', ['top_bn/beta:0'], [1], 'S13');
    g.create_group('top_bn').create_dataset({ name: 'beta:0', data: Float32Array.of(0.5), shape: [1], dtype: '<f' });
    f.close();
    expect(Array.from((await readKerasH5(full)).layers.get('top_bn')!.get('beta')!.data)).toEqual([0.5]);

    const keras3 = path.join(dir, 'model.weights.h5');
    const k3 = new h5wasm.File(keras3, 'w');
    k3.create_group('layers').create_group('dense').create_group('vars').create_dataset({ name: '0', data: Float32Array.of(1), shape: [1], dtype: '<f' });
    k3.close();
    await expect(readKerasH5(keras3)).rejects.toThrow(/not a Keras 2 weights file: it has no "layer_names" attribute \(its layers\/…\/vars layout is Keras 3/);
  });

  it('names a dataset that layer metadata promises but the file lacks', async () => {
    await h5wasm.ready;
    const file = path.join(dir, 'hollow.h5');
    const f = new h5wasm.File(file, 'w');
    f.create_attribute('layer_names', ['top_conv'], [1], 'S8');
    f.create_group('top_conv').create_attribute('weight_names', ['top_conv/kernel:0'], [1], 'S17');
    f.close();
    await expect(readKerasH5(file)).rejects.toThrow(/hollow\.h5 lists weight "top_conv\/top_conv\/kernel:0" but has no dataset for it/);
  });
});
