/**
 * Everything the import learns from an image's bytes: what it really is, its size as shown (after
 * EXIF orientation), and a WebP thumbnail, made with one sharp pipeline. A file that cannot be used
 * comes back as a reason in words, never as an exception.
 */
import path from 'node:path';
import sharp, { type Metadata, type Sharp } from 'sharp';

/** Above this the image is refused before decoding: a 30000×30000 PNG would need 2.7 GB of RAM. */
export const MAX_PIXELS = 100_000_000;
export const THUMBNAIL_SIZE = 256;
/** File name extensions the scan picks up (lower case). */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';
export const FORMAT_NAMES: Record<ImageFormat, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', gif: 'GIF', tiff: 'TIFF', avif: 'AVIF' };
export const SUPPORTED_WORDS = 'JPEG, PNG, WebP, GIF, TIFF or AVIF';

export type Inspection =
  | { ok: true; format: ImageFormat; width: number; height: number; thumbnail: Buffer }
  | { ok: false; reason: string };

export function hasImageExtension(fileName: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(fileName).toLowerCase());
}

/**
 * The thumbnail pipeline: first frame, EXIF rotation, alpha flattened onto white, 8-bit sRGB,
 * 256 px on the long side (never enlarged), WebP. Also the reference the import benchmark measures.
 */
export function thumbnailPipeline(input: Buffer | string): Sharp {
  return sharp(input, { limitInputPixels: MAX_PIXELS, pages: 1 })
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80, effort: 2 });
}

export async function inspectImage(data: Buffer, fileName: string): Promise<Inspection> {
  const named = describeExtension(fileName);
  if (data.length === 0) return refuse('empty file (0 bytes)');
  const sniffed = sniffFormat(data);
  if (sniffed === 'heic') return refuse(`unsupported image: the content is HEIC (${named}); convert it to JPEG or PNG`);
  if (sniffed === 'svg') return refuse(`unsupported image: the content is SVG vector graphics (${named}); only ${SUPPORTED_WORDS} are imported`);
  if (!sniffed) return refuse(`not an image: the content is not ${SUPPORTED_WORDS} (${named})`);
  const formatName = FORMAT_NAMES[sniffed];

  let meta: Metadata;
  try {
    // Header only, no limit here: we want the real size to say why a huge image is refused.
    meta = await sharp(data, { limitInputPixels: false }).metadata();
  } catch (err) {
    return refuse(`truncated or corrupt ${formatName}: ${sharpMessage(err)}`);
  }
  if (!meta.width || !meta.height) return refuse(`corrupt ${formatName}: the header gives no image size`);
  const pixels = meta.width * meta.height;
  if (pixels > MAX_PIXELS) {
    return refuse(`image is ${meta.width}×${meta.height} = ${megapixels(pixels)} MP, above the ${megapixels(MAX_PIXELS)} MP limit`);
  }

  let thumbnail: Buffer;
  try {
    thumbnail = await thumbnailPipeline(data).toBuffer();
  } catch (err) {
    return refuse(`truncated or corrupt ${formatName}: ${sharpMessage(err)}`);
  }
  return {
    ok: true,
    format: sniffed,
    width: meta.autoOrient?.width ?? meta.width,
    height: meta.autoOrient?.height ?? meta.height,
    thumbnail,
  };
}

function refuse(reason: string): Inspection {
  return { ok: false, reason };
}

/** What the bytes are, from their magic numbers; undefined for anything that is not an image we know. */
export function sniffFormat(data: Buffer): ImageFormat | 'heic' | 'svg' | undefined {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  if (data.length >= 8 && data.readUInt32BE(0) === 0x89504e47 && data.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (data.length >= 6 && (data.toString('latin1', 0, 6) === 'GIF87a' || data.toString('latin1', 0, 6) === 'GIF89a')) return 'gif';
  if (data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (data.length >= 4) {
    const head = data.toString('latin1', 0, 4);
    if (head === 'II*\0' || head === 'MM\0*' || head === 'II+\0' || head === 'MM\0+') return 'tiff';
  }
  if (data.length >= 12 && data.toString('latin1', 4, 8) === 'ftyp') {
    // ISO-BMFF: the major brand, then compatible brands after the minor version
    const boxEnd = Math.min(data.readUInt32BE(0), data.length, 64);
    const brands = [data.toString('latin1', 8, 12)];
    for (let at = 16; at + 4 <= boxEnd; at += 4) brands.push(data.toString('latin1', at, at + 4));
    if (brands.includes('avif') || brands.includes('avis')) return 'avif';
    if (brands.some((b) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(b))) return 'heic';
  }
  const start = data.toString('utf8', 0, Math.min(data.length, 512)).trimStart().toLowerCase();
  if (start.startsWith('<svg') || (start.startsWith('<?xml') && start.includes('<svg'))) return 'svg';
  return undefined;
}

function describeExtension(fileName: string): string {
  const ext = path.extname(fileName);
  return ext ? `file named ${ext}` : 'file without extension';
}

function megapixels(pixels: number): string {
  return String(Math.round(pixels / 100_000) / 10);
}

/**
 * sharp's error message in one line. libvips repeats messages line by line, and its error buffer is
 * shared by concurrent decodes, so under load a damaged file may only say that "a warning was treated
 * as an error": that is put in plain words.
 */
export function sharpMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  if (/warning treated as error/i.test(text)) return 'the decoder found damaged or missing image data';
  const lines = [...new Set(text.split('\n').map((l) => l.trim()).filter(Boolean))];
  return lines.join('; ');
}
