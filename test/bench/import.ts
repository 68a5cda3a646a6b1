/**
 * Import throughput against its own reference, measured in the same run:
 *   bare   — sharp decode + the 256 px WebP thumbnail pipeline of every file, nothing else;
 *   import — importFolder() of the same files into a fresh project (read, hash, inspect, thumbnail,
 *            duplicate checks, batched SQLite writes).
 * Both at the same concurrency. Goal: import ≥ 70 % of bare (bookkeeping costs < 30 %).
 * Each side also reports the CPU time it spent per image (all threads), which is steadier than
 * images/s when other programs share the machine.
 * The 2,000 JPEGs of 1024×768 are generated once into .cache/bench-import and reused.
 * Options: --count N (default 2000), --rounds N (default 3), --concurrency N.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { defaultImportConcurrency, importFolder } from '../../main/dataset/import-folder';
import { thumbnailPipeline } from '../../main/dataset/inspect-image';
import { ProjectRegistry } from '../../main/project/registry';
import { generatePhotoLikeJpegs } from '../fixtures/photo-like';
import { cacheDir, emit, log, machine, option, round } from './lib/report';

const WIDTH = 1024;
const HEIGHT = 768;

export async function run(args: string[]): Promise<void> {
  const count = option(args, 'count', 2000);
  const rounds = option(args, 'rounds', 3);
  const concurrency = option(args, 'concurrency', defaultImportConcurrency());
  const folder = await benchImages(count);
  const files = listFiles(folder);

  // Both sides should read from the page cache, not from disk.
  for (const file of files) fs.readFileSync(file);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-bench-import-'));
  const ratios: number[] = [];
  try {
    for (let round_ = 1; round_ <= rounds; round_++) {
      const bare = await bareThumbnails(files, concurrency);
      const imported = await fullImport(folder, dataDir, round_, concurrency);
      if (imported.count !== files.length) throw new Error(`import took ${imported.count} of ${files.length} files; the benchmark needs all of them`);
      const ratio = imported.perSecond / bare.perSecond;
      ratios.push(ratio);
      emit({
        bench: 'import',
        round: round_,
        files: files.length,
        concurrency,
        bareImagesPerSecond: round(bare.perSecond),
        importImagesPerSecond: round(imported.perSecond),
        ratio: round(ratio, 3),
        bareCpuMsPerImage: round(bare.cpuMs, 2),
        importCpuMsPerImage: round(imported.cpuMs, 2),
      });
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  emit({
    bench: 'import',
    summary: true,
    files: files.length,
    concurrency,
    medianRatio: round(median(ratios), 3),
    goalRatio: 0.7,
    sharpConcurrency: sharp.concurrency(),
    ...machine(),
  });
}

async function benchImages(count: number): Promise<string> {
  const folder = cacheDir(`bench-import/jpeg-${WIDTH}x${HEIGHT}-${count}`);
  const marker = path.join(folder, 'complete.json');
  if (fs.existsSync(marker)) return folder;
  log(`generating ${count} JPEGs of ${WIDTH}×${HEIGHT} into ${folder} (once; reused by later runs)`);
  fs.rmSync(folder, { recursive: true, force: true });
  const started = performance.now();
  await generatePhotoLikeJpegs({ folder, count, width: WIDTH, height: HEIGHT });
  fs.writeFileSync(marker, JSON.stringify({ count, width: WIDTH, height: HEIGHT, seconds: (performance.now() - started) / 1000 }));
  return folder;
}

function listFiles(folder: string): string[] {
  return fs
    .readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.jpg'))
    .map((f) => path.join(folder, f))
    .sort();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Measured {
  perSecond: number;
  /** CPU time of the whole process (every thread) per image, in ms */
  cpuMs: number;
  /** images done */
  count: number;
}

async function measure(work: () => Promise<number>): Promise<Measured> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const done = await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { perSecond: done / seconds, cpuMs: (used.user + used.system) / 1000 / done, count: done };
}

/** The reference: decode + thumbnail each file with the very pipeline the import uses. */
function bareThumbnails(files: string[], concurrency: number): Promise<Measured> {
  return measure(async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < files.length) await thumbnailPipeline(files[next++]).toBuffer();
      }),
    );
    return files.length;
  });
}

async function fullImport(folder: string, dataDir: string, round_: number, concurrency: number): Promise<Measured> {
  const registry = new ProjectRegistry(dataDir);
  const projectFile = path.join(dataDir, `round-${round_}.effitune`);
  registry.create(projectFile);
  try {
    return await measure(async () => {
      const result = await importFolder(registry.get(projectFile), { folder, labelsFromFolders: true, jobId: `bench-${round_}`, concurrency });
      return result.imported;
    });
  } finally {
    registry.closeAll();
  }
}
