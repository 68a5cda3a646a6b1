/**
 * Pixels of the data pipeline, without a project: the shared decode (orientation, alpha, grey,
 * 16-bit), the evaluation resize (shorter side + centre crop), the random resized crop, and the
 * JavaScript flip / rotation / colour jitter checked against what they must do to known images.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { augmentPixels, drawAugmentation, randomResizedCrop, resolveAugmentation, type SampleAugmentation } from '../../main/train/data/augmentation';
import { decodeCrop, preprocessForInference } from '../../main/dataset/image-pixels';
import { randomFor } from '../../main/train/data/random';
import { classWeights, epochOrder } from '../../main/train/data/sampling';

const NONE: SampleAugmentation = { crop: null, flip: false, angle: 0, brightness: 1, contrast: 1, saturation: 1 };

/** RGB of pixel (x, y) of a size × size float image. */
function at(px: Float32Array, size: number, x: number, y: number): number[] {
  const i = (y * size + x) * 3;
  return [px[i], px[i + 1], px[i + 2]].map((v) => Math.round(v));
}

function rawImage(width: number, height: number, colour: (x: number, y: number) => [number, number, number]): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(colour(x, y), (y * width + x) * 3);
  return data;
}

describe('preprocessForInference', () => {
  it('resizes the shorter side and keeps the centre: a wide image loses its left and right ends', async () => {
    // 90 × 30: red | green | blue bands of 30 px; the centre 30 × 30 is the green band
    const png = await sharp(rawImage(90, 30, (x) => (x < 30 ? [255, 0, 0] : x < 60 ? [0, 255, 0] : [0, 0, 255])), { raw: { width: 90, height: 30, channels: 3 } })
      .png()
      .toBuffer();
    const px = await preprocessForInference(png, 16);
    expect(px).toBeInstanceOf(Float32Array);
    expect(px.length).toBe(16 * 16 * 3);
    expect(at(px, 16, 8, 8)).toEqual([0, 255, 0]);
    // Lanczos resizes the whole image before the crop, so the edge columns get a trace of their neighbours
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        const [r, g, b] = at(px, 16, x, y);
        expect(g).toBeGreaterThan(200);
        expect(Math.max(r, b)).toBeLessThan(40);
      }
    }
  });

  it('applies the EXIF orientation, as the image is shown', async () => {
    // stored 40 wide × 20 high, left half red; orientation 6 shows it turned clockwise: red on top
    const jpeg = await sharp(rawImage(40, 20, (x) => (x < 20 ? [255, 0, 0] : [0, 0, 255])), { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const px = await preprocessForInference(jpeg, 20);
    const top = at(px, 20, 10, 2);
    const bottom = at(px, 20, 10, 17);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(60);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(60);
  });

  it('flattens transparency onto white and gives grey and 16-bit images as 8-bit RGB', async () => {
    const transparent = await sharp({ create: { width: 12, height: 12, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    expect(at(await preprocessForInference(transparent, 8), 8, 4, 4)).toEqual([255, 255, 255]);

    const grey = await sharp(Buffer.alloc(10 * 10, 100), { raw: { width: 10, height: 10, channels: 1 } }).png().toBuffer();
    expect(at(await preprocessForInference(grey, 8), 8, 3, 3)).toEqual([100, 100, 100]);

    const sixteen = await sharp({ create: { width: 10, height: 10, channels: 3, background: { r: 255, g: 128, b: 0 } } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(sixteen).metadata()).depth).toBe('ushort');
    const px = await preprocessForInference(sixteen, 8);
    expect(Math.max(...px)).toBeLessThanOrEqual(255);
    const [r, g, b] = at(px, 8, 4, 4);
    expect(r).toBe(255);
    expect(Math.abs(g - 128)).toBeLessThanOrEqual(1);
    expect(b).toBe(0);
  });

  it('refuses what it cannot decode with an ApiError naming the file, and a bad resolution', async () => {
    await expect(preprocessForInference('/no/such/file.jpg', 32)).rejects.toThrow(/\/no\/such\/file\.jpg/);
    await expect(preprocessForInference(Buffer.from('not an image'), 32)).rejects.toBeInstanceOf(ApiError);
    await expect(preprocessForInference(Buffer.alloc(4), 0)).rejects.toThrow(/resolution/);
  });
});

describe('random resized crop', () => {
  const config = { scaleMin: 0.08, scaleMax: 1, ratioMin: 3 / 4, ratioMax: 4 / 3 };

  it('draws boxes inside the image with area and ratio in range', () => {
    const random = randomFor(1, 'crop-test');
    for (let i = 0; i < 500; i++) {
      const [w, h] = [50 + Math.floor(random() * 400), 50 + Math.floor(random() * 400)];
      const box = randomResizedCrop(random, w, h, config);
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.top).toBeGreaterThanOrEqual(0);
      expect(box.left + box.width).toBeLessThanOrEqual(w);
      expect(box.top + box.height).toBeLessThanOrEqual(h);
      const area = (box.width * box.height) / (w * h);
      expect(area).toBeGreaterThan(0.06);
      expect(area).toBeLessThanOrEqual(1);
    }
  });

  it('falls back to the largest centred box of an allowed ratio for an extreme image', () => {
    // 1000 × 10: no box of ratio ≤ 4/3 and area ≥ 8 % fits, so: centred, full height, width 13
    const box = randomResizedCrop(() => 0.99, 1000, 10, config);
    expect(box).toEqual({ left: 493, top: 0, width: 13, height: 10 });
  });

  it('cuts that box from the image (as shown) while decoding', async () => {
    const png = await sharp(rawImage(40, 40, (x, y) => (x >= 20 && y >= 20 ? [255, 255, 0] : [0, 0, 0])), { raw: { width: 40, height: 40, channels: 3 } })
      .png()
      .toBuffer();
    const pixels = await decodeCrop(png, { left: 22, top: 22, width: 10, height: 10 }, 8);
    expect([...pixels.subarray(0, 3)]).toEqual([255, 255, 0]);
  });

  it('is the same for the same seed and different for another', () => {
    const settings = resolveAugmentation();
    const a = drawAugmentation(randomFor(5, 'augment', 0, 3), 300, 200, settings);
    const b = drawAugmentation(randomFor(5, 'augment', 0, 3), 300, 200, settings);
    const c = drawAugmentation(randomFor(5, 'augment', 0, 4), 300, 200, settings);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });
});

describe('flip, rotation and colour jitter', () => {
  const size = 8;
  // a distinct colour per pixel
  const src = Uint8Array.from(rawImage(size, size, (x, y) => [x * 30, y * 30, 7]));

  function run(aug: Partial<SampleAugmentation>): Float32Array {
    const out = new Float32Array(size * size * 3 + 6).fill(-1);
    augmentPixels(src, size, { ...NONE, ...aug }, out, 3);
    expect(out[0]).toBe(-1); // nothing written before the offset
    expect(out[out.length - 1]).toBe(-1); // nor after the image
    return out.subarray(3, 3 + size * size * 3);
  }

  it('copies when there is nothing to do, and mirrors left-right on flip', () => {
    const plain = run({});
    expect([...plain]).toEqual([...src]);
    const flipped = run({ flip: true });
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) expect(at(flipped, size, x, y)).toEqual(at(plain, size, size - 1 - x, y));
  });

  it('turns the image a quarter counter-clockwise for +90°, exactly', () => {
    const turned = run({ angle: Math.PI / 2 });
    const plain = run({});
    // what was at the top-right is now at the top-left; (x, y) shows the source (size-1-y, x)
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) expect(at(turned, size, x, y)).toEqual(at(plain, size, size - 1 - y, x));
  });

  it('mirrors the borders instead of filling them with a colour on small rotations', () => {
    const turned = run({ angle: (10 * Math.PI) / 180 });
    for (let i = 0; i < turned.length; i++) {
      expect(turned[i]).toBeGreaterThanOrEqual(0);
      expect(turned[i]).toBeLessThanOrEqual(255);
    }
    // the corners read image content (blue is 7 everywhere in the source), not a fill colour
    expect(at(turned, size, 0, 0)[2]).toBe(7);
    expect(at(turned, size, size - 1, size - 1)[2]).toBe(7);
  });

  it('scales brightness, pulls contrast towards the mean grey and saturation towards each pixel grey, clamped', () => {
    const bright = run({ brightness: 1.5 });
    expect(at(bright, size, 2, 1)).toEqual([90, 45, 11]); // 60·1.5, 30·1.5, 7·1.5 = 10.5 → 11
    expect(at(bright, size, 7, 7)[0]).toBe(255); // 210·1.5 clamped

    const flat = run({ contrast: 0 });
    const mean = at(flat, size, 0, 0);
    expect(mean[0]).toBe(mean[1]);
    expect(at(flat, size, 5, 2)).toEqual(mean);

    const grey = run({ saturation: 0 });
    for (const [x, y] of [[1, 2], [6, 3]]) {
      const [r, g, b] = at(grey, size, x, y);
      expect(r).toBe(g);
      expect(g).toBe(b);
      expect(r).toBe(Math.round(0.299 * x * 30 + 0.587 * y * 30 + 0.114 * 7));
    }
  });

  it('fills in defaults and names a bad setting', () => {
    expect(resolveAugmentation({ scaleMin: 0.25 })).toMatchObject({ randomCrop: true, scaleMin: 0.25, scaleMax: 1, flip: true, rotationDegrees: 10 });
    expect(() => resolveAugmentation({ scaleMin: 0.9, scaleMax: 0.5 })).toThrow(/augmentation\.scaleMin: must not be above scaleMax/);
    expect(() => resolveAugmentation({ brightness: 2 })).toThrow(/augmentation\.brightness/);
  });
});

describe('epoch order and class weights', () => {
  const labels = [...Array(90).fill(0), ...Array(9).fill(1), ...Array(3).fill(2)];

  it('visits every image once per epoch, shuffled by seed and epoch', () => {
    const a = epochOrder(labels, { sampling: 'natural', shuffle: true, seed: 1, epoch: 0 });
    expect([...a].sort((x, y) => x - y)).toEqual(labels.map((_, i) => i));
    expect(epochOrder(labels, { sampling: 'natural', shuffle: true, seed: 1, epoch: 0 })).toEqual(a);
    expect(epochOrder(labels, { sampling: 'natural', shuffle: true, seed: 1, epoch: 1 })).not.toEqual(a);
    expect(epochOrder(labels, { sampling: 'natural', shuffle: false, seed: 1, epoch: 0 })).toEqual(labels.map((_, i) => i));
  });

  it('balanced sampling draws each class equally often and uses every image of a small class', () => {
    const order = epochOrder(labels, { sampling: 'balanced', shuffle: true, seed: 3, epoch: 0 });
    expect(order).toHaveLength(labels.length);
    const perClass = [0, 1, 2].map((c) => order.filter((i) => labels[i] === c).length);
    expect(perClass).toEqual([34, 34, 34]);
    expect(new Set(order.filter((i) => labels[i] === 2)).size).toBe(3);
    expect(new Set(order.filter((i) => labels[i] === 1)).size).toBe(9);
  });

  it('weights classes by inverse frequency, 1 for a balanced set', () => {
    expect(classWeights([10, 10])).toEqual([1, 1]);
    const w = classWeights([90, 9, 3]);
    expect(w[0] * 90).toBeCloseTo(w[2] * 3);
    expect(w[2]).toBeCloseTo(102 / (3 * 3));
    expect(classWeights([4, 0, 4])).toEqual([1, 0, 1]);
  });
});
