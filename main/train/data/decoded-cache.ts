/**
 * Images decoded once and kept on disk as raw RGB, for runs that read the same images again and
 * again — the scaling lab's candidates train one after another, each in its own trainer process,
 * on the same subset. A cached image is the decoded file (EXIF-rotated, flattened, sRGB) at most
 * `maxSide` pixels on its longer side; an image that small already is kept exactly, so its pixels
 * are the file's. Files are named by content hash, written to a temporary name and renamed, so a
 * killed writer leaves nothing half-written and concurrent readers see whole files.
 *
 * Layout: <dir>/<hash>.rgb = u32 LE width, u32 LE height, then width·height·3 bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeImage, type DecodedImage } from '../../dataset/image-pixels';

const HEADER = 8;

export class DecodedCache {
  /** images read or written by this process (hits, misses) */
  readonly counts = { hits: 0, misses: 0 };

  constructor(
    readonly dir: string,
    readonly maxSide: number,
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** The project's cache folder for this size: <project>.d/cache/decoded-<maxSide>. */
  static forProject(projectFile: string, maxSide: number): DecodedCache {
    return new DecodedCache(path.join(`${path.resolve(projectFile)}.d`, 'cache', `decoded-${maxSide}`), maxSide);
  }

  /** `source`: the file, or its bytes already read (and checked) by the caller. */
  async get(hash: string, source: string | (() => Promise<Buffer>)): Promise<DecodedImage> {
    const target = path.join(this.dir, `${hash}.rgb`);
    const stored = readCached(target);
    if (stored) {
      this.counts.hits++;
      return stored;
    }
    const image = await decodeImage(typeof source === 'string' ? source : await source(), this.maxSide);
    this.counts.misses++;
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(image.width, 0);
    header.writeUInt32LE(image.height, 4);
    const temporary = `${target}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(temporary, Buffer.concat([header, image.data]));
      fs.renameSync(temporary, target);
    } catch {
      // a full disk or a read-only project: decode again next time rather than fail the run
      fs.rmSync(temporary, { force: true });
    }
    return image;
  }
}

function readCached(file: string): DecodedImage | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return null;
  }
  if (bytes.length < HEADER) return null;
  const width = bytes.readUInt32LE(0);
  const height = bytes.readUInt32LE(4);
  if (width === 0 || height === 0 || bytes.length !== HEADER + width * height * 3) return null;
  return { data: bytes.subarray(HEADER), width, height };
}
