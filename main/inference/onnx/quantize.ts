/**
 * Number formats of stored weights: IEEE half floats and per-channel affine uint8, as ONNX reads
 * them (Cast from FLOAT16, DequantizeLinear y = (q − zero_point) · scale). Only storage shrinks;
 * the graph still computes in float32 after the weights are expanded.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE 754 binary16 bits, rounding to nearest even (what numpy's astype(float16) does). */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf / NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: Inf
  if (e <= 0) {
    // subnormal half (or zero): shift the mantissa with its implicit 1 into place, round to nearest even
    if (e < -10) return sign;
    const m = mantissa | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && (h & 1))) h += 1;
    return sign | h;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h += 1; // a carry into the exponent is still correct
  return sign | h;
}

export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i]);
  return out;
}

export interface AffineUint8 {
  values: Uint8Array;
  /** one scale and zero point per channel along the quantized axis */
  scale: Float32Array;
  zeroPoint: Uint8Array;
}

/**
 * Per-channel affine uint8 over `axis` of a row-major tensor. The range of each channel is widened
 * to include 0, so zero (padding, pruned weights) stays exact, as ONNX's QuantizeLinear convention wants.
 */
export function quantizeUint8PerChannel(values: Float32Array, dims: readonly number[], axis: number): AffineUint8 {
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const lo = new Float64Array(channels);
  const hi = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = channelOf(i);
    if (values[i] < lo[c]) lo[c] = values[i];
    if (values[i] > hi[c]) hi[c] = values[i];
  }
  const scale = new Float32Array(channels);
  const zeroPoint = new Uint8Array(channels);
  for (let c = 0; c < channels; c++) {
    // an all-zero channel still needs a positive scale; any value reproduces the zeros
    scale[c] = hi[c] > lo[c] ? (hi[c] - lo[c]) / 255 : 1;
    zeroPoint[c] = Math.min(255, Math.max(0, Math.round(-lo[c] / scale[c])));
  }
  const q = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = channelOf(i);
    q[i] = Math.min(255, Math.max(0, Math.round(values[i] / scale[c]) + zeroPoint[c]));
  }
  return { values: q, scale, zeroPoint };
}
