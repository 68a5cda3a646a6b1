/**
 * The full image for the detail view, in a form every browser shows: EXIF-rotated, 8-bit sRGB,
 * at most 2048 px on the long side. Lossy sources (JPEG, AVIF, lossy WebP) come back as JPEG; lossless
 * ones (PNG, GIF, TIFF) as lossless WebP, so a user inspecting their data never sees artifacts the
 * file does not have. TIFF, AVIF, CMYK and 16-bit sources all come out the same way.
 */
import fs from 'node:fs';
import sharp from 'sharp';
import { ApiError } from '../contract/contract';
import { MAX_PIXELS, sharpMessage } from './inspect-image';

export const FULL_IMAGE_MAX_SIZE = 2048;

export async function renderFullImage(file: string): Promise<{ data: Buffer; contentType: string }> {
  try {
    const stat = await fs.promises.stat(file);
    if (!stat.isFile()) throw new ApiError('not_found', `image file ${file} is no longer a file`);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ApiError('not_found', `image file ${file} no longer exists`);
    throw new ApiError('io_error', `cannot read image file ${file}: ${(err as Error).message}`);
  }
  try {
    const meta = await sharp(file, { limitInputPixels: false }).metadata();
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (pixels > MAX_PIXELS) throw new ApiError('invalid_input', `cannot show ${file}: it is ${meta.width}×${meta.height} pixels, above the limit of ${MAX_PIXELS / 1e6} megapixels`);
    const pipeline = sharp(file, { limitInputPixels: MAX_PIXELS, pages: 1 })
      .rotate()
      .toColourspace('srgb')
      .resize(FULL_IMAGE_MAX_SIZE, FULL_IMAGE_MAX_SIZE, { fit: 'inside', withoutEnlargement: true });
    const lossless = meta.hasAlpha || ['png', 'gif', 'tiff'].includes(meta.format ?? '');
    if (lossless) return { data: await pipeline.webp({ lossless: true, effort: 1 }).toBuffer(), contentType: 'image/webp' };
    return { data: await pipeline.jpeg({ quality: 90 }).toBuffer(), contentType: 'image/jpeg' };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('invalid_input', `cannot show ${file}: ${sharpMessage(err)}`);
  }
}
