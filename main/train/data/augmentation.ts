/**
 * Training augmentation, drawn per sample from a seeded PRNG:
 *   - random resized crop (Inception style, as torchvision's RandomResizedCrop): a box of
 *     scaleMin..scaleMax of the image area with a width/height ratio log-uniform in ratioMin..ratioMax,
 *     resized to the resolution; done by sharp while decoding (image-pixels.ts);
 *   - horizontal flip (p = 1/2) and a rotation uniform in ±rotationDegrees about the centre, with
 *     mirrored borders (Keras RandomRotation's default), as one bilinear resampling;
 *   - colour jitter: brightness, then contrast, then saturation, each a factor uniform in
 *     [1 - x, 1 + x] as torchvision's ColorJitter defines them, clamped to 0..255 after each.
 * The last two run in JavaScript on the resolution² pixels while they are written into the batch.
 */
import { ApiError } from '../../contract/contract';
import { Augmentation } from '../../contract/calls-data';
import type { CropBox } from '../../dataset/image-pixels';
import { uniform, type Random } from './random';

export type AugmentationInput = Partial<Augmentation>;

export interface SampleAugmentation {
  /** null: evaluation resize (shorter side, centre crop) */
  crop: CropBox | null;
  flip: boolean;
  /** radians, counter-clockwise */
  angle: number;
  brightness: number;
  contrast: number;
  saturation: number;
}

/** The full settings from partial ones (defaults filled in), or an ApiError naming the bad field. */
export function resolveAugmentation(input: AugmentationInput = {}): Augmentation {
  const parsed = Augmentation.safeParse(input);
  if (parsed.success) return parsed.data;
  const words = parsed.error.issues.map((i) => `augmentation.${i.path.join('.')}: ${i.message}`).join('; ');
  throw new ApiError('invalid_input', words, parsed.error.issues);
}

/** Everything random about one sample, for an image of width × height (as shown). */
export function drawAugmentation(random: Random, width: number, height: number, config: Augmentation): SampleAugmentation {
  const crop = config.randomCrop ? randomResizedCrop(random, width, height, config) : null;
  const flip = config.flip && random() < 0.5;
  const angle = config.rotationDegrees > 0 ? (uniform(random, -config.rotationDegrees, config.rotationDegrees) * Math.PI) / 180 : 0;
  const factor = (x: number) => (x > 0 ? uniform(random, 1 - x, 1 + x) : 1);
  return { crop, flip, angle, brightness: factor(config.brightness), contrast: factor(config.contrast), saturation: factor(config.saturation) };
}

/**
 * torchvision's algorithm: up to 10 tries of a random area and log-uniform ratio that fits, else the
 * largest centred box whose ratio is clamped into range.
 */
export function randomResizedCrop(random: Random, width: number, height: number, config: Pick<Augmentation, 'scaleMin' | 'scaleMax' | 'ratioMin' | 'ratioMax'>): CropBox {
  const area = width * height;
  const logRatio = [Math.log(config.ratioMin), Math.log(config.ratioMax)] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * uniform(random, config.scaleMin, config.scaleMax);
    const ratio = Math.exp(uniform(random, logRatio[0], logRatio[1]));
    const w = Math.round(Math.sqrt(target * ratio));
    const h = Math.round(Math.sqrt(target / ratio));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { left: Math.floor(random() * (width - w + 1)), top: Math.floor(random() * (height - h + 1)), width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < config.ratioMin) h = Math.max(1, Math.round(w / config.ratioMin));
  else if (inRatio > config.ratioMax) w = Math.max(1, Math.round(h * config.ratioMax));
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/**
 * Write one size × size RGB image into `out` at `offset` as float32, flipped, rotated and
 * colour-jittered as `aug` says, in at most two passes: sampling with brightness (summing the grey
 * level on the way), then contrast and saturation together. With nothing to do it is a plain copy.
 */
export function augmentPixels(src: Uint8Array, size: number, aug: SampleAugmentation, out: Float32Array, offset: number): void {
  const values = size * size * 3;
  if (aug.angle === 0 && !aug.flip && aug.brightness === 1) {
    for (let i = 0; i < values; i++) out[offset + i] = src[i];
  } else {
    resample(src, size, aug, out, offset);
  }
  if (aug.contrast !== 1 || aug.saturation !== 1) contrastAndSaturation(out, offset, size * size, aug);
}

/**
 * Inverse mapping: each output pixel reads the source at its position flipped, then rotated by
 * -angle about the centre, with bilinear interpolation and mirrored (symmetric) borders; then
 * brightness is applied.
 */
function resample(src: Uint8Array, size: number, aug: SampleAugmentation, out: Float32Array, offset: number): void {
  const cos = Math.cos(aug.angle);
  const sin = Math.sin(aug.angle);
  const k = aug.brightness;
  const centre = size / 2;
  const row = size * 3;
  // stepping one output pixel to the right moves the source position by (stepX, stepY)
  const stepX = aug.flip ? -cos : cos;
  const stepY = aug.flip ? -sin : sin;
  let o = offset;
  for (let y = 0; y < size; y++) {
    const dy = y + 0.5 - centre;
    const dx = (aug.flip ? size - 1 : 0) + 0.5 - centre;
    // rotating the image by +angle = sampling each output pixel at its position rotated by -angle
    let sx = cos * dx - sin * dy + centre - 0.5;
    let sy = sin * dx + cos * dy + centre - 0.5;
    for (let x = 0; x < size; x++, sx += stepX, sy += stepY) {
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      let a: number, b: number, c: number, d: number;
      if (x0 >= 0 && y0 >= 0 && x0 < size - 1 && y0 < size - 1) {
        a = y0 * row + x0 * 3;
        b = a + 3;
        c = a + row;
        d = c + 3;
      } else {
        const xa = mirror(x0, size) * 3;
        const xb = mirror(x0 + 1, size) * 3;
        const ra = mirror(y0, size) * row;
        const rb = mirror(y0 + 1, size) * row;
        a = ra + xa;
        b = ra + xb;
        c = rb + xa;
        d = rb + xb;
      }
      const wa = (1 - fx) * (1 - fy);
      const wb = fx * (1 - fy);
      const wc = (1 - fx) * fy;
      const wd = fx * fy;
      for (let ch = 0; ch < 3; ch++) {
        const v = k * (src[a + ch] * wa + src[b + ch] * wb + src[c + ch] * wc + src[d + ch] * wd);
        out[o++] = v > 255 ? 255 : v;
      }
    }
  }
}

/** Symmetric reflection into 0..size-1 ("d c b a | a b c d | d c b a"). */
function mirror(i: number, size: number): number {
  const period = 2 * size;
  let m = i % period;
  if (m < 0) m += period;
  return m < size ? m : period - 1 - m;
}

/**
 * Contrast blends each channel with the mean grey level of the image, then saturation blends it
 * with the pixel's own grey level; each result is clamped to 0..255 as torchvision does.
 */
function contrastAndSaturation(px: Float32Array, offset: number, pixels: number, aug: SampleAugmentation): void {
  const end = offset + pixels * 3;
  const c = aug.contrast;
  const s = aug.saturation;
  let mean = 0;
  if (c !== 1) {
    let sum = 0;
    for (let i = offset; i < end; i += 3) sum += grey(px[i], px[i + 1], px[i + 2]);
    mean = sum / pixels;
  }
  for (let i = offset; i < end; i += 3) {
    let r = px[i];
    let g = px[i + 1];
    let b = px[i + 2];
    if (c !== 1) {
      r = clamp255(mean + c * (r - mean));
      g = clamp255(mean + c * (g - mean));
      b = clamp255(mean + c * (b - mean));
    }
    if (s !== 1) {
      const l = grey(r, g, b);
      r = clamp255(l + s * (r - l));
      g = clamp255(l + s * (g - l));
      b = clamp255(l + s * (b - l));
    }
    px[i] = r;
    px[i + 1] = g;
    px[i + 2] = b;
  }
}

/** ITU-R 601 luma, as torchvision's rgb_to_grayscale. */
function grey(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}
