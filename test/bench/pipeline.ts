/**
 * Data pipeline throughput against its own reference, measured in the same run:
 *   sharp   — decodeCentreCrop() of every file, 8 at a time: the decode + resize work alone;
 *   eval    — the pipeline's evaluation batches (the same sharp work + batching into float32);
 *   crop    — training batches with the random resized crop only (flip, rotation, jitter off);
 *   train   — training batches with the default augmentation (crop, flip, ±10°, colour jitter).
 * At 64 and 224 px, batch 32, on the sample project's shapes (128 px) and, with --photos, on
 * photo-like 1024×768 JPEGs. CPU time per image (all threads) is reported next to images/s: it is
 * steadier when other programs share the machine.
 * Options: --per-class N (default 64), --epochs N (default 2), --photos.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importFolder } from '../../main/dataset/import-folder';
import { generateSampleFolder } from '../../main/dataset/sample';
import { splitProject } from '../../main/dataset/split';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { decodeCentreCrop } from '../../main/dataset/image-pixels';
import { createDataPipeline, type PipelineOptions } from '../../main/train/data/pipeline';
import { generatePhotoLikeJpegs } from '../../test/fixtures/photo-like';
import { emit, log, machine, option, round } from '../../test/bench/lib/report';

const CROP_ONLY = { flip: false, rotationDegrees: 0, brightness: 0, contrast: 0, saturation: 0 };

export async function run(args: string[]): Promise<void> {
  const perClass = option(args, 'per-class', 64);
  const epochs = option(args, 'epochs', 2);
  const photos = args.includes('--photos');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-bench-pipeline-'));
  const registry = new ProjectRegistry(path.join(dir, 'home'));
  try {
    const folder = path.join(dir, 'images');
    const files = photos
      ? await generatePhotoLikeJpegs({ folder, count: perClass * 4, width: 1024, height: 768 })
      : (await generateSampleFolder(folder, perClass)).files;
    const file = path.join(dir, 'bench.effitune');
    registry.create(file);
    const handle = registry.get(file);
    await importFolder(handle, { folder, labelsFromFolders: true, jobId: 'bench' });
    splitProject(handle, { val: 0, test: 0 });
    for (const f of files) fs.readFileSync(f); // from the page cache on both sides
    log(`pipeline: ${files.length} ${photos ? 'photo-like 1024×768 JPEGs' : 'sample shapes (128 px)'}, ${epochs} epochs per case`);

    for (const resolution of [64, 224]) {
      const reference = await measure(async () => {
        for (let e = 0; e < epochs; e++) for (let i = 0; i < files.length; i += 8) await Promise.all(files.slice(i, i + 8).map((f) => decodeCentreCrop(f, resolution)));
        return files.length * epochs;
      });
      const record = (name: string, m: Measured) =>
        emit({ bench: 'pipeline', case: name, data: photos ? 'photos-1024' : 'sample-128', resolution, images: m.images, imagesPerSecond: round(m.perSecond), cpuMsPerImage: round(m.cpuMsPerImage, 2), vsSharp: round(m.perSecond / reference.perSecond, 2), ...machine() });
      record('sharp', reference);
      const cases: [string, PipelineOptions['augment']][] = [['eval', false], ['crop', CROP_ONLY], ['train', {}]];
      for (const [name, augment] of cases) record(name, await measurePipeline(handle, { split: 'train', resolution, batchSize: 32, augment, seed: 1 }, epochs));
    }
  } finally {
    registry.closeAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Measured {
  images: number;
  perSecond: number;
  cpuMsPerImage: number;
}

/** Runs `work` (which returns how many images it handled) and times it, wall clock and CPU. */
async function measure(work: () => Promise<number>): Promise<Measured> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const images = await work();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { images, perSecond: images / seconds, cpuMsPerImage: (used.user + used.system) / 1000 / images };
}

async function measurePipeline(handle: ProjectHandle, options: PipelineOptions, epochs: number): Promise<Measured> {
  const pipeline = createDataPipeline(handle, options);
  for await (const _ of pipeline.epoch(0)); // warm-up: JIT, libvips caches
  return measure(async () => {
    let images = 0;
    for (let e = 1; e <= epochs; e++) for await (const batch of pipeline.epoch(e)) images += batch.size;
    return images;
  });
}
