/**
 * The training pipeline checks each file's bytes against the format its import recorded before
 * anything decodes them: an image replaced since the import (a PNG swapped for an SVG) is skipped
 * with the reason, with and without the decode cache, and training goes on with the rest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataPipeline } from '../../main/train/data/pipeline';
import { DecodedCache } from '../../main/train/data/decoded-cache';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, type TrainProject } from '../fixtures/train-project';

let dir: string;
let project: TrainProject;

beforeAll(async () => {
  dir = makeTempDir('pipeline-format');
  project = await createTrainProject(dir, 4);
}, 60_000);

afterAll(() => {
  project.registry.closeAll();
  removeDir(dir);
});

describe('format recheck in the training pipeline', () => {
  it('skips a file that is no longer the format it was imported as, naming both, and keeps the rest', async () => {
    const swapped = project.files['red-circle'][0];
    fs.writeFileSync(swapped, '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48"><image href="file:///etc/passwd"/></svg>');
    for (const [augment, cache] of [[false, null], [true, null], [false, new DecodedCache(path.join(dir, 'cache'), 128)]] as const) {
      const pipeline = createDataPipeline(project.handle, { split: ['train', 'val'], resolution: 32, batchSize: 4, seed: 1, augment: augment ? { flip: true } : false, decodedCache: cache });
      let images = 0;
      for await (const batch of pipeline.epoch(0)) images += batch.size;
      expect(images).toBe(11);
      expect(pipeline.skipped).toHaveLength(1);
      expect(pipeline.skipped[0].path).toBe(swapped);
      expect(pipeline.skipped[0].reason).toBe('it has changed since the import: it was imported as PNG and the file is now SVG vector graphics; import its folder again');
    }
  });
});
