import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { hasImageExtension, inspectImage, sniffFormat } from '../../main/dataset/inspect-image';
import { animatedGif, noisyJpeg, pngWithClaimedSize, solid } from '../fixtures/images';

async function thumbnailOf(data: Buffer, name = 'x.png') {
  const result = await inspectImage(data, name);
  if (!result.ok) throw new Error(`expected an image, got: ${result.reason}`);
  return { result, meta: await sharp(result.thumbnail).metadata(), pixels: await sharp(result.thumbnail).raw().toBuffer() };
}

describe('inspectImage', () => {
  it('makes a 256 px WebP thumbnail in 8-bit sRGB RGB, never enlarged', async () => {
    const big = await thumbnailOf(await solid(1000, 500, '#336699').jpeg().toBuffer(), 'a.jpg');
    expect(big.result).toMatchObject({ format: 'jpeg', width: 1000, height: 500 });
    expect(big.meta).toMatchObject({ format: 'webp', width: 256, height: 128, channels: 3, space: 'srgb' });
    const small = await thumbnailOf(await solid(40, 30, '#336699').png().toBuffer());
    expect(small.meta).toMatchObject({ width: 40, height: 30 });
  });

  it('applies EXIF orientation to the size and the thumbnail', async () => {
    const { result, meta } = await thumbnailOf(await solid(300, 100, '#884422').jpeg().withMetadata({ orientation: 6 }).toBuffer(), 'r.jpg');
    expect([result.width, result.height]).toEqual([100, 300]);
    expect(meta.height).toBe(256);
    expect(meta.width).toBeLessThan(100);
  });

  it('normalises 16-bit, CMYK, grayscale and transparent images', async () => {
    for (const data of [
      await solid(20, 20, '#3366cc').toColourspace('rgb16').png().toBuffer(),
      await solid(20, 20, '#ff8800').toColourspace('cmyk').jpeg().toBuffer(),
      await solid(20, 20, '#808080').toColourspace('b-w').png().toBuffer(),
    ]) {
      const { meta } = await thumbnailOf(data);
      expect(meta).toMatchObject({ channels: 3, space: 'srgb', depth: 'uchar' });
    }
    // fully transparent blue becomes white: alpha is flattened onto white, not black
    const { meta, pixels } = await thumbnailOf(await solid(20, 20, { r: 0, g: 0, b: 255, alpha: 0 }, 4).png().toBuffer());
    expect(meta.channels).toBe(3);
    expect([...pixels.subarray(0, 3)].every((v) => v > 245)).toBe(true);
  });

  it('takes the first frame of an animated GIF', async () => {
    const { result, pixels } = await thumbnailOf(await animatedGif(40, 30, ['#ff0000', '#00ff00', '#0000ff']), 'a.gif');
    expect(result).toMatchObject({ format: 'gif', width: 40, height: 30 });
    expect(pixels[0]).toBeGreaterThan(200);
    expect(pixels[1]).toBeLessThan(60);
  });

  it('refuses a huge image from its header alone, without decoding it', async () => {
    const before = process.memoryUsage().rss;
    const result = await inspectImage(pngWithClaimedSize(30000, 30000), 'huge.png');
    expect(result).toEqual({ ok: false, reason: 'image is 30000×30000 = 900 MP, above the 100 MP limit' });
    // decoding would need 2.7 GB
    expect(process.memoryUsage().rss - before).toBeLessThan(300 * 1024 * 1024);
  });

  it('says in words what is wrong with a broken file', async () => {
    const jpeg = await noisyJpeg(120, 90);
    const cases: [Buffer, string, RegExp][] = [
      [Buffer.alloc(0), 'a.jpg', /^empty file \(0 bytes\)$/],
      [Buffer.from('hello'), 'a.jpg', /^not an image: the content is not JPEG, PNG, WebP, GIF, TIFF or AVIF \(file named \.jpg\)$/],
      [Buffer.from('hello'), 'noext', /\(file without extension\)$/],
      [jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'cut.jpg', /^truncated or corrupt JPEG: /],
      [jpeg.subarray(0, 40), 'head.jpg', /^truncated or corrupt JPEG: /],
      [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'v.png', /^unsupported image: the content is SVG/],
      [Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(12)]), 'p.avif', /^unsupported image: the content is HEIC/],
    ];
    for (const [data, name, reason] of cases) {
      const result = await inspectImage(data, name);
      expect(result.ok, name).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(reason);
    }
  });
});

describe('sniffFormat and hasImageExtension', () => {
  it('recognises each supported format by its bytes, whatever the name', async () => {
    expect(sniffFormat(await solid(4, 4, '#000').jpeg().toBuffer())).toBe('jpeg');
    expect(sniffFormat(await solid(4, 4, '#000').png().toBuffer())).toBe('png');
    expect(sniffFormat(await solid(4, 4, '#000').webp().toBuffer())).toBe('webp');
    expect(sniffFormat(await solid(4, 4, '#000').gif().toBuffer())).toBe('gif');
    expect(sniffFormat(await solid(4, 4, '#000').tiff().toBuffer())).toBe('tiff');
    expect(sniffFormat(await solid(4, 4, '#000').avif().toBuffer())).toBe('avif');
    expect(sniffFormat(Buffer.from('GIF'))).toBeUndefined();
  });

  it('picks image extensions case-insensitively', () => {
    for (const name of ['a.jpg', 'b.JPEG', 'c.Png', 'd.webp', 'e.gif', 'f.TIF', 'g.tiff', 'h.avif']) expect(hasImageExtension(name), name).toBe(true);
    for (const name of ['a.txt', 'b.heic', 'c', 'd.jpg.bak', 'e.svg']) expect(hasImageExtension(name), name).toBe(false);
  });
});
