/**
 * Reads the safetensors format (huggingface/safetensors): 8-byte little-endian header length N,
 * N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then the raw
 * little-endian data, offsets relative to the end of the header. Parsed here directly: the format
 * is small and a hand-written reader can check every offset before trusting it.
 */
import fs from 'node:fs';
import { ApiError } from '../../contract/contract';
import { elementCount, formatShape, type FileTensor } from './tensors';

const FLOAT_DTYPES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
const OTHER_DTYPES: Record<string, number> = { I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, U16: 2, U32: 4, U64: 8 };
/** a header bigger than this is not a model's tensor index (the format itself caps it at 100 MB) */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /** float tensors as float32; integer tensors are listed in entries but not decoded */
  readonly tensors: ReadonlyMap<string, FileTensor>;
}

export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    throw new ApiError('not_found', `cannot read weights file ${path}: ${(err as Error).message}`);
  }
  return parseSafetensors(bytes, path);
}

export function parseSafetensors(bytes: Uint8Array, path: string): SafetensorsFile {
  const fail = (why: string) => new ApiError('invalid_input', `${path} is not a valid .safetensors file: ${why}`);
  if (bytes.byteLength < 8) throw fail(`it has ${bytes.byteLength} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES) throw fail(`the header length field says ${headerLength} bytes`);
  if (8 + headerLength > bytes.byteLength) throw fail(`the header needs ${headerLength} bytes but the file ends after ${bytes.byteLength - 8} (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    throw fail(`the header is not JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw fail('the header is not a JSON object');

  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  const tensors = new Map<string, FileTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const entry = checkEntry(name, value, dataLength, fail);
    entries.set(name, entry);
    if (entry.dtype in FLOAT_DTYPES) {
      tensors.set(name, { source: name, shape: entry.shape, data: decodeFloats(bytes, dataStart + entry.begin, elementCount(entry.shape), entry.dtype) });
    }
  }
  return { path, metadata, entries, tensors };
}

function checkEntry(name: string, value: unknown, dataLength: number, fail: (why: string) => ApiError): SafetensorsEntry {
  const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof v !== 'object' || v === null || typeof v.dtype !== 'string' || !Array.isArray(v.shape) || !Array.isArray(v.data_offsets) || v.data_offsets.length !== 2) {
    throw fail(`tensor "${name}" lacks dtype, shape or data_offsets`);
  }
  const shape = v.shape as unknown[];
  if (!shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) throw fail(`tensor "${name}" has shape ${JSON.stringify(shape)}`);
  const itemBytes = FLOAT_DTYPES[v.dtype] ?? OTHER_DTYPES[v.dtype];
  if (itemBytes === undefined) throw fail(`tensor "${name}" has unknown dtype ${v.dtype}`);
  const [begin, end] = v.data_offsets as number[];
  if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin) throw fail(`tensor "${name}" has data_offsets [${begin}, ${end}]`);
  if (end > dataLength) throw fail(`tensor "${name}" ends at byte ${end} of the data but the file holds only ${dataLength} (truncated?)`);
  const expected = elementCount(shape as number[]) * itemBytes;
  if (end - begin !== expected) throw fail(`tensor "${name}" ${v.dtype} ${formatShape(shape as number[])} needs ${expected} bytes, its offsets span ${end - begin}`);
  return { dtype: v.dtype, shape: shape as number[], begin, end };
}

function decodeFloats(bytes: Uint8Array, offset: number, count: number, dtype: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * FLOAT_DTYPES[dtype]);
  const out = new Float32Array(count);
  if (dtype === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  else if (dtype === 'F64') for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
  else if (dtype === 'F16') for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  else for (let i = 0; i < count; i++) out[i] = bfloat16ToFloat(view.getUint16(i * 2, true));
  return out;
}

const scratch = new DataView(new ArrayBuffer(4));

function bfloat16ToFloat(bits: number): number {
  scratch.setUint32(0, bits << 16);
  return scratch.getFloat32(0);
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
