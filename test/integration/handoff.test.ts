/**
 * The PyTorch hand-off end to end, through the CLI: a bundle of a tiny φ model trains with torchrun
 * (2 processes, gloo, CPU), comes back as a run with the same probabilities as PyTorch, evaluates
 * and exports; a bundle of another project is refused; a torchrun killed mid-run resumes from its
 * checkpoint. And the network train.py builds from the block table computes what our builder
 * computes, on random weights and BatchNorm statistics (so padding, BatchNorm epsilon, SE and
 * preprocessing all show). Skipped, saying why, where no Python has torch.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../main/backend/ensure-backend';
import { buildEfficientNet } from '../../main/model/builder';
import { getVariant } from '../../main/model/variants';
import { readSafetensors } from '../../main/model/weights/safetensors';
import { importFolder } from '../../main/dataset/import-folder';
import { splitProject } from '../../main/dataset/split';
import { ProjectRegistry } from '../../main/project/registry';
import { BUNDLE_JSON, readManifest } from '../../main/handoff/bundle-manifest';
import { findPythonWithTorch, predictWithTorch } from '../../main/handoff/python-torch';
import { writeSafetensors } from '../../main/handoff/safetensors-writer';
import { modelToTimm } from '../../main/handoff/timm-weights';
import { onlyJson, runInProcess } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, writeTrainImages } from '../fixtures/train-project';

const { found: torch, tried } = findPythonWithTorch();
const MODEL = ['--model', 'custom', '--phi', '-8', '--resolution', '32', '--mode', 'full', '--batch', '8', '--patience', '0'];
// short runs need BatchNorm statistics that move (the default 0.99 keeps them at their start values)
const LEARN = ['--lr', '0.01', '--bn-momentum', '0.5', '--no-augment'];

let dir: string;
let project: string;
let savedHome: string | undefined;

/** torchrun --nproc_per_node 2 on CPU, in its own process group (so a kill reaches every worker). */
function torchrun(bundle: string, extra: string[] = []) {
  // --redirects 1 --tee 1: torch 1.13's torchrun cannot parse its default "0" under Python 3.11
  // (Debian 12's python3-torch); the values show each worker's stdout with its rank, as intended
  const args = ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--redirects', '1', '--tee', '1', 'train.py', '--device', 'cpu', ...extra];
  const child = spawn(torch!.python, args, { cwd: bundle, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (output += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, output })));
  return { child, exited };
}

async function exportBundle(name: string, args: string[]): Promise<{ bundle: string; result: any }> {
  const bundle = path.join(dir, name);
  const result = onlyJson(await runInProcess(['handoff', 'export', project, ...MODEL, ...args, '--out', bundle, '--json']));
  return { bundle, result };
}

function metricLines(bundle: string): any[] {
  const file = path.join(bundle, 'out', 'metrics.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
}

describe.skipIf(!torch)(`handoff to PyTorch${torch ? '' : ` (skipped: no Python with torch, numpy and PIL here: ${tried.join('; ')})`}`, () => {
  beforeAll(async () => {
    dir = makeTempDir('handoff');
    savedHome = process.env.EFFITUNE_HOME;
    process.env.EFFITUNE_HOME = path.join(dir, 'home');
    const made = await createTrainProject(dir, 12, { classes: 2 });
    made.registry.closeAll();
    project = made.file;
  }, 60_000);

  afterAll(() => {
    if (savedHome === undefined) delete process.env.EFFITUNE_HOME;
    else process.env.EFFITUNE_HOME = savedHome;
    removeDir(dir);
  });

  it('train.py builds the network our builder builds: same probabilities on random weights and BatchNorm statistics', async () => {
    const { bundle, result } = await exportBundle('same-network', ['--epochs', '1']);
    expect(result).toMatchObject({ variant: 'phi=-8', resolution: 32, images: { train: 16, val: 8, test: 0 }, parityImages: 8 });
    const manifest = readManifest(bundle);
    expect(manifest.architecture).toMatchObject({ padding: 'tf-same', bnEpsilon: 1e-3, family: 'v1' });

    await ensureBackend();
    const variant = getVariant('phi=-8');
    const options = { classes: 2, resolution: 32, seed: 5 };
    const model = buildEfficientNet(variant, options);
    try {
      // random BatchNorm statistics and affine: eps, momentum conventions and layouts all matter then
      let seed = 11;
      const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
      for (const layer of model.layers) {
        if (layer.getClassName() !== 'BatchNormalization') continue;
        const n = layer.getWeights()[0].shape[0];
        const values = (scale: number, offset: number) => tf.tensor1d(Array.from({ length: n }, () => offset + scale * random()));
        layer.setWeights([values(1, 0.5), values(0.4, -0.2), values(0.4, -0.2), values(1, 0.5)]);
      }
      // a confident classifier, so the probabilities spread and a wrong feature would show
      const head = model.getLayer('predictions');
      const [kernel, bias] = head.getWeights();
      head.setWeights([tf.mul(kernel, 30), bias]);
      const file = path.join(dir, 'random.safetensors');
      writeSafetensors(file, modelToTimm(model, variant, options));
      const pixelsFile = path.join(bundle, manifest.parity.file);
      const pixels = readSafetensors(pixelsFile).tensors.get('pixels')!;
      const ours = tf.tidy(() => (model.predict(tf.tensor4d(pixels.data, [8, 32, 32, 3])) as tf.Tensor).arraySync() as number[][]);
      const theirs = await predictWithTorch(torch!.python, bundle, pixelsFile, file);
      const diff = Math.max(...ours.flatMap((row, i) => row.map((p, c) => Math.abs(p - theirs.probabilities[i][c]))));
      expect(diff).toBeLessThan(1e-4);
      // the check can fail: the probabilities are far from uniform and differ between images
      expect(Math.max(...ours.map((row) => Math.abs(row[0] - 0.5)))).toBeGreaterThan(0.05);
      expect(new Set(ours.map((row) => row[0].toFixed(4))).size).toBeGreaterThan(4);
    } finally {
      model.dispose();
    }
  }, 120_000);

  it('a bundle trains with torchrun on 2 processes (gloo) for 2 epochs, imports with parity, evaluates and exports', async () => {
    const { bundle, result } = await exportBundle('trained', ['--epochs', '2', ...LEARN]);
    for (const file of [BUNDLE_JSON, 'images.jsonl', 'train.py', 'requirements.txt', 'train.sbatch', 'README.md', 'weights/initial.safetensors', 'parity/pixels.safetensors']) {
      expect(fs.existsSync(path.join(bundle, file)), file).toBe(true);
    }
    expect(fs.readFileSync(path.join(bundle, 'README.md'), 'utf8')).toContain('--nnodes');
    expect(result.commands.oneMachine).toBe('torchrun --standalone --nproc_per_node 8 train.py');
    // the test split stays home
    expect(fs.readFileSync(path.join(bundle, 'images.jsonl'), 'utf8')).not.toContain('"split":"test"');

    const trained = await torchrun(bundle).exited;
    expect(trained.code, trained.output).toBe(0);
    const lines = metricLines(bundle);
    const epochs = lines.filter((l) => l.event === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(epochs[0]).toMatchObject({ worldSize: 2, batch: 16 });
    expect(lines.at(-1)).toMatchObject({ event: 'done', worldSize: 2, backend: 'gloo', deviceType: 'cpu', impl: 'builtin' });

    const imported = onlyJson(await runInProcess(['handoff', 'import', project, bundle, '--json']));
    expect(imported.parity).toMatchObject({ images: 8, top1Agree: true, source: 'local-torch' });
    expect(imported.parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(imported.run).toMatchObject({ status: 'completed', variant: 'phi=-8', resolution: 32, backend: 'pytorch', epochCount: 2, classes: result.classes });
    expect(imported.run.config.trainedElsewhere).toMatchObject({ processes: 2, nodes: 1, deviceType: 'cpu', torch: torch!.torch, distributedBackend: 'gloo', resumes: 0 });
    expect(imported.run.lastEpoch).toMatchObject({ epoch: 1, batch: 16, trainLoss: epochs[1].trainLoss });
    const runId = imported.run.id;

    // one training, one run: the same bundle again, or a copy of it in another folder, is refused naming the run
    const copy = path.join(dir, 'trained-copy');
    fs.cpSync(bundle, copy, { recursive: true });
    for (const again of [bundle, copy]) {
      const second = await runInProcess(['handoff', 'import', project, again, '--json']);
      expect(second.code, again).not.toBe(0);
      expect(second.stdout + second.stderr).toContain(`is already run ${runId} of this project, imported from ${bundle}`);
    }
    expect(onlyJson(await runInProcess(['runs', project, '--json'])).runs.filter((r: { backend: string }) => r.backend === 'pytorch')).toHaveLength(1);

    // the PyTorch parity file written at the end of training agrees too (the route without a local torch)
    const atEnd = JSON.parse(fs.readFileSync(path.join(bundle, 'out', 'parity.json'), 'utf8')).probabilities as number[][];
    expect(atEnd).toHaveLength(8);

    const notes = onlyJson(await runInProcess(['runs', project, '--json']));
    expect(JSON.stringify(notes)).toContain('trained elsewhere with PyTorch');

    const evaluation = onlyJson(await runInProcess(['eval', project, '--run', String(runId), '--split', 'val', '--json']));
    expect(evaluation).toMatchObject({ runId, split: 'val', images: 8 });
    expect(evaluation.accuracy).toBeGreaterThanOrEqual(0);

    const out = path.join(dir, 'export-tfjs');
    const exported = onlyJson(await runInProcess(['export', project, '--run', String(runId), '--format', 'tfjs', '--out', out, '--json']));
    expect(exported).toMatchObject({ runId, format: 'tfjs' });
    expect(fs.existsSync(path.join(out, 'model.json'))).toBe(true);
  }, 300_000);

  it('a bundle from another project is refused, naming both', async () => {
    const { bundle } = await exportBundle('foreign', ['--epochs', '1']);
    const otherDir = path.join(dir, 'other');
    fs.mkdirSync(otherDir, { recursive: true });
    const registry = new ProjectRegistry(path.join(otherDir, 'home'));
    const other = path.join(otherDir, 'other.effitune');
    registry.create(other);
    const handle = registry.get(other);
    await writeTrainImages(path.join(otherDir, 'images'), 6, { classes: 2, seed: 99 });
    await importFolder(handle, { folder: path.join(otherDir, 'images'), labelsFromFolders: true, jobId: 'other' });
    splitProject(handle, { val: 0.3, test: 0, seed: 1 });
    registry.closeAll();

    // refused before anything else is looked at: no out/ folder is needed to be told
    const run = await runInProcess(['handoff', 'import', other, bundle, '--json']);
    expect(run.code).not.toBe(0);
    const error = JSON.parse(run.stdout.trim() || run.stderr.trim());
    expect(JSON.stringify(error)).toMatch(/does not belong to this project/);
    expect(JSON.stringify(error)).toContain('train.effitune');
    const runs = onlyJson(await runInProcess(['runs', other, '--json']));
    expect(runs.runs).toHaveLength(0);
  }, 120_000);

  it('a torchrun killed after an epoch resumes from its checkpoint and imports', async () => {
    const epochsWanted = 30;
    const { bundle } = await exportBundle('killed', ['--epochs', String(epochsWanted), ...LEARN]);
    const first = torchrun(bundle);
    const deadline = Date.now() + 120_000;
    while (!metricLines(bundle).some((l) => l.event === 'epoch') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    process.kill(-first.child.pid!, 'SIGKILL');
    const killed = await first.exited;
    expect(killed.signal ?? killed.code, killed.output).toBeTruthy();
    const before = metricLines(bundle).filter((l) => l.event === 'epoch');
    expect(before.length, 'the run ended before the kill: nothing to resume').toBeLessThan(epochsWanted);
    expect(metricLines(bundle).some((l) => l.event === 'done')).toBe(false);
    expect(fs.existsSync(path.join(bundle, 'out', 'checkpoint.pt'))).toBe(true);

    const second = await torchrun(bundle).exited;
    expect(second.code, second.output).toBe(0);
    const lines = metricLines(bundle);
    const resume = lines.find((l) => l.event === 'resume');
    expect(resume, second.output).toBeDefined();
    expect(resume.fromEpoch).toBeGreaterThanOrEqual(1);
    expect(resume.fromEpoch).toBeLessThanOrEqual(before.length);
    // every epoch once, in order, and nothing trained twice beyond the checkpoint
    expect(lines.filter((l) => l.event === 'epoch').map((l) => l.epoch)).toEqual(Array.from({ length: epochsWanted }, (_, i) => i));
    expect(second.output).toContain(`epochs ${resume.fromEpoch + 1}..${epochsWanted}`);

    const imported = onlyJson(await runInProcess(['handoff', 'import', project, bundle, '--json']));
    expect(imported.run.epochCount).toBe(epochsWanted);
    expect(imported.trainedElsewhere.resumes).toBe(1);
  }, 300_000);
});
