/**
 * The PyTorch hand-off, measured:
 *   scaling — the same tiny job (φ=-8 at 32 px, full mode) under torchrun with 1 and with 2
 *             processes (gloo, CPU): images/s of the epochs after the first (the first pays for
 *             warm-up), and the wall time of the whole torchrun; 1 process is the reference;
 *   bundle  — export of a bundle of N images (default 10,000 tiny generated PNGs) and its import.
 *             The import is timed without training: the bundle's initial weights stand in for the
 *             final ones and a one-epoch log is written in train.py's format, so what is measured
 *             is the import itself (manifest and hash check, weight conversion, parity with
 *             train.py --predict, the run's records).
 * Options: --images N (default 10000), --epochs N (scaling, default 4), --per-class N (scaling, default 96).
 * Needs a Python with torch (see main/handoff/python-torch.ts); says so and stops without one.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { importFolder } from '../../main/dataset/import-folder';
import { splitProject } from '../../main/dataset/split';
import { ProjectRegistry } from '../../main/project/registry';
import { Service } from '../../main/service/service';
import { findPythonWithTorch } from '../../main/handoff/python-torch';
import { createTrainProject } from '../fixtures/train-project';
import { cacheDir, emit, log, machine, option, round } from './lib/report';

export async function run(args: string[]): Promise<void> {
  const { found, tried } = findPythonWithTorch();
  if (!found) {
    log(`handoff bench skipped: no Python with torch here (${tried.join('; ')})`);
    return;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-bench-handoff-'));
  try {
    await scaling(found.python, work, option(args, 'per-class', 96), option(args, 'epochs', 4));
    await bundleRoundTrip(found.python, work, option(args, 'images', 10_000));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function scaling(python: string, work: string, perClass: number, epochs: number): Promise<void> {
  const dir = path.join(work, 'scaling');
  fs.mkdirSync(dir);
  const made = await createTrainProject(dir, perClass, { classes: 2 });
  made.registry.closeAll();
  const service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
  const bundle = path.join(dir, 'bundle');
  let trainImages: number;
  try {
    const exported = await service.call('handoff.export', { project: made.file, model: 'phi=-8', resolution: 32, mode: 'full', epochs, batch: 16, patience: 0, augment: false, out: bundle });
    trainImages = exported.images.train;
  } finally {
    service.close();
  }
  const results: Record<number, { imagesPerSecond: number; wallSeconds: number }> = {};
  for (const processes of [1, 2]) {
    const started = performance.now();
    await torchrun(python, bundle, processes);
    const wallSeconds = (performance.now() - started) / 1000;
    const lines = fs.readFileSync(path.join(bundle, 'out', 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const steady = lines.filter((l) => l.event === 'epoch' && l.epoch > 0);
    const imagesPerSecond = steady.reduce((s, l) => s + l.imagesPerSecond, 0) / steady.length;
    results[processes] = { imagesPerSecond, wallSeconds };
    emit({
      bench: 'handoff',
      case: 'torchrun',
      processes,
      model: 'phi=-8',
      resolution: 32,
      trainImages,
      batchPerProcess: 16,
      epochs,
      imagesPerSecond: round(imagesPerSecond),
      wallSeconds: round(wallSeconds),
      vsOneProcess: round(imagesPerSecond / results[1].imagesPerSecond, 2),
      device: lines.at(-1)?.device,
      torch: lines.at(-1)?.torch,
      machine: machine(),
    });
  }
}

async function bundleRoundTrip(python: string, work: string, count: number): Promise<void> {
  const images = await tinyImages(count);
  const dir = path.join(work, 'bundle-size');
  fs.mkdirSync(dir);
  const home = path.join(dir, 'home');
  const registry = new ProjectRegistry(home);
  const file = path.join(dir, 'big.effitune');
  registry.create(file);
  log(`importing ${count} images into a project (setup, not measured)...`);
  await importFolder(registry.get(file), { folder: images, labelsFromFolders: true, jobId: 'bench' });
  splitProject(registry.get(file), { val: 0.2, test: 0.1, seed: 1 });
  registry.closeAll();

  const service = new Service({ mode: 'cli', dataDir: home });
  try {
    const bundle = path.join(dir, 'bundle');
    let started = performance.now();
    const exported = await service.call('handoff.export', { project: file, model: 'phi=-8', resolution: 32, mode: 'full', epochs: 1, out: bundle });
    const exportSeconds = (performance.now() - started) / 1000;
    standInForTraining(bundle);
    started = performance.now();
    const imported = await service.call('handoff.import', { project: file, dir: bundle, python });
    const importSeconds = (performance.now() - started) / 1000;
    emit({
      bench: 'handoff',
      case: 'bundle',
      images: exported.images,
      bundleBytes: exported.bytes,
      exportSeconds: round(exportSeconds, 2),
      importSeconds: round(importSeconds, 2),
      parityMaxAbsDiff: imported.parity?.maxAbsDiff,
      machine: machine(),
    });
  } finally {
    service.close();
  }
}

/** The initial weights as the "final" ones and a one-epoch log in train.py's format. */
function standInForTraining(bundle: string): void {
  const out = path.join(bundle, 'out');
  fs.mkdirSync(out, { recursive: true });
  fs.copyFileSync(path.join(bundle, 'weights', 'initial.safetensors'), path.join(out, 'final.safetensors'));
  const where = { hosts: [os.hostname()], worldSize: 1, nodes: 1, device: 'cpu (bench stand-in, not trained)', deviceType: 'cpu', torch: 'n/a', cuda: null, python: null, impl: 'builtin', amp: false, backend: null };
  const at = new Date().toISOString();
  const lines = [
    { event: 'start', fromEpoch: 0, epochs: 1, batchPerProcess: 32, at, ...where },
    { event: 'epoch', epoch: 0, epochs: 1, trainLoss: 0.69, trainAcc: 0.5, valLoss: 0.69, valAcc: 0.5, lr: 0.001, batch: 32, seconds: 1, imagesPerSecond: 1, worldSize: 1, device: where.device, torch: 'n/a', at },
    { event: 'done', reason: 'bench stand-in: not trained', bestEpoch: 0, final: 'final.safetensors', at, ...where },
  ];
  fs.writeFileSync(path.join(out, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

/** N distinct 16×16 PNGs in two class folders, generated once into .cache/bench-handoff-N. */
async function tinyImages(count: number): Promise<string> {
  const folder = cacheDir(`bench-handoff-${count}`);
  const done = path.join(folder, '.complete');
  if (fs.existsSync(done)) return folder;
  fs.rmSync(folder, { recursive: true, force: true });
  log(`generating ${count} tiny images into ${folder}...`);
  for (const name of ['a', 'b']) fs.mkdirSync(path.join(folder, name), { recursive: true });
  const pixels = Buffer.alloc(16 * 16 * 3);
  for (let i = 0; i < count; i++) {
    // every image distinct (duplicates would be folded by the import): the index in the first pixels
    for (let p = 0; p < pixels.length; p++) pixels[p] = (p * 7 + (i % 2) * 128) & 0xff;
    pixels.writeUInt32LE(i, 0);
    await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } }).png({ compressionLevel: 1 }).toFile(path.join(folder, i % 2 ? 'b' : 'a', `${i}.png`));
  }
  fs.writeFileSync(done, '');
  return folder;
}

function torchrun(python: string, bundle: string, processes: number): Promise<void> {
  // --redirects 1 --tee 1: torch 1.13's torchrun cannot parse its default "0" under Python 3.11
  const args = ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', String(processes), '--redirects', '1', '--tee', '1', 'train.py', '--device', 'cpu', '--restart'];
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { cwd: bundle, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`torchrun with ${processes} processes failed (exit ${code}): ${err.slice(-2000)}`))));
  });
}
