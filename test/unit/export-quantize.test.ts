/**
 * Weight quantization for TF.js exports: what encodeWeights writes, tfjs-core's own decodeWeights
 * reads back (float16 within half precision, uint8 within half a step of the tensor's range), other
 * dtypes pass through untouched, and the float16 rounding matches IEEE 754 on edge cases.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../main/backend/tfjs-backend';
import { encodeWeights, toFloat16, toUint8 } from '../../main/export/quantize-weights';

beforeAll(async () => {
  await useBackend('cpu');
});

function manifest(): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer; a: Float32Array; b: Int32Array; c: Float32Array } {
  const a = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i) * (i % 7) * 0.37 - 0.5);
  const b = Int32Array.from([1, -2, 3]);
  const c = new Float32Array([0.25, 0.25, 0.25]);
  const data = new Uint8Array(a.byteLength + b.byteLength + c.byteLength);
  data.set(new Uint8Array(a.buffer), 0);
  data.set(new Uint8Array(b.buffer), a.byteLength);
  data.set(new Uint8Array(c.buffer), a.byteLength + b.byteLength);
  return {
    specs: [
      { name: 'a', shape: [3, 100], dtype: 'float32' },
      { name: 'b', shape: [3], dtype: 'int32' },
      { name: 'c', shape: [3], dtype: 'float32' },
    ],
    data: data.buffer,
    a,
    b,
    c,
  };
}

function decode(encoded: ReturnType<typeof encodeWeights>): Record<string, Float32Array | Int32Array> {
  const copy = encoded.data.buffer.slice(encoded.data.byteOffset, encoded.data.byteOffset + encoded.data.byteLength) as ArrayBuffer;
  const tensors = tf.io.decodeWeights(copy, encoded.specs);
  const out = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.dataSync() as Float32Array | Int32Array]));
  tf.dispose(Object.values(tensors));
  return out;
}

describe('encodeWeights', () => {
  it('none: the bytes unchanged', () => {
    const m = manifest();
    const encoded = encodeWeights(m.specs, m.data, 'none');
    expect(Buffer.from(encoded.data).equals(Buffer.from(m.data))).toBe(true);
    expect(encoded.specs.every((s) => s.quantization === undefined)).toBe(true);
  });

  it('float16: half the float bytes, read back by tf.io.decodeWeights within half precision', () => {
    const m = manifest();
    const encoded = encodeWeights(m.specs, m.data, 'float16');
    expect(encoded.data.byteLength).toBe(300 * 2 + 3 * 4 + 3 * 2);
    expect(encoded.specs.map((s) => s.quantization?.dtype)).toEqual(['float16', undefined, 'float16']);
    const back = decode(encoded);
    for (let i = 0; i < m.a.length; i++) expect(Math.abs(back.a[i] - m.a[i])).toBeLessThanOrEqual(Math.abs(m.a[i]) * 2 ** -11 + 1e-7);
    expect(Array.from(back.b)).toEqual([1, -2, 3]);
    expect(Array.from(back.c)).toEqual([0.25, 0.25, 0.25]);
  });

  it('uint8: a quarter of the float bytes, within half a step of each tensor\'s range; a constant tensor stays exact', () => {
    const m = manifest();
    const encoded = encodeWeights(m.specs, m.data, 'uint8');
    expect(encoded.data.byteLength).toBe(300 + 3 * 4 + 3);
    const back = decode(encoded);
    const step = (Math.max(...m.a) - Math.min(...m.a)) / 255;
    for (let i = 0; i < m.a.length; i++) expect(Math.abs(back.a[i] - m.a[i])).toBeLessThanOrEqual(step / 2 + 1e-6);
    expect(Math.min(...back.a)).toBeCloseTo(Math.min(...m.a), 6);
    expect(Math.max(...back.a)).toBeCloseTo(Math.max(...m.a), 5);
    expect(Array.from(back.b)).toEqual([1, -2, 3]);
    expect(Array.from(back.c)).toEqual([0.25, 0.25, 0.25]);
  });
});

describe('toFloat16', () => {
  it('rounds to nearest even and handles zeros, subnormals, overflow, infinities and NaN', () => {
    const bits = (v: number) => toFloat16(new Float32Array([v]))[0];
    expect(bits(1)).toBe(0x3c00);
    expect(bits(-2)).toBe(0xc000);
    expect(bits(0)).toBe(0);
    expect(bits(-0)).toBe(0x8000);
    expect(bits(65504)).toBe(0x7bff);
    expect(bits(1e6)).toBe(0x7c00);
    expect(bits(-Infinity)).toBe(0xfc00);
    expect(bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(bits(NaN) & 0x3ff).not.toBe(0);
    expect(bits(2 ** -24)).toBe(1); // smallest subnormal
    expect(bits(2 ** -26)).toBe(0);
    // 1 + 2^-11 is halfway between 1 and the next half: ties go to the even mantissa (1)
    expect(bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(bits(0.1)).toBe(0x2e66);
  });

  it('toUint8 maps the minimum to 0 and the maximum to 255', () => {
    const { q, scale, min } = toUint8(new Float32Array([-1, 0, 3]));
    expect(Array.from(q)).toEqual([0, 64, 255]);
    expect(min).toBe(-1);
    expect(scale).toBeCloseTo(4 / 255, 10);
  });
});
