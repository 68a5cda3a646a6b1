/**
 * The full image for the detail view, in a form every browser shows: EXIF-rotated, 8-bit sRGB,
 * at most 2048 px on the long side. Lossy sources (JPEG, AVIF, lossy WebP) come back as JPEG; lossless
 * ones (PNG, GIF, TIFF) as lossless WebP, so a user inspecting their data never sees artifacts the
 * file does not have. TIFF, AVIF, CMYK and 16-bit sources all come out the same way.
 *
 * The file is read once and its bytes are checked before anything decodes them: they must be one
 * of the raster formats the import accepts (magic bytes, and sharp reading the same format), and,
 * for an imported image, the format the import recorded. A file replaced since the import (a JPEG
 * swapped for an SVG) is refused, and SVG is never decoded. Checking and decoding the same bytes
 * leaves no moment to swap the file in between.
 */
import fs from 'node:fs';
import sharp, { type Metadata } from 'sharp';
import { ApiError } from '../contract/contract';
import { MAX_FILE_BYTES } from './import-folder';
import { formatWords } from './as-imported';
import { shownPath, type FsPath } from './file-name-bytes';
import { FORMAT_NAMES, MAX_PIXELS, sharpMessage, sniffFormat, SUPPORTED_WORDS, type ImageFormat } from './inspect-image';

export const FULL_IMAGE_MAX_SIZE = 2048;

/** What the project knows of an image: its id and the format its import recorded (null: none, e.g. a rejected file). */
export interface RecordedImage {
  id: number;
  format: string | null;
}

/** sharp's name for each format the import accepts (AVIF is a HEIF container to libvips). */
const SHARP_FORMAT: Record<ImageFormat, string> = { jpeg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tiff', avif: 'heif' };

/** `file`: what opens the image (file-name-bytes.ts imageFsPath: raw bytes for a name that is not UTF-8). */
export async function renderFullImage(file: FsPath, recorded?: RecordedImage): Promise<{ data: Buffer; contentType: string }> {
  const what = recorded ? `image ${recorded.id} (${shownPath(file)})` : shownPath(file);
  const bytes = await readImageFile(file, what);
  const meta = await checkServedFormat(bytes, what, recorded);
  try {
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (pixels > MAX_PIXELS) throw new ApiError('invalid_input', `cannot show ${what}: it is ${meta.width}×${meta.height} pixels, above the limit of ${MAX_PIXELS / 1e6} megapixels`);
    const pipeline = sharp(bytes, { limitInputPixels: MAX_PIXELS, pages: 1 })
      .rotate()
      .toColourspace('srgb')
      .resize(FULL_IMAGE_MAX_SIZE, FULL_IMAGE_MAX_SIZE, { fit: 'inside', withoutEnlargement: true });
    const lossless = meta.hasAlpha || ['png', 'gif', 'tiff'].includes(meta.format ?? '');
    if (lossless) return { data: await pipeline.webp({ lossless: true, effort: 1 }).toBuffer(), contentType: 'image/webp' };
    return { data: await pipeline.jpeg({ quality: 90 }).toBuffer(), contentType: 'image/jpeg' };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('invalid_input', `cannot show ${what}: ${sharpMessage(err)}`);
  }
}

/**
 * The header (sharp's metadata) of bytes about to be served, or an error in words: not_found for
 * an imported image whose file now holds something else ("changed since the import"), invalid_input
 * for content that is not a raster format we show at all. The one check of every door's media.
 */
export async function checkServedFormat(bytes: Buffer, what: string, recorded?: RecordedImage): Promise<Metadata> {
  const sniffed = sniffFormat(bytes);
  const isNow = formatWords(sniffed);
  const recordedFormat = recorded?.format ?? null;
  if (recordedFormat !== null && sniffed !== recordedFormat) {
    const was = formatWords(recordedFormat);
    throw new ApiError('not_found', `${what} has changed since the import: it was imported as ${was} and the file is now ${isNow}; import its folder again`);
  }
  if (sniffed === undefined || sniffed === 'svg' || sniffed === 'heic') {
    throw new ApiError('invalid_input', `cannot show ${what}: the content is ${isNow}; only ${SUPPORTED_WORDS} images are shown`);
  }
  // sharp picks its decoder from the bytes too: it must read them as the same format
  let meta: Metadata;
  try {
    // header only, no pixel limit: the caller says why a huge image is refused
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ApiError('invalid_input', `cannot show ${what}: ${sharpMessage(err)}`);
  }
  if (meta.format !== SHARP_FORMAT[sniffed]) {
    throw new ApiError('invalid_input', `cannot show ${what}: it starts like ${FORMAT_NAMES[sniffed]} but decodes as ${meta.format ?? 'an unknown format'}`);
  }
  return meta;
}

async function readImageFile(file: FsPath, what: string): Promise<Buffer> {
  try {
    const stat = await fs.promises.stat(file);
    if (!stat.isFile()) throw new ApiError('not_found', `image file ${what} is no longer a file`);
    if (stat.size > MAX_FILE_BYTES) throw new ApiError('invalid_input', `cannot show ${what}: the file is ${(stat.size / 1024 ** 3).toFixed(1)} GB, above the ${MAX_FILE_BYTES / 1024 ** 3} GB limit for one image`);
    return await fs.promises.readFile(file);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ApiError('not_found', `image file ${what} no longer exists`);
    throw new ApiError('io_error', `cannot read image file ${what}: ${(err as Error).message}`);
  }
}
