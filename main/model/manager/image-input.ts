/**
 * Image files → model input pixels, the one way Effitune turns a photo into a square model input
 * (inference here; the training pipeline's evaluation path should call the same function):
 *   1. decode, and apply the EXIF orientation (phone photos are stored sideways),
 *   2. resize so the SHORTER side equals the model resolution (Lanczos3), keeping the aspect ratio,
 *   3. crop the centre to resolution × resolution,
 *   4. convert to sRGB with 3 channels (grey is repeated, CMYK converted, alpha dropped — as PIL's
 *      convert('RGB') does, so timm/Keras users get the pixels they expect),
 *   5. hand over RGB values 0..255 as float32, NHWC; normalisation happens inside the model.
 */
import fs from 'node:fs';
import sharp, { type OutputInfo } from 'sharp';
import { ApiError } from '../../api/contract';

export const IMAGE_RESIZE = 'EXIF-rotated, shorter side resized to the model size (Lanczos3), centre-cropped, sRGB RGB 0..255';

export async function imageToPixels(file: string, width: number, height: number): Promise<Float32Array> {
  if (!fs.existsSync(file)) throw new ApiError('not_found', `image ${file} does not exist`);
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(file, { failOn: 'error' })
      .rotate()
      .resize(width, height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ApiError('invalid_input', `cannot decode image ${file}: ${(err as Error).message}`);
  }
  const { data, info } = decoded;
  if (info.channels !== 3 || info.width !== width || info.height !== height) {
    throw new ApiError('internal', `decoding ${file} gave ${info.width}×${info.height}×${info.channels}, expected ${width}×${height}×3`);
  }
  return Float32Array.from(data);
}
