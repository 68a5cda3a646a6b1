/**
 * Reads NumPy .npy files (format versions 1, 2 and 3): the magic "\x93NUMPY", a version, a header
 * length (2 bytes in v1, 4 in v2/v3), a Python dict literal {'descr', 'fortran_order', 'shape'},
 * then the raw array. Parsed by hand: the format is a page long, and every field can be checked
 * with an error that names the file.
 */
import { ApiError } from '../../contract/contract';

export interface NpyArray {
  /** numpy dtype string, e.g. "<f4" */
  descr: string;
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const KIND_NAMES: Record<string, string> = { f: 'float', i: 'int', u: 'uint', b: 'bool', c: 'complex', U: 'unicode', S: 'bytes', O: 'object', M: 'datetime', m: 'timedelta' };

/** Parse a float32 little-endian array; anything else is refused with what it is and how to fix it. */
export function parseNpyFloat32(bytes: Uint8Array, file: string): NpyArray {
  const bad = (why: string) => new ApiError('invalid_input', `${file} is not a valid .npy file: ${why}`);
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw bad('it does not start with the .npy magic "\\x93NUMPY"');
  const major = bytes[6];
  if (major < 1 || major > 3) throw bad(`format version ${major}.${bytes[7]} is unknown (1, 2 and 3 are)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw bad('the file ends inside its header (truncated?)');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > bytes.length) throw bad(`its header says ${headerLength} bytes but the file ends before (truncated?)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lengthBytes, dataOffset));
  const { descr, fortranOrder, shape } = parseHeader(header, bad);

  if (descr !== '<f4') {
    throw new ApiError('invalid_input', `${file} holds ${dtypeName(descr)} values (dtype '${descr}'); effitune needs little-endian float32 ('<f4'): save it with array.astype('<f4')`);
  }
  if (fortranOrder) throw new ApiError('invalid_input', `${file} is stored in Fortran (column-major) order; save it in C order (np.ascontiguousarray)`);
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * 4;
  const actual = bytes.length - dataOffset;
  if (actual < expected) {
    throw new ApiError('invalid_input', `${file} is truncated: shape (${shape.join(', ')}) needs ${expected} bytes of float32 data, the file holds ${actual}`);
  }
  if (actual > expected) throw new ApiError('invalid_input', `${file} has ${actual - expected} bytes after the data its shape (${shape.join(', ')}) describes`);
  const data = new Float32Array(count);
  const dataView = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, expected);
  for (let i = 0; i < count; i++) data[i] = dataView.getFloat32(i * 4, true);
  return { descr, shape, data };
}

function parseHeader(header: string, bad: (why: string) => ApiError): { descr: string; fortranOrder: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) throw bad(`its header has no 'descr' (dtype): ${header.trim()}`);
  if (fortran === undefined) throw bad(`its header has no 'fortran_order': ${header.trim()}`);
  if (shapeText === undefined) throw bad(`its header has no 'shape': ${header.trim()}`);
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!parts.every((p) => /^\d+L?$/.test(p))) throw bad(`its shape (${shapeText}) is not a tuple of whole numbers`);
  return { descr, fortranOrder: fortran === 'True', shape: parts.map((p) => parseInt(p, 10)) };
}

/** "<f8" → "float64", "|u1" → "uint8" */
function dtypeName(descr: string): string {
  const m = /^[<>|=]?([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) return descr;
  const kind = KIND_NAMES[m[1]];
  if (!kind) return descr;
  const bits = ['f', 'i', 'u', 'c'].includes(m[1]) ? String(Number(m[2]) * 8) : '';
  const order = descr.startsWith('>') ? ' big-endian' : '';
  return `${kind}${bits}${order}`;
}
