/**
 * The decode cache the scaling lab's candidates share: an image small enough is cached exactly, so
 * a pipeline reading the cache gives the very batches a pipeline decoding the files gives (with and
 * without augmentation); a large photo is cached at most maxSide pixels on its longer side; a
 * damaged cache file is decoded again rather than trusted.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataPipeline, type Batch } from '../../main/train/data/pipeline';
import { DecodedCache } from '../../main/train/data/decoded-cache';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, type TrainProject } from '../fixtures/train-project';

let dir: string;
let project: TrainProject;

beforeAll(async () => {
  dir = makeTempDir('decoded-cache');
  project = await createTrainProject(dir, 4);
}, 60_000);

afterAll(() => {
  project.registry.closeAll();
  removeDir(dir);
});

async function allBatches(cache: DecodedCache | null, augment: boolean): Promise<Batch[]> {
  const pipeline = createDataPipeline(project.handle, { split: ['train', 'val'], resolution: 32, batchSize: 4, seed: 3, augment: augment ? { flip: true, scaleMin: 0.5 } : false, decodedCache: cache });
  const out: Batch[] = [];
  for await (const batch of pipeline.epoch(1)) out.push(batch);
  return out;
}

describe('decoded cache', () => {
  it('gives the same batches as decoding the files, and decodes each image once', async () => {
    const cache = new DecodedCache(path.join(dir, 'cache'), 256);
    for (const augment of [false, true]) {
      const plain = await allBatches(null, augment);
      const cached = await allBatches(cache, augment);
      expect(cached.map((b) => b.ids)).toEqual(plain.map((b) => b.ids));
      cached.forEach((b, i) => expect(Buffer.from(b.x.buffer).equals(Buffer.from(plain[i].x.buffer))).toBe(true));
    }
    expect(cache.counts.misses).toBe(12);
    expect(cache.counts.hits).toBe(12);
    expect(fs.readdirSync(cache.dir).filter((f) => f.endsWith('.rgb'))).toHaveLength(12);
  });

  it('keeps a large photo at most maxSide on its longer side, and decodes a damaged file again', async () => {
    const photo = path.join(dir, 'photo.jpg');
    await sharp({ create: { width: 900, height: 600, channels: 3, background: '#3366aa' } }).jpeg().toFile(photo);
    const cache = new DecodedCache(path.join(dir, 'cache-small'), 64);
    const image = await cache.get('photo', photo);
    expect([image.width, image.height]).toEqual([64, 43]);
    expect(image.data.length).toBe(64 * 43 * 3);
    fs.writeFileSync(path.join(cache.dir, 'photo.rgb'), Buffer.from([1, 2, 3]));
    const again = await cache.get('photo', photo);
    expect(again.data.equals(image.data)).toBe(true);
    expect(cache.counts.misses).toBe(2);
  });
});
