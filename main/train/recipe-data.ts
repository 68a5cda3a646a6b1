/**
 * What the default recipe (recipe.ts) needs to know about a project's images, read synchronously
 * before a run starts: their typical size (from the images table: width and height as shown) and
 * whether they are grayscale. The project stores no channel count, so that comes from the headers
 * of a sample of the files (the first bytes only, nothing decoded): a PNG's colour type, a JPEG's
 * component count. An RGB PNG of a few megabytes at most is also inflated (zlib, no image decoder)
 * to see whether every pixel is grey: PNG's row filters predict each byte from the same channel of
 * its neighbours, so a grey pixel stays three equal bytes after filtering and no unfiltering is
 * needed. A JPEG stored with three components reads as colour even when its pixels are grey (only
 * entropy decoding would tell); WebP, GIF, TIFF and AVIF headers do not say, so those count as unknown.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { Database } from '../project/database';
import type { DataProfile, ImageChannels } from './recipe';
import { imageFsPath, type FsPath } from '../dataset/file-name-bytes';

/** Files whose header is read to decide grayscale: enough to see a mixed data set, cheap on any disk. */
export const CHANNEL_SAMPLE = 48;
/** A JPEG's frame header follows its APP segments (EXIF, ICC): this many bytes find it in all but odd files. */
const JPEG_HEADER_BYTES = 256 * 1024;
/** RGB PNGs up to this size are read whole to look for grey pixels stored as RGB */
const PNG_INSPECT_BYTES = 4 * 1024 * 1024;

/** Size and channels of the project's usable labeled images; null when it has none. */
export function profileTrainingData(db: Database): DataProfile | null {
  const usable = `status = 'ok' AND missing = 0 AND excluded = 0 AND class_id IS NOT NULL AND width IS NOT NULL AND height IS NOT NULL`;
  const images = db.prepare(`SELECT COUNT(*) FROM images WHERE ${usable}`).pluck().get() as number;
  if (images === 0) return null;
  const median = (expression: string) =>
    db.prepare(`SELECT ${expression} AS v FROM images WHERE ${usable} ORDER BY v LIMIT 1 OFFSET ?`).pluck().get(Math.floor((images - 1) / 2)) as number;
  const shortSide = median('MIN(width, height)');
  const longSide = median('MAX(width, height)');
  // evenly spaced over the ids, so every class and import is represented
  const paths = (db.prepare(`SELECT path, path_bytes AS pathBytes FROM images WHERE ${usable} ORDER BY id`).all() as { path: string; pathBytes: Buffer | null }[]).map(imageFsPath);
  const step = Math.max(1, paths.length / CHANNEL_SAMPLE);
  const sample: FsPath[] = [];
  for (let at = 0; at < paths.length && sample.length < CHANNEL_SAMPLE; at += step) sample.push(paths[Math.floor(at)]);
  return { images, shortSide, longSide, ...channelsOf(sample) };
}

function channelsOf(files: readonly FsPath[]): Pick<DataProfile, 'channels' | 'channelsBasis'> {
  let gray = 0;
  let colour = 0;
  for (const file of files) {
    const found = headerChannels(file);
    if (found === 'gray') gray++;
    else if (found === 'colour') colour++;
  }
  const unknown = files.length - gray - colour;
  const basis = `file headers of ${files.length} sampled image${files.length === 1 ? '' : 's'}: ${gray} grayscale, ${colour} colour${unknown > 0 ? `, ${unknown} not told by the header (WebP, GIF, TIFF, AVIF, or unreadable)` : ''}`;
  const channels: ImageChannels = colour > 0 ? 'colour' : gray > 0 ? 'gray' : 'unknown';
  return { channels, channelsBasis: basis };
}

/** 'gray' | 'colour' from a PNG or JPEG header; null when the header does not say (or the file cannot be read). */
export function headerChannels(file: FsPath): ImageChannels | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(JPEG_HEADER_BYTES);
    const length = fs.readSync(fd, head, 0, head.length, 0);
    const found = bufferChannels(head.subarray(0, length));
    if (found !== 'colour' || !isRgbPng(head) || fs.fstatSync(fd).size > PNG_INSPECT_BYTES) return found;
    return pngPixelsAreGrey(fs.readFileSync(file)) ? 'gray' : 'colour';
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

export function bufferChannels(head: Buffer): ImageChannels | null {
  if (head.length >= 26 && head.readUInt32BE(0) === 0x89504e47 && head.toString('latin1', 12, 16) === 'IHDR') return pngChannels(head);
  if (head.length >= 4 && head[0] === 0xff && head[1] === 0xd8) return jpegChannels(head);
  return null;
}

function isRgbPng(head: Buffer): boolean {
  return head.readUInt32BE(0) === 0x89504e47 && head[24] === 8 && head[28] === 0 && (head[25] === 2 || head[25] === 6);
}

/** 8-bit RGB(A), not interlaced: true when every pixel's filtered R, G and B bytes are equal. */
function pngPixelsAreGrey(png: Buffer): boolean {
  const width = png.readUInt32BE(16);
  const bytesPerPixel = png[25] === 6 ? 4 : 3;
  const parts: Buffer[] = [];
  for (let at = 8; at + 8 <= png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') parts.push(png.subarray(at + 8, at + 8 + length));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(Buffer.concat(parts));
  } catch {
    return false;
  }
  const stride = 1 + width * bytesPerPixel;
  for (let row = 0; row + stride <= raw.length; row += stride) {
    for (let i = row + 1; i < row + stride; i += bytesPerPixel) if (raw[i] !== raw[i + 1] || raw[i] !== raw[i + 2]) return false;
  }
  return true;
}

/** IHDR colour type: 0 grey, 4 grey + alpha, 2 RGB, 6 RGBA, 3 palette (grey when every entry is). */
function pngChannels(head: Buffer): ImageChannels | null {
  const colourType = head[25];
  if (colourType === 0 || colourType === 4) return 'gray';
  if (colourType === 2 || colourType === 6) return 'colour';
  if (colourType !== 3) return null;
  // walk the chunks to PLTE: RGB triples
  for (let at = 8; at + 8 <= head.length; ) {
    const length = head.readUInt32BE(at);
    const type = head.toString('latin1', at + 4, at + 8);
    if (type === 'PLTE') {
      if (at + 8 + length > head.length) return null;
      for (let i = at + 8; i + 2 < at + 8 + length; i += 3) if (head[i] !== head[i + 1] || head[i] !== head[i + 2]) return 'colour';
      return 'gray';
    }
    if (type === 'IDAT') return null;
    at += 12 + length;
  }
  return null;
}

/** The component count of the first frame header (SOF0..SOF15 but DHT, JPG and DAC): 1 is grey. */
function jpegChannels(head: Buffer): ImageChannels | null {
  let at = 2;
  while (at + 4 <= head.length) {
    if (head[at] !== 0xff) return null;
    const marker = head[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = head.readUInt16BE(at + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return at + 9 < head.length ? (head[at + 9] === 1 ? 'gray' : 'colour') : null;
    if (marker === 0xda) return null;
    at += 2 + length;
  }
  return null;
}
