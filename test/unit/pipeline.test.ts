/**
 * The data pipeline over a real project of small generated images: what evaluation and training
 * batches contain, repeatability for a seed, bounded prefetch, and files that vanish or break after
 * the import being skipped and reported instead of stopping training.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importFolder } from '../../main/dataset/import-folder';
import { splitProject } from '../../main/dataset/split';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { preprocessForInference } from '../../main/dataset/image-pixels';
import { createDataPipeline, type Batch, type DataPipeline } from '../../main/train/data/pipeline';
import { makeTempDir, removeDir } from '../fixtures/temp';

const COLOURS: Record<string, [number, number, number]> = { red: [220, 30, 30], green: [30, 200, 40], blue: [20, 40, 210] };

let dir: string;
let registry: ProjectRegistry;

beforeEach(() => {
  dir = makeTempDir('pipeline');
  registry = new ProjectRegistry(path.join(dir, 'home'));
});
afterEach(() => {
  registry.closeAll();
  removeDir(dir);
});

/** A project with `counts[class]` images of each class (distinct shades and sizes), imported and split. */
async function project(counts: Record<string, number>, split = { val: 0.2, test: 0.2, seed: 1 }): Promise<ProjectHandle> {
  const folder = path.join(dir, 'images');
  for (const [name, count] of Object.entries(counts)) {
    fs.mkdirSync(path.join(folder, name), { recursive: true });
    const [r, g, b] = COLOURS[name] ?? [128, 128, 128];
    for (let i = 0; i < count; i++) {
      // a bright square in one corner makes flips and crops visible; the shade makes each file distinct
      const base = sharp({ create: { width: 24 + i, height: 18 + (i % 3), channels: 3, background: { r, g: g + i, b } } });
      const corner = await sharp({ create: { width: 6, height: 6, channels: 3, background: '#ffffff' } }).png().toBuffer();
      await base.composite([{ input: corner, left: 0, top: 0 }]).png().toFile(path.join(folder, name, `${name}-${i}.png`));
    }
  }
  const file = path.join(dir, 'p.effitune');
  registry.create(file);
  const handle = registry.get(file);
  await importFolder(handle, { folder, labelsFromFolders: true, jobId: 'test' });
  splitProject(handle, split);
  return handle;
}

async function collect(pipeline: DataPipeline, epoch = 0): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of pipeline.epoch(epoch)) batches.push(batch);
  return batches;
}

function rowsOf(handle: ProjectHandle, split: string): { id: number; path: string; class_name: string }[] {
  return handle.db
    .prepare(`SELECT i.id, i.path, c.name AS class_name FROM images i JOIN classes c ON c.id = i.class_id WHERE i.split = ? AND i.status = 'ok'`)
    .all(split) as { id: number; path: string; class_name: string }[];
}

describe('evaluation batches', () => {
  it('hold every image of the split once, labelled in class-name order, with the inference pixels', async () => {
    const handle = await project({ red: 6, green: 5, blue: 4 });
    const pipeline = createDataPipeline(handle, { split: 'train', resolution: 16, batchSize: 4 });
    const rows = rowsOf(handle, 'train');
    expect(pipeline.classes).toEqual(['blue', 'green', 'red']);
    expect(pipeline.epochSize).toBe(rows.length);
    expect(pipeline.batchesPerEpoch).toBe(Math.ceil(rows.length / 4));
    expect(pipeline.classCounts).toEqual(['blue', 'green', 'red'].map((c) => rows.filter((r) => r.class_name === c).length));

    const batches = await collect(pipeline);
    expect(batches.map((b) => b.index)).toEqual(batches.map((_, i) => i));
    expect(batches.slice(0, -1).every((b) => b.size === 4)).toBe(true);
    const ids = batches.flatMap((b) => b.ids);
    expect([...ids].sort((a, b) => a - b)).toEqual(rows.map((r) => r.id).sort((a, b) => a - b));

    const perImage = 16 * 16 * 3;
    for (const batch of batches) {
      expect(batch.x.length).toBe(batch.size * perImage);
      expect(batch.y).toBeInstanceOf(Int32Array);
      expect(batch.hashes.every((h) => /^[0-9a-f]{16,}$/.test(h))).toBe(true);
      for (let i = 0; i < batch.size; i++) {
        const row = rows.find((r) => r.id === batch.ids[i])!;
        expect(pipeline.classes[batch.y[i]]).toBe(row.class_name);
        const expected = await preprocessForInference(row.path, 16);
        expect(batch.x.subarray(i * perImage, (i + 1) * perImage)).toEqual(expected);
      }
    }
    // no randomness in evaluation: another epoch is the same
    const again = await collect(pipeline, 5);
    expect(again.map((b) => b.ids)).toEqual(batches.map((b) => b.ids));
    expect(pipeline.skipped).toEqual([]);
  });

  it('reads several splits, follows a given class order, and can drop a last partial batch', async () => {
    const handle = await project({ red: 5, green: 5, blue: 5 });
    const pipeline = createDataPipeline(handle, { split: ['val', 'test'], resolution: 8, batchSize: 4, classes: ['red', 'green'], dropLast: true });
    const blue = [...rowsOf(handle, 'val'), ...rowsOf(handle, 'test')].filter((r) => r.class_name === 'blue');
    expect(pipeline.skipped.map((s) => s.id).sort()).toEqual(blue.map((r) => r.id).sort());
    expect(pipeline.skipped[0].reason).toMatch(/class "blue" is not one of the model's classes/);
    expect(pipeline.epochSize).toBe(4); // red and green: 1 val + 1 test each
    const batches = await collect(pipeline);
    expect(batches).toHaveLength(1);
    expect([...batches[0].y].sort()).toEqual([0, 0, 1, 1]);
  });
});

describe('training batches', () => {
  it('are the same for the same seed, and change with the epoch and the seed', async () => {
    const handle = await project({ red: 6, green: 6, blue: 6 });
    const options = { split: 'train' as const, resolution: 12, batchSize: 5, augment: { rotationDegrees: 15 }, seed: 7 };
    const a = await collect(createDataPipeline(handle, options));
    const b = await collect(createDataPipeline(handle, options));
    expect(b.map((x) => x.ids)).toEqual(a.map((x) => x.ids));
    expect(b.map((x) => [...x.x])).toEqual(a.map((x) => [...x.x]));

    const nextEpoch = await collect(createDataPipeline(handle, options), 1);
    expect(nextEpoch.flatMap((x) => x.ids)).not.toEqual(a.flatMap((x) => x.ids));
    const otherSeed = await collect(createDataPipeline(handle, { ...options, seed: 8 }));
    expect(otherSeed.map((x) => [...x.x])).not.toEqual(a.map((x) => [...x.x]));
    // augmented pixels differ from the evaluation pixels of the same image, but stay in 0..255
    const evaluation = await collect(createDataPipeline(handle, { split: 'train', resolution: 12, batchSize: 5 }));
    expect(a.map((x) => [...x.x])).not.toEqual(evaluation.map((x) => [...x.x]));
    for (const batch of a) for (const v of batch.x) expect(v >= 0 && v <= 255).toBe(true);
  });

  it('balanced sampling draws the small class as often as the large one', async () => {
    const handle = await project({ red: 20, blue: 4 }, { val: 0, test: 0, seed: 1 });
    const pipeline = createDataPipeline(handle, { split: 'train', resolution: 8, batchSize: 8, augment: { randomCrop: false }, sampling: 'balanced' });
    expect(pipeline.classCounts).toEqual([4, 20]);
    expect(pipeline.classWeights[0]).toBeCloseTo(24 / 8);
    const labels = (await collect(pipeline)).flatMap((b) => [...b.y]);
    expect(labels).toHaveLength(24);
    expect(labels.filter((y) => y === 0)).toHaveLength(12);
  });

  it('prepares only `prefetch` batches ahead of the one in use', async () => {
    const handle = await project({ red: 5, green: 5 }, { val: 0, test: 0, seed: 1 });
    const pipeline = createDataPipeline(handle, { split: 'train', resolution: 8, batchSize: 1, prefetch: 2 });
    const iterator = pipeline.epoch(0);
    const first = await iterator.next();
    expect(first.done).toBe(false);
    // give the two prefetched batches time to finish, then take every file away
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const row of rowsOf(handle, 'train')) fs.rmSync(row.path);
    const rest: Batch[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(rest).toHaveLength(2);
    expect(pipeline.skipped).toHaveLength(7);
    expect(pipeline.epochSize).toBe(3);
  });
});

describe('files gone or broken after the import', () => {
  it('are skipped and reported, never fatal, and left out of later epochs', async () => {
    const handle = await project({ red: 6, green: 6 }, { val: 0, test: 0, seed: 1 });
    const rows = rowsOf(handle, 'train');
    fs.rmSync(rows[0].path);
    const pipeline = createDataPipeline(handle, { split: 'train', resolution: 8, batchSize: 4, augment: {} });
    expect(pipeline.skipped).toEqual([{ id: rows[0].id, path: rows[0].path, reason: 'the file no longer exists' }]);
    expect(pipeline.epochSize).toBe(11);

    // during training: one file deleted, one overwritten with garbage
    fs.rmSync(rows[1].path);
    fs.writeFileSync(rows[2].path, 'this is no longer a PNG');
    const batches = await collect(pipeline);
    expect(batches.reduce((n, b) => n + b.size, 0)).toBe(9);
    for (const b of batches) expect(b.x.length).toBe(b.size * 8 * 8 * 3);
    const reasons = new Map(pipeline.skipped.map((s) => [s.id, s.reason]));
    expect(reasons.get(rows[1].id)).toBe('the file no longer exists');
    // garbage is no longer the PNG it was imported as: said so, never handed to a decoder
    expect(reasons.get(rows[2].id)).toBe('it has changed since the import: it was imported as PNG and the file is now not an image format we know; import its folder again');
    expect(pipeline.epochSize).toBe(9);
    expect((await collect(pipeline, 1)).reduce((n, b) => n + b.size, 0)).toBe(9);
    expect(pipeline.skipped).toHaveLength(3);
  });

  it('re-reads the size of a file replaced by a smaller image since the import', async () => {
    const handle = await project({ red: 3, green: 3 }, { val: 0, test: 0, seed: 1 });
    const rows = rowsOf(handle, 'train');
    for (const row of rows) await sharp({ create: { width: 5, height: 4, channels: 3, background: '#808080' } }).png().toFile(row.path);
    const pipeline = createDataPipeline(handle, { split: 'train', resolution: 8, batchSize: 6, augment: { scaleMin: 0.9 } });
    const batches = await collect(pipeline);
    expect(pipeline.skipped).toEqual([]);
    expect(batches[0].size).toBe(6);
  });
});

describe('bad options', () => {
  it('are refused before any work, naming the option', async () => {
    const handle = await project({ red: 2, green: 2 }, { val: 0, test: 0, seed: 1 });
    expect(() => createDataPipeline(handle, { split: 'train', resolution: 0, batchSize: 4 })).toThrow(/resolution/);
    expect(() => createDataPipeline(handle, { split: 'train', resolution: 16, batchSize: 0 })).toThrow(/batch size/);
    expect(() => createDataPipeline(handle, { split: 'train', resolution: 16, batchSize: 2, augment: { ratioMin: 2, ratioMax: 1 } })).toThrow(/augmentation\.ratioMin/);
  });
});
