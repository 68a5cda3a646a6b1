/**
 * A whole training run on WebGPU as a user starts it, beside the data pipeline alone: photo-like
 * 1024×768 JPEGs generated and imported into a project, split, then `effitune train` (the CLI, its
 * trainer process, the pipeline decoding and augmenting every image, the steps — on the Effitune
 * engine by default —, validation and Precise BN after each epoch, a checkpoint). gpu-train measures
 * the step on synthetic batches; this says what a run gets, and whether the GPU or the images set
 * its pace:
 *   pipeline — createDataPipeline's training batches alone (decode, random resized crop, flip,
 *              rotation, colour jitter), in this process, at the run's resolution and batch;
 *   run      — per epoch: training images/s (wall clock of the training part, waits for data
 *              included), the epoch's seconds, and the part that is not training (validation,
 *              Precise BN, the checkpoint); run-progress rows as the CLI prints each epoch, so a
 *              run cut off by a time limit still says how far it got.
 * On a GPU: B0 at 224 px, batch 32, 1,280 images, 3 epochs; on a software adapter φ=−6 at 64 px,
 * batch 8, 64 images, 2 epochs. Options: --variant, --resolution, --batch, --images, --epochs,
 * --engine tfjs|effitune, --precision fp32|mixed. libuv's pool decodes the images: the trainer
 * process sizes it to the machine (workers/process-launcher.ts); give this process the same
 * UV_THREADPOOL_SIZE for a fair pipeline figure (machine() reports it).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probeBackend } from '../../main/backend/probe';
import { importFolder } from '../../main/dataset/import-folder';
import { splitProject } from '../../main/dataset/split';
import { ProjectRegistry } from '../../main/project/registry';
import { createDataPipeline } from '../../main/train/data/pipeline';
import { generatePhotoLikeJpegs } from '../fixtures/photo-like';
import { emit, log, machine, option, repoRoot, round } from './lib/report';

interface RunEpoch {
  epoch: number;
  batch: number;
  imagesPerSecond: number;
  seconds: number;
  valAcc: number | null;
}

export async function run(args: string[]): Promise<void> {
  const text = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
  const probe = await probeBackend('webgpu');
  if (!probe.loads) throw new Error(`no WebGPU adapter here: ${probe.reason}`);
  const software = probe.softwareGpu;
  const variant = text('variant') ?? (software ? 'phi=-6' : 'b0');
  const resolution = option(args, 'resolution', software ? 64 : 224);
  const batch = option(args, 'batch', software ? 8 : 32);
  const count = option(args, 'images', software ? 64 : 1280);
  const epochs = option(args, 'epochs', software ? 2 : 3);
  const engine = text('engine');
  const precision = text('precision');
  const common = { bench: 'gpu-run', adapter: probe.device, software, variant, resolution, batch, ...machine() };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-bench-gpu-run-'));
  const registry = new ProjectRegistry(path.join(dir, 'home'));
  try {
    const folder = path.join(dir, 'images');
    let began = performance.now();
    await generatePhotoLikeJpegs({ folder, count, width: 1024, height: 768, classes: 4, parallel: Math.max(8, os.availableParallelism()) });
    log(`gpu-run: ${count} photo-like 1024×768 JPEGs in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    const file = path.join(dir, 'bench.effitune');
    registry.create(file);
    const handle = registry.get(file);
    began = performance.now();
    await importFolder(handle, { folder, labelsFromFolders: true, jobId: 'bench' });
    splitProject(handle, { val: 0.2, test: 0 });
    log(`gpu-run: imported and split in ${((performance.now() - began) / 1000).toFixed(1)} s`);

    // the pipeline alone: one epoch to warm up (JIT, libvips), then `epochs` timed, as the run reads them
    const pipeline = createDataPipeline(handle, { split: 'train', resolution, batchSize: batch, augment: {}, seed: 1, dropLast: true });
    for await (const _ of pipeline.epoch(0));
    began = performance.now();
    let images = 0;
    for (let e = 1; e <= epochs; e++) for await (const b of pipeline.epoch(e)) images += b.size;
    const pipelineRate = images / ((performance.now() - began) / 1000);
    emit({ ...common, arm: 'pipeline', note: 'training batches alone (decode + augmentation), no steps', images, imagesPerSecond: round(pipelineRate, 1) });
    registry.closeAll();

    const trainArgs = ['train', file, '--model', variant, '--resolution', String(resolution), '--mode', 'full', '--epochs', String(epochs), '--batch', String(batch), '--backend', 'webgpu', '--patience', '0'];
    if (engine) trainArgs.push('--engine', engine);
    if (precision) trainArgs.push('--precision', precision);
    began = performance.now();
    // each epoch's line as the CLI prints it (stderr), so a run stopped by a time limit still reports its epochs
    const progress = /epoch (\d+)\/\d+: .*· ([\d.]+) img\/s · ([\d.]+) s/;
    const out = await cli(trainArgs, path.join(dir, 'home'), (line) => {
      const m = progress.exec(line);
      if (m) emit({ ...common, arm: 'run-progress', epoch: Number(m[1]) - 1, trainImagesPerSecond: Number(m[2]), epochSeconds: Number(m[3]) });
    });
    const wall = (performance.now() - began) / 1000;
    if (out.code !== 0) throw new Error(`effitune train exited ${out.code}: ${out.stderr.trim().split('\n').slice(-5).join(' | ')}`);
    // the project's only run, as `effitune runs` reports it
    const shown = await cli(['runs', file, '1', '--json'], path.join(dir, 'home'), () => undefined);
    if (shown.code !== 0) throw new Error(`effitune runs exited ${shown.code}: ${shown.stderr.trim()}`);
    const report = JSON.parse(shown.stdout) as { run: { status: string; config: { engine?: string; precision?: string } }; epochs: RunEpoch[]; notes: { message: string }[] };
    const result = { status: report.run.status, config: report.run.config, epochs: report.epochs, notes: report.notes, batch: report.epochs.at(-1)?.batch ?? null };
    const steps = result.notes.find((n) => /training steps on /.test(n.message))?.message ?? null;
    const trainImages = images / epochs;
    for (const e of result.epochs) {
      const trainSeconds = trainImages / e.imagesPerSecond;
      emit({ ...common, arm: 'run-epoch', epoch: e.epoch, trainImagesPerSecond: round(e.imagesPerSecond, 1), epochSeconds: round(e.seconds, 2), notTrainingSeconds: round(e.seconds - trainSeconds, 2), valAcc: e.valAcc });
    }
    // the first epoch compiles the plan and warms the pipeline: the steady rate is the best of the others
    const steady = Math.max(...result.epochs.slice(result.epochs.length > 1 ? 1 : 0).map((e) => e.imagesPerSecond));
    emit({
      ...common,
      summary: true,
      status: result.status,
      engine: result.config.engine ?? 'auto',
      precision: result.config.precision ?? 'fp32',
      steps,
      runBatch: result.batch,
      trainImagesPerEpoch: trainImages,
      runImagesPerSecond: round(steady, 1),
      pipelineImagesPerSecond: round(pipelineRate, 1),
      runOverPipeline: round(steady / pipelineRate, 2),
      // a run within 15 % of the pipeline alone waits for its images
      paceSetBy: steady > 0.85 * pipelineRate ? 'the data pipeline (decoding and augmenting the images)' : 'the training steps',
      cliSeconds: round(wall, 1),
    });
  } finally {
    registry.closeAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function cli(args: string[], home: string, onStderrLine: (line: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'effitune.mjs'), ...args], { env: { ...process.env, EFFITUNE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    let partial = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      const lines = (partial + t).split('\n');
      partial = lines.pop()!;
      for (const line of lines) onStderrLine(line);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
