/**
 * Writes the safetensors format (huggingface/safetensors), the counterpart of
 * main/model/weights/safetensors.ts: 8-byte little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets}, __metadata__?} padded with spaces to a multiple of 8 (as the
 * reference writer does, so the data is aligned), then the raw little-endian data in header order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiError } from '../contract/contract';

export interface NamedFloatTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

export function encodeSafetensors(tensors: readonly NamedFloatTensor[], metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of sorted) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new ApiError('internal', `tensor ${t.name}: shape [${t.shape.join(', ')}] holds ${count} values, the data ${t.data.length}`);
    if (t.name in header) throw new ApiError('internal', `tensor ${t.name} is named twice`);
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  const littleEndian = os.endianness() === 'LE';
  for (const t of sorted) {
    if (littleEndian) {
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
      at += t.data.byteLength;
    } else {
      for (let i = 0; i < t.data.length; i++, at += 4) out.writeFloatLE(t.data[i], at);
    }
  }
  return out;
}

/** Write through a temporary name and a rename: a reader never sees half a file. */
export function writeSafetensors(file: string, tensors: readonly NamedFloatTensor[], metadata: Record<string, string> = {}): number {
  const bytes = encodeSafetensors(tensors, metadata);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, bytes);
  fs.renameSync(temp, file);
  return bytes.length;
}
