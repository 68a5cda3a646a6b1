/**
 * Image file → RGB pixels at the model resolution, with sharp. Training and inference share the
 * decode: first frame, EXIF orientation applied, alpha flattened onto white (as the grid shows the
 * image), 8-bit sRGB with 3 channels (grey repeated, CMYK and 16-bit converted).
 * Evaluation and inference then resize the SHORTER side to the resolution (Lanczos3) and crop the
 * centre square: the whole width or height is kept and nothing is stretched. Training instead cuts
 * a random crop box (augmentation.ts) and resizes it to the resolution.
 * Pixels are 0..255; normalisation happens inside the model.
 */
import fs from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import { ApiError } from '../contract/contract';
import { shownPath, type FsPath } from './file-name-bytes';
import { MAX_PIXELS, sharpMessage } from './inspect-image';

export const EVALUATION_RESIZE = 'EXIF-rotated, alpha flattened onto white, 8-bit sRGB; shorter side resized to the resolution (Lanczos3), centre crop; RGB 0..255';

/** Pixels already decoded (EXIF-rotated, flattened, sRGB): 8-bit RGB, width × height × 3. */
export interface DecodedImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

export type PixelSource = Buffer | string | DecodedImage;

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The model input of one image for prediction, as float32 NHWC [resolution, resolution, 3] RGB 0..255:
 * the same pixels the evaluation of a trained model sees. Every infer/predict path must use this.
 */
export async function preprocessForInference(input: Buffer | string, resolution: number, name?: string): Promise<Float32Array> {
  checkResolution(resolution);
  let pixels: Buffer;
  try {
    pixels = await decodeCentreCrop(input, resolution);
  } catch (err) {
    throw new ApiError('invalid_input', `cannot read ${name ?? (typeof input === 'string' ? input : 'the image')}: ${sharpMessage(err)}`);
  }
  return toFloat32(pixels);
}

/**
 * preprocessForInference of an image file by what opens it. sharp opens text paths itself but
 * takes a Buffer for image bytes, so a path that is raw bytes (a name that is not UTF-8,
 * file-name-bytes.ts) is read here first.
 */
export async function preprocessFileForInference(file: FsPath, resolution: number): Promise<Float32Array> {
  if (typeof file === 'string') return preprocessForInference(file, resolution);
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ApiError('invalid_input', `cannot read ${shownPath(file)}: ${code === 'ENOENT' ? 'the file does not exist' : (err as Error).message}`);
  }
  return preprocessForInference(bytes, resolution, shownPath(file));
}

/** Evaluation pixels (uint8 RGB, resolution² × 3). Throws sharp's error for an unreadable file. */
export async function decodeCentreCrop(input: PixelSource, resolution: number): Promise<Buffer> {
  return rawRgb(decode(input).resize(resolution, resolution, { fit: 'cover', position: 'centre', kernel: 'lanczos3' }), resolution);
}

/** A box of the oriented image resized (stretched) to resolution²: the random resized crop of training. */
export async function decodeCrop(input: PixelSource, box: CropBox, resolution: number): Promise<Buffer> {
  return rawRgb(decode(input).extract(box).resize(resolution, resolution, { fit: 'fill', kernel: 'lanczos3' }), resolution);
}

/** Width and height as shown, after the EXIF orientation. */
export async function orientedSize(input: Buffer | string): Promise<{ width: number; height: number }> {
  const meta = await sharp(input, { limitInputPixels: MAX_PIXELS, pages: 1 }).metadata();
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new Error('the header gives no image size');
  return { width, height };
}

export function toFloat32(pixels: Uint8Array, out: Float32Array = new Float32Array(pixels.length), offset = 0): Float32Array {
  for (let i = 0; i < pixels.length; i++) out[offset + i] = pixels[i];
  return out;
}

/**
 * The decoded image, at most `maxSide` pixels on its longer side (smaller ones are kept as they
 * are, so their pixels are exactly the file's): what a decode cache stores.
 */
export async function decodeImage(input: Buffer | string, maxSide: number): Promise<DecodedImage> {
  const { data, info } = await decode(input)
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoding gave ${info.channels} channels, expected 3`);
  return { data, width: info.width, height: info.height };
}

function decode(input: PixelSource): Sharp {
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) return sharp(input.data, { raw: { width: input.width, height: input.height, channels: 3 } });
  return sharp(input, { limitInputPixels: MAX_PIXELS, pages: 1 }).autoOrient().flatten({ background: '#ffffff' }).toColourspace('srgb');
}

async function rawRgb(pipeline: Sharp, resolution: number): Promise<Buffer> {
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== resolution || info.height !== resolution || info.channels !== 3) {
    throw new Error(`decoding gave ${info.width}×${info.height}×${info.channels}, expected ${resolution}×${resolution}×3`);
  }
  return data;
}

function checkResolution(resolution: number): void {
  if (!Number.isInteger(resolution) || resolution < 8 || resolution > 4096) {
    throw new ApiError('invalid_input', `resolution must be a whole number of pixels from 8 to 4096, not ${resolution}`);
  }
}
