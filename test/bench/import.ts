/**
 * Import throughput against its own reference, measured in the same run:
 *   bare   — sharp decode + the 256 px WebP thumbnail pipeline of every file, nothing else;
 *   import — importFolder() of the same files into a fresh project (read, hash, inspect, thumbnail,
 *            duplicate checks, batched SQLite writes).
 * Both at the same concurrency. Goal: import ≥ 70 % of bare (bookkeeping costs < 30 %).
 * The 2,000 JPEGs of 1024×768 are generated once into .cache/bench-import and reused.
 * Options: --count N (default 2000), --rounds N (default 2), --concurrency N.
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
  const rounds = option(args, 'rounds', 2);
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
      });
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  emit({
    bench: 'import',
    summary: true,
    files: files.length,
    concurrency,
    medianRatio: round(sorted[Math.floor(sorted.length / 2)], 3),
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

/** The reference: decode + thumbnail each file with the very pipeline the import uses. */
async function bareThumbnails(files: string[], concurrency: number): Promise<{ perSecond: number }> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < files.length) await thumbnailPipeline(files[next++]).toBuffer();
    }),
  );
  return { perSecond: files.length / ((performance.now() - started) / 1000) };
}

async function fullImport(folder: string, dataDir: string, round_: number, concurrency: number): Promise<{ perSecond: number; count: number }> {
  const registry = new ProjectRegistry(dataDir);
  const projectFile = path.join(dataDir, `round-${round_}.effitune`);
  registry.create(projectFile);
  try {
    const started = performance.now();
    const result = await importFolder(registry.get(projectFile), { folder, labelsFromFolders: true, jobId: `bench-${round_}`, concurrency });
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: result.imported / seconds, count: result.imported };
  } finally {
    registry.closeAll();
  }
}
