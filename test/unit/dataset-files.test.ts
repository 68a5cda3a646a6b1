import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { listDirectory } from '../../main/dataset/list-directory';
import { renderFullImage } from '../../main/dataset/media';
import { generateSampleFolder, SAMPLE_CLASSES } from '../../main/dataset/sample';
import { pngWithClaimedSize, solid } from '../fixtures/images';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
beforeEach(() => {
  dir = makeTempDir('files');
});
afterEach(() => removeDir(dir));

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected an ApiError');
}

describe('listDirectory', () => {
  it('lists folders first, then project files, leaving out hidden entries and other files', async () => {
    fs.mkdirSync(path.join(dir, 'zoo'));
    fs.mkdirSync(path.join(dir, 'Apples'));
    fs.mkdirSync(path.join(dir, '.git'));
    fs.writeFileSync(path.join(dir, 'b.effitune'), '');
    fs.writeFileSync(path.join(dir, 'A.EFFITUNE'), '');
    fs.writeFileSync(path.join(dir, 'photo.jpg'), '');
    fs.writeFileSync(path.join(dir, '.secret.effitune'), '');
    fs.symlinkSync(path.join(dir, 'zoo'), path.join(dir, 'link-to-zoo'));
    const listing = await listDirectory(dir);
    expect(listing.path).toBe(dir);
    expect(listing.parent).toBe(path.dirname(dir));
    expect(listing.entries).toEqual([
      { name: 'Apples', path: path.join(dir, 'Apples'), isDirectory: true },
      { name: 'link-to-zoo', path: path.join(dir, 'link-to-zoo'), isDirectory: true },
      { name: 'zoo', path: path.join(dir, 'zoo'), isDirectory: true },
      { name: 'A.EFFITUNE', path: path.join(dir, 'A.EFFITUNE'), isDirectory: false },
      { name: 'b.effitune', path: path.join(dir, 'b.effitune'), isDirectory: false },
    ]);
  });

  it('has no parent at the root, and errors in words for a missing folder or a file', async () => {
    expect((await listDirectory('/')).parent).toBeNull();
    const missing = await rejection(listDirectory(path.join(dir, 'nope')));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toContain(path.join(dir, 'nope'));
    fs.writeFileSync(path.join(dir, 'f'), '');
    expect((await rejection(listDirectory(path.join(dir, 'f')))).code).toBe('invalid_input');
  });
});

describe('generateSampleFolder', () => {
  it('writes a class folder per shape, JPEG and PNG, the same files for the same seed', async () => {
    const a = await generateSampleFolder(path.join(dir, 'a'), 4, 9);
    const b = await generateSampleFolder(path.join(dir, 'b'), 4, 9);
    const c = await generateSampleFolder(path.join(dir, 'c'), 4, 10);
    expect(fs.readdirSync(path.join(dir, 'a')).sort()).toEqual([...SAMPLE_CLASSES].sort());
    expect(a.files).toHaveLength(4 * SAMPLE_CLASSES.length);
    const bytes = (files: string[]) => files.map((f) => fs.readFileSync(f).toString('base64'));
    expect(bytes(a.files)).toEqual(bytes(b.files));
    expect(bytes(c.files)).not.toEqual(bytes(a.files));
    expect(new Set(bytes(a.files)).size).toBe(a.files.length);
    const formats = await Promise.all(a.files.map(async (f) => (await sharp(f).metadata()).format));
    expect(new Set(formats)).toEqual(new Set(['jpeg', 'png']));
  });
});

describe('renderFullImage', () => {
  it('gives browsers rotated, capped 8-bit sRGB for TIFF, CMYK and 16-bit sources; lossless stays lossless', async () => {
    const files = {
      tiff: path.join(dir, 'big.tif'),
      cmyk: path.join(dir, 'cmyk.jpg'),
      deep: path.join(dir, 'deep.png'),
      rotated: path.join(dir, 'rotated.jpg'),
    };
    await solid(3000, 1500, '#00aa55').tiff().toFile(files.tiff);
    await solid(100, 50, '#ff8800').toColourspace('cmyk').jpeg().toFile(files.cmyk);
    await solid(100, 50, '#3366cc').toColourspace('rgb16').png().toFile(files.deep);
    await solid(300, 100, '#884422').jpeg().withMetadata({ orientation: 6 }).toFile(files.rotated);

    const big = await renderFullImage(files.tiff);
    expect(big.contentType).toBe('image/webp');
    expect(await sharp(big.data).metadata()).toMatchObject({ format: 'webp', width: 2048, height: 1024 });
    const cmyk = await sharp((await renderFullImage(files.cmyk)).data).metadata();
    expect(cmyk).toMatchObject({ format: 'jpeg', space: 'srgb', depth: 'uchar', width: 100, height: 50 });
    const deep = await renderFullImage(files.deep);
    expect(await sharp(deep.data).metadata()).toMatchObject({ format: 'webp', space: 'srgb', depth: 'uchar', width: 100, height: 50 });
    // Lossless: every pixel of the 16-bit source survives as its 8-bit value (#3366cc).
    const { data: pixels } = await sharp(deep.data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([pixels[0], pixels[1], pixels[2], pixels[pixels.length - 1]]).toEqual([0x33, 0x66, 0xcc, 0xcc]);
    expect(await sharp((await renderFullImage(files.rotated)).data).metadata()).toMatchObject({ width: 100, height: 300 });
  });

  it('keeps transparency as WebP', async () => {
    const file = path.join(dir, 'alpha.png');
    await solid(30, 20, { r: 255, g: 0, b: 0, alpha: 0.5 }, 4).png().toFile(file);
    const image = await renderFullImage(file);
    expect(image.contentType).toBe('image/webp');
    expect((await sharp(image.data).metadata()).hasAlpha).toBe(true);
  });

  it('errors in words for a vanished, huge or broken file', async () => {
    const gone = await rejection(renderFullImage(path.join(dir, 'gone.jpg')));
    expect(gone.code).toBe('not_found');
    expect(gone.message).toBe(`image file ${path.join(dir, 'gone.jpg')} no longer exists`);
    fs.writeFileSync(path.join(dir, 'huge.png'), pngWithClaimedSize(30000, 30000));
    expect((await rejection(renderFullImage(path.join(dir, 'huge.png')))).message).toMatch(/30000×30000 pixels, above the limit/);
    fs.writeFileSync(path.join(dir, 'text.jpg'), 'words');
    expect((await rejection(renderFullImage(path.join(dir, 'text.jpg')))).message).toMatch(/^cannot show .*text\.jpg: /);
  });
});
