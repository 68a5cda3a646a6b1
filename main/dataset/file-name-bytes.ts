/**
 * File names as the bytes they are. On Linux a name is any bytes but "/" and NUL, so a name made on
 * a Latin-1 system ("café" as 63 61 66 E9) is not UTF-8 and no JavaScript string opens it. Such a
 * file is still imported and used: it is opened by its raw bytes (a Buffer path, which node:fs
 * takes everywhere) and shown by a readable text form.
 *
 * The text form (images.path, shown in the UI, the CLI and CSV files): a name that is valid UTF-8 is
 * itself, unchanged. In a name that is not, every byte that is not part of a valid UTF-8 sequence is
 * written \xHH (two upper-case hex digits) and every backslash \\, so Latin-1 "café.png" reads
 * `caf\xE9.png`. The form is reversible (nameBytes) and two different byte names never read the same.
 * A valid name that happens to be spelled like an escaped one (a file really named `caf\xE9.png`)
 * could; the scan refuses the escaped one in that case (scan-folder.ts), so a project never holds
 * both. Only the names that need it are escaped: the folders above stay as they are.
 *
 * The exact bytes of the whole path are kept beside the text (images.path_bytes, NULL for UTF-8
 * paths), and every reader opens `imageFsPath(row)`: the text when it is the path, else the bytes.
 * Windows names are UTF-16 and always come out as UTF-8, so there the text is always the path.
 */
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../project/database';

/** What node:fs opens: a text path, or the raw bytes of a path that is not UTF-8. */
export type FsPath = string | Buffer;

/** A path found on disk: its text form (stored, shown) and what opens it. */
export interface FoundPath {
  text: string;
  /** === text when every part of the path is UTF-8; else the raw bytes */
  fs: FsPath;
}

const BACKSLASH = 0x5c;
const SLASH = 0x2f;

/**
 * The length of the well-formed UTF-8 sequence starting at `at` (Unicode table 3-7: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when the byte there starts none.
 */
function sequenceLength(bytes: Uint8Array, at: number): number {
  const b0 = bytes[at];
  if (b0 < 0x80) return 1;
  const tail = (i: number, lo = 0x80, hi = 0xbf) => at + i < bytes.length && bytes[at + i] >= lo && bytes[at + i] <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return tail(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const second = b0 === 0xe0 ? tail(1, 0xa0) : b0 === 0xed ? tail(1, 0x80, 0x9f) : tail(1);
    return second && tail(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const second = b0 === 0xf0 ? tail(1, 0x90) : b0 === 0xf4 ? tail(1, 0x80, 0x8f) : tail(1);
    return second && tail(2) && tail(3) ? 4 : 0;
  }
  return 0;
}

const hex = (byte: number) => `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;

/** The text form of one name (no "/" in it): itself when UTF-8, else escaped as the header says. */
export function nameText(name: Uint8Array): string {
  const buffer = Buffer.from(name.buffer, name.byteOffset, name.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  let text = '';
  for (let at = 0; at < buffer.length; ) {
    const length = sequenceLength(buffer, at);
    if (length === 0) text += hex(buffer[at++]);
    else if (buffer[at] === BACKSLASH) {
      text += '\\\\';
      at++;
    } else {
      text += buffer.toString('utf8', at, at + length);
      at += length;
    }
  }
  return text;
}

/** The bytes of an escaped name's text form (the inverse of nameText for a name that was escaped). */
export function nameBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let plain = '';
  for (let at = 0; at < text.length; ) {
    if (text[at] === '\\' && text[at + 1] === '\\') {
      plain += '\\';
      at += 2;
    } else if (text[at] === '\\' && text[at + 1] === 'x' && /^[0-9A-F]{2}$/.test(text.slice(at + 2, at + 4))) {
      parts.push(Buffer.from(plain, 'utf8'), Buffer.from([parseInt(text.slice(at + 2, at + 4), 16)]));
      plain = '';
      at += 4;
    } else {
      plain += text[at++];
    }
  }
  parts.push(Buffer.from(plain, 'utf8'));
  return Buffer.concat(parts);
}

/** The readable text of any fs path: each part of a byte path by nameText. */
export function shownPath(file: FsPath): string {
  if (typeof file === 'string') return file;
  const parts: string[] = [];
  let start = 0;
  for (let at = 0; at <= file.length; at++) {
    if (at === file.length || file[at] === SLASH) {
      parts.push(nameText(file.subarray(start, at)));
      start = at + 1;
    }
  }
  return parts.join('/');
}

/** The root of a walk: a text path given by the user opens as it is. */
export function rootPath(folder: string): FoundPath {
  return { text: folder, fs: folder };
}

/** An entry (its name as readdir's bytes) of a folder found on disk. */
export function childPath(folder: FoundPath, name: Buffer): FoundPath {
  const text = path.join(folder.text, nameText(name));
  if (typeof folder.fs === 'string' && isUtf8(name)) return { text, fs: text };
  const parent = typeof folder.fs === 'string' ? Buffer.from(folder.fs, 'utf8') : folder.fs;
  const joined = parent.length > 0 && parent[parent.length - 1] === SLASH ? [parent, name] : [parent, Buffer.from(path.sep), name];
  return { text, fs: Buffer.concat(joined) };
}

/** The bytes to store in images.path_bytes: null when the text is the path. */
export function storedPathBytes(file: FsPath): Buffer | null {
  return typeof file === 'string' ? null : file;
}

/** What opens a stored image: the raw bytes when its name is not UTF-8, else its path. */
export function imageFsPath(image: { path: string; pathBytes?: Buffer | null }): FsPath {
  return image.pathBytes ?? image.path;
}

/** images.path_bytes under the name the readers use (`SELECT i.path, ${PATH_BYTES} ...`). */
export const PATH_BYTES = 'i.path_bytes AS pathBytes';

/** The file of an image of the project by id (undefined: no such image). */
export function storedImageFile(db: Database, id: number): FsPath | undefined {
  const row = db.prepare('SELECT path, path_bytes AS pathBytes FROM images WHERE id = ?').get(id) as { path: string; pathBytes: Buffer | null } | undefined;
  return row && imageFsPath(row);
}

/** Whether the path is a regular file now (following links): the "file missing" check. */
export function isFileAt(file: FsPath): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Whether anything is at the path (following links), as fs.existsSync says of a text path. */
export function existsAt(file: FsPath): boolean {
  return fs.existsSync(file);
}

/** Bytes of a path for a JSON message to another process (base64); undefined for a text path. */
export function pathBytesForMessage(bytes: Buffer | null | undefined): string | undefined {
  return bytes ? bytes.toString('base64') : undefined;
}

/** The inverse of pathBytesForMessage. */
export function pathBytesFromMessage(text: string | null | undefined): Buffer | null {
  return text ? Buffer.from(text, 'base64') : null;
}

/**
 * A relative path as Python spells the bytes of names that are not UTF-8 ("surrogateescape": each
 * such byte 0xHH becomes the lone surrogate U+DCHH), so `open(os.path.join(root, path))` in a Python
 * script reading it from JSON opens the same file. JSON.stringify writes those as "\udcHH".
 */
export function pythonPathText(file: FsPath): string {
  if (typeof file === 'string') return file;
  if (isUtf8(file)) return file.toString('utf8');
  let text = '';
  for (let at = 0; at < file.length; ) {
    const length = sequenceLength(file, at);
    if (length === 0) text += String.fromCharCode(0xdc00 + file[at++]);
    else {
      text += file.toString('utf8', at, at + length);
      at += length;
    }
  }
  return text;
}

/** The inverse of pythonPathText: the text itself when it holds no escaped byte, else the bytes. */
export function fsPathFromPythonText(text: string): FsPath {
  if (!/[\udc80-\udcff]/.test(text)) return text;
  const parts: Buffer[] = [];
  let plain = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code >= 0xdc80 && code <= 0xdcff) {
      parts.push(Buffer.from(plain, 'utf8'), Buffer.from([code - 0xdc00]));
      plain = '';
    } else plain += ch;
  }
  parts.push(Buffer.from(plain, 'utf8'));
  return Buffer.concat(parts);
}

/** Whether two stored byte paths are the same (null: the text is the path). */
export function samePathBytes(a: Buffer | null | undefined, b: Buffer | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.equals(b);
}
