/**
 * Export of a finished run, end to end in this process (one tiny trained run from the shared fixture):
 * the TF.js export re-loaded with plain tf.loadLayersModel over HTTP (as a browser loads it) gives the
 * app's predictions; the ONNX export in onnxruntime-node gives them within 1e-4 with the same top-1;
 * quantized exports are smaller and have their accuracy recorded; the folder holds labels, model card,
 * confusion matrix and examples, and the Node example prints the same top-1 as `predict`; a failure
 * midway leaves nothing, an existing folder is kept without force and replaced with it; predict.files
 * walks folders, reports unreadable files and writes a CSV; bad runs are refused.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainOptions } from '../../main/contract/calls-train';
import { ApiError } from '../../main/contract/contract';
import type { ExportResult } from '../../main/contract/calls-export';
import { Service } from '../../main/service/service';
import { exportRun, type ExportArgs } from '../../main/export/export-run';
import { splitImages } from '../../main/export/project-data';
import { openPredictionModel } from '../../main/export/predict/prediction-model';
import { argmax, predictImages } from '../../main/export/predict/predict-images';
import { getRun } from '../../main/project/runs';
import { createTrainingRun } from '../../main/train/new-run';
import { preprocessForInference } from '../../main/dataset/image-pixels';
import { loadModelFolder } from '../../main/model/manager/model-folder';
import { launchBrowser } from '../e2e/harness';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainedRun, type TrainedRun } from '../fixtures/trained-run';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const SLOW = 180_000;

let dir: string;
let trained: TrainedRun;
let service: Service;
/** test-split image files of the run, the app's probabilities for them */
let testFiles: string[];
let appProbabilities: Float32Array[];
const progress: { jobId: string; phase: string; message: string }[] = [];

let tfjsExportDone: Promise<ExportResult> | undefined;
/** The float32 TF.js export, made once by whichever test needs it first. */
function tfjsExport(): Promise<ExportResult> {
  return (tfjsExportDone ??= service.call('export.run', args('tfjs', { jobId: 'tfjs-job' })));
}

function args(out: string, extra: Partial<ExportArgs> = {}): ExportArgs {
  return { project: trained.file, runId: trained.runId, format: 'tfjs', quantize: 'none', out: path.join(dir, out), force: false, ...extra };
}

/** The run's own model folder through tf.js, the way the app predicts. */
async function appPredict(files: readonly string[]): Promise<Float32Array[]> {
  const { model } = await loadModelFolder(trained.modelDir);
  const out: Float32Array[] = [];
  for (const file of files) {
    const y = tf.tidy(() => model.predict(tf.tensor4d(pixelsOf(file), [1, 32, 32, 3])) as tf.Tensor);
    out.push((await y.data()) as Float32Array);
    y.dispose();
  }
  model.dispose();
  return out;
}

const pixelCache = new Map<string, Float32Array>();
function pixelsOf(file: string): Float32Array {
  return pixelCache.get(file)!;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Serve a folder over HTTP on 127.0.0.1 (what a browser's tf.loadLayersModel fetches from). */
async function serveFolder(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(root) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.json') ? 'application/json' : file.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Probabilities of an exported TF.js folder loaded by plain tf.loadLayersModel from a URL. */
async function plainTfjsPredict(exportDir: string, files: readonly string[]): Promise<Float32Array[]> {
  const served = await serveFolder(exportDir);
  try {
    const model = await tfl.loadLayersModel(`${served.url}/model.json`);
    const out: Float32Array[] = [];
    for (const file of files) {
      const y = tf.tidy(() => model.predict(tf.tensor4d(pixelsOf(file), [1, 32, 32, 3])) as tf.Tensor);
      out.push((await y.data()) as Float32Array);
      y.dispose();
    }
    model.dispose();
    return out;
  } finally {
    await served.close();
  }
}

beforeAll(async () => {
  dir = makeTempDir('export-run');
  trained = await createTrainedRun(dir);
  service = new Service({ mode: 'cli', dataDir: path.join(dir, 'service-home') });
  service.onEvent((event, payload) => {
    if (event === 'export.progress') progress.push(payload as (typeof progress)[number]);
  });
  testFiles = splitImages(trained.handle.db, getRun(trained.handle.db, trained.runId).classes, 'test').map((i) => i.path);
  for (const file of Object.values(trained.files).flat()) pixelCache.set(file, await preprocessForInference(file, 32));
  appProbabilities = await appPredict(testFiles);
}, SLOW);

afterAll(() => {
  service?.close();
  trained?.registry.closeAll();
  removeDir(dir);
});

describe('TF.js export', () => {
  let result: ExportResult;

  beforeAll(async () => {
    result = await tfjsExport();
  }, SLOW);

  it('re-loads with plain tf.loadLayersModel and gives the app\'s predictions (≤ 1e-5)', async () => {
    expect(testFiles.length).toBeGreaterThanOrEqual(6);
    const exported = await plainTfjsPredict(result.dir, testFiles);
    for (let i = 0; i < testFiles.length; i++) expect(maxAbsDiff(exported[i], appProbabilities[i])).toBeLessThanOrEqual(1e-5);
    expect(result.parity).not.toBeNull();
    expect(result.parity!.images).toBe(Math.min(32, Object.values(trained.files).flat().length));
    expect(result.parity!.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(result.parity!.top1Agree).toBe(true);
  });

  it('holds the model, labels, model card, confusion matrix and examples', async () => {
    const names = result.files.map((f) => f.path);
    expect(names).toEqual(expect.arrayContaining(['model.json', 'group1-shard1of1.bin', 'labels.json', 'labels.txt', 'model-card.md', 'model-card.json', 'confusion-matrix.svg', 'README.md', 'examples/node.mjs', 'examples/browser.html']));
    expect(names).not.toContain('examples/predict.py');
    expect(names.some((n) => n.includes('float32-check'))).toBe(false);
    const classes = JSON.parse(fs.readFileSync(path.join(result.dir, 'labels.json'), 'utf8'));
    expect(classes).toEqual(['blue-triangle', 'green-square', 'red-circle']);
    expect(fs.readFileSync(path.join(result.dir, 'labels.txt'), 'utf8')).toBe('blue-triangle\ngreen-square\nred-circle\n');
    expect(result.bytes).toBe(result.files.reduce((n, f) => n + f.bytes, 0));

    const card = JSON.parse(fs.readFileSync(path.join(result.dir, 'model-card.json'), 'utf8'));
    expect(card.model).toMatchObject({ variant: 'phi=-8', phi: -8, resolution: 32, classes });
    expect(card.data.perClass.map((c: { className: string }) => c.className)).toEqual(classes);
    expect(card.data.totals.test).toBe(testFiles.length);
    expect(card.training.mode).toBe('full');
    expect(card.epochs.length).toBeGreaterThan(0);
    // the confusion matrix counts every test image once, rows = true class
    const confusion: number[][] = card.test.confusion;
    expect(confusion.flat().reduce((a, b) => a + b, 0)).toBe(testFiles.length);
    const diagonal = confusion.reduce((n, row, i) => n + row[i], 0);
    expect(card.test.accuracy).toBeCloseTo(diagonal / testFiles.length, 10);
    expect(result.precisions[0].testAccuracy).toBeCloseTo(card.test.accuracy, 10);
    // the app's own top-1 on the test split gives the same accuracy
    const labels = splitImages(trained.handle.db, classes, 'test').map((i) => i.label);
    expect(appProbabilities.filter((p, i) => argmax(p) === labels[i]).length / labels.length).toBeCloseTo(card.test.accuracy, 10);
    // the same metrics as the app's evaluation of the run (eval.run, the app's model, project class order)
    const evaluation = await service.call('eval.run', { project: trained.file, runId: trained.runId, split: 'test' });
    expect(card.test.classes).toEqual(evaluation.classes);
    expect(card.test.confusion).toEqual(evaluation.confusion);
    expect(card.test.accuracy).toBe(evaluation.accuracy);
    const markdown = fs.readFileSync(path.join(result.dir, 'model-card.md'), 'utf8');
    expect(markdown).toContain('φ (compound scaling) | -8');
    expect(markdown).toContain('confusion-matrix.svg');
    const svg = fs.readFileSync(path.join(result.dir, 'confusion-matrix.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    for (const c of classes) expect(svg).toContain(c);
  }, SLOW);

  it('reports its progress as export.progress events, ending with done', () => {
    const phases = progress.filter((p) => p.jobId === 'tfjs-job').map((p) => p.phase);
    expect([...new Set(phases)]).toEqual(['converting', 'checking', 'writing', 'done']);
  });

  it('is recorded in the exports table', async () => {
    const { exports } = await service.call('export.list', { project: trained.file, runId: trained.runId });
    const record = exports.find((e) => e.dir === result.dir);
    expect(record).toMatchObject({ runId: trained.runId, format: 'tfjs', quantize: 'none', bytes: result.bytes, testAccuracy: result.precisions[0].testAccuracy, exists: true });
  });

  it('runs its Node example, which prints the top-1 class predict gives', async () => {
    // the example imports @tensorflow/tfjs and sharp the way a user's project would: from a node_modules above it
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const files = testFiles.slice(0, 3);
    const run = spawnSync(process.execPath, [path.join(result.dir, 'examples', 'node.mjs'), ...files], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const predicted = await service.call('predict.files', { modelDir: result.dir, paths: files, top: 1 });
    for (const [i, file] of files.entries()) {
      const line = run.stdout.split('\n').find((l) => l.startsWith(`${file}: `));
      expect(line, run.stdout).toBeDefined();
      expect(line!.slice(file.length + 2).split(' ')[0]).toBe(predicted.predictions[i].top[0].className);
    }
  }, SLOW);
});

describe('browser example', () => {
  it('loads the TF.js export in Chromium (tfjs from the CDN, served here) and gives predict\'s top-1 on clear images', async () => {
    const exportDir = (await tfjsExport()).dir;
    const predicted = await service.call('predict.files', { modelDir: exportDir, paths: testFiles, top: 1 });
    // the page resizes with the canvas, not sharp's Lanczos3: compare on the images the model is
    // surest of, where a slightly different resampling cannot flip the answer
    const clear = predicted.predictions
      .filter((p) => p.top[0].probability >= 0.9)
      .sort((a, b) => b.top[0].probability - a.top[0].probability)
      .slice(0, 4);
    expect(clear.length).toBeGreaterThan(0);
    const served = await serveFolder(exportDir);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      // offline: the page's CDN script tag gets the same tf.min.js from node_modules
      await page.route('https://cdn.jsdelivr.net/npm/@tensorflow/tfjs@4.22.0/dist/tf.min.js', (route) =>
        route.fulfill({ contentType: 'text/javascript', body: fs.readFileSync(path.join(repoRoot, 'node_modules/@tensorflow/tfjs/dist/tf.min.js'), 'utf8') }),
      );
      await page.goto(`${served.url}/examples/browser.html`);
      await page.waitForFunction(() => document.getElementById('out')!.textContent!.startsWith('Model loaded'), null, { timeout: 60_000 });
      await page.setInputFiles('#files', clear.map((p) => p.path));
      await page.waitForFunction((n) => document.getElementById('out')!.textContent!.trim().split('\n').length > n, clear.length, { timeout: 60_000 });
      const lines = (await page.textContent('#out'))!.trim().split('\n').slice(1);
      for (const p of clear) {
        const line = lines.find((l) => l.startsWith(`${path.basename(p.path)}: `));
        expect(line, lines.join('\n')).toBeDefined();
        expect(line!.slice(path.basename(p.path).length + 2).split(' ')[0]).toBe(p.top[0].className);
      }
    } finally {
      await browser.close();
      await served.close();
    }
  }, SLOW);
});

describe('quantized TF.js exports', () => {
  it('are smaller, load with plain tf.loadLayersModel and record their test accuracy next to float32', async () => {
    const float16 = await exportRun(trained.handle, args('tfjs-f16', { quantize: 'float16' }));
    const uint8 = await exportRun(trained.handle, args('tfjs-u8', { quantize: 'uint8' }));
    for (const r of [float16, uint8]) {
      expect(r.precisions.map((p) => p.quantize)).toEqual(['none', r.quantize]);
      const [f32, q] = r.precisions;
      expect(f32.testAccuracy).not.toBeNull();
      expect(q.testAccuracy).not.toBeNull();
      expect(q.agreement).toBeGreaterThanOrEqual(0.8);
      expect(r.parity).toBeNull();
      // what tf.js reads back is what the recorded accuracy was measured on
      const exported = await plainTfjsPredict(r.dir, testFiles);
      const labels = splitImages(trained.handle.db, JSON.parse(fs.readFileSync(path.join(r.dir, 'labels.json'), 'utf8')), 'test').map((i) => i.label);
      expect(exported.filter((p, i) => argmax(p) === labels[i]).length / labels.length).toBeCloseTo(q.testAccuracy!, 10);
      const manifest = JSON.parse(fs.readFileSync(path.join(r.dir, 'model.json'), 'utf8')).weightsManifest[0].weights;
      expect(manifest.every((w: { dtype: string; quantization?: { dtype: string } }) => w.dtype !== 'float32' || w.quantization?.dtype === r.quantize)).toBe(true);
    }
    const [f16, u8] = [float16.precisions, uint8.precisions];
    expect(f16[1].modelBytes).toBeLessThan(0.55 * f16[0].modelBytes);
    expect(u8[1].modelBytes).toBeLessThan(0.3 * u8[0].modelBytes);
    expect(u8[1].modelBytes).toBeLessThan(f16[1].modelBytes);
    expect(fs.readFileSync(path.join(uint8.dir, 'model-card.md'), 'utf8')).toMatch(/\| uint8 \| [\d.]+ KiB \| [\d.]+ % \|/);
  }, SLOW);
});

describe('ONNX export', () => {
  it('gives the app\'s predictions in onnxruntime-node on 32 images (≤ 1e-4, same top-1)', async () => {
    const result = await exportRun(trained.handle, args('onnx', { format: 'onnx' }));
    expect(result.files.map((f) => f.path)).toEqual(expect.arrayContaining(['model.onnx', 'labels.json', 'examples/node.mjs', 'examples/browser.html', 'examples/predict.py', 'README.md']));
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(path.join(result.dir, 'model.onnx'));
    const files = Object.values(trained.files).flat().slice(0, 32);
    expect(files).toHaveLength(32);
    const app = await appPredict(files);
    for (const [i, file] of files.entries()) {
      const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', pixelsOf(file), [1, 32, 32, 3]) });
      const probabilities = out[session.outputNames[0]].data as Float32Array;
      expect(maxAbsDiff(probabilities, app[i])).toBeLessThanOrEqual(1e-4);
      expect(argmax(probabilities)).toBe(argmax(app[i]));
    }
    await session.release();
    expect(result.parity).toMatchObject({ images: 32, top1Agree: true });
    expect(result.parity!.maxAbsDiff).toBeLessThanOrEqual(1e-4);

    // its Node example (onnxruntime-node + sharp) prints predict's top-1
    if (!fs.existsSync(path.join(dir, 'node_modules'))) fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const run = spawnSync(process.execPath, [path.join(result.dir, 'examples', 'node.mjs'), files[0]], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const predicted = await service.call('predict.files', { modelDir: result.dir, paths: [files[0]], top: 1 });
    expect(predicted.format).toBe('onnx');
    expect(run.stdout).toContain(`${files[0]}: ${predicted.predictions[0].top[0].className} `);
  }, SLOW);

  it('quantized to uint8 is smaller and keeps its accuracy on record', async () => {
    const result = await exportRun(trained.handle, args('onnx-u8', { format: 'onnx', quantize: 'uint8' }));
    const [f32, u8] = result.precisions;
    expect(u8.modelBytes).toBeLessThan(0.4 * f32.modelBytes);
    expect(u8.testAccuracy).not.toBeNull();
    expect(fs.existsSync(path.join(result.dir, 'model.onnx'))).toBe(true);
  }, SLOW);
});

describe('atomicity', () => {
  const leftovers = () => fs.readdirSync(dir).filter((n) => n.includes('.tmp-'));

  it('a failure midway leaves no export folder and no temporary folder', async () => {
    const out = path.join(dir, 'broken');
    const seen: string[] = [];
    await expect(
      exportRun(trained.handle, args('broken'), {
        afterWrite: (file) => {
          seen.push(file);
          if (file === 'labels.json') throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        },
        onProgress: (p) => seen.push(`phase:${p.phase}`),
      }),
    ).rejects.toMatchObject({ code: 'io_error' });
    expect(seen).toContain('model.json');
    expect(seen.at(-1)).toBe('phase:failed');
    expect(fs.existsSync(out)).toBe(false);
    expect(leftovers()).toEqual([]);
  }, SLOW);

  it('keeps an existing folder without force, replaces it whole with force, and keeps it when a forced export fails', async () => {
    const out = path.join(dir, 'existing');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'mine.txt'), 'keep me');
    await expect(exportRun(trained.handle, args('existing'))).rejects.toMatchObject({ code: 'already_exists' });
    expect(fs.readdirSync(out)).toEqual(['mine.txt']);

    await expect(
      exportRun(trained.handle, args('existing', { force: true }), {
        afterWrite: (file) => {
          if (file === 'README.md') throw new Error('killed');
        },
      }),
    ).rejects.toBeInstanceOf(ApiError);
    expect(fs.readdirSync(out)).toEqual(['mine.txt']);
    expect(leftovers()).toEqual([]);

    const result = await exportRun(trained.handle, args('existing', { force: true }));
    expect(result.replaced).toBe(true);
    expect(fs.existsSync(path.join(out, 'mine.txt'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'model.json'))).toBe(true);
    expect(leftovers()).toEqual([]);
  }, SLOW);
});

describe('predict.files', () => {
  it('searches folders recursively, reports unreadable and missing files per file, and writes a CSV', async () => {
    const exportDir = (await tfjsExport()).dir;
    const folder = path.join(dir, 'to-predict');
    fs.mkdirSync(path.join(folder, 'nested', 'deeper'), { recursive: true });
    const [a, b] = trained.files['red-circle'];
    fs.copyFileSync(a, path.join(folder, 'a.png'));
    fs.copyFileSync(b, path.join(folder, 'nested', 'deeper', 'b.png'));
    fs.writeFileSync(path.join(folder, 'nested', 'broken.jpg'), 'not an image');
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'not an image either, and not picked up');
    const csv = path.join(dir, 'predictions.csv');
    const result = await service.call('predict.files', { modelDir: exportDir, paths: [folder, path.join(dir, 'missing.png')], top: 2, csv });
    expect(result).toMatchObject({ format: 'tfjs', classes: ['blue-triangle', 'green-square', 'red-circle'], resolution: 32, csv });
    const byName = new Map(result.predictions.map((p) => [path.relative(dir, p.path), p]));
    expect([...byName.keys()].sort()).toEqual(['missing.png', 'to-predict/a.png', 'to-predict/nested/broken.jpg', 'to-predict/nested/deeper/b.png']);
    expect(byName.get('to-predict/nested/broken.jpg')).toMatchObject({ top: [] });
    expect(byName.get('to-predict/nested/broken.jpg')!.error).toMatch(/broken\.jpg/);
    expect(byName.get('missing.png')!.error).toMatch(/no such file/);
    const ok = byName.get('to-predict/a.png')!;
    expect(ok.error).toBeNull();
    expect(ok.top).toHaveLength(2);
    // the same probabilities as the app's model for the same file
    const app = (await appPredict([a]))[0];
    expect(Math.abs(ok.top[0].probability - Math.max(...app))).toBeLessThanOrEqual(1e-5);
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('path,top1,probability1,top2,probability2,error');
    expect(lines).toHaveLength(5);
    expect(lines.find((l) => l.startsWith(ok.path))).toBe(`${ok.path},${ok.top[0].className},${ok.top[0].probability.toFixed(6)},${ok.top[1].className},${ok.top[1].probability.toFixed(6)},`);
  }, SLOW);

  it('runs a run\'s own model folder and an export alike, and names a folder that holds no model', async () => {
    const model = await openPredictionModel(trained.modelDir);
    expect(model.format).toBe('tfjs');
    const results = await predictImages(model, testFiles.slice(0, 2));
    model.dispose();
    expect(maxAbsDiff(results[0].probabilities!, appProbabilities[0])).toBe(0);
    await expect(service.call('predict.files', { modelDir: dir, paths: [testFiles[0]] })).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('neither model.json') });
  });
});

describe('refused exports', () => {
  it('names an unknown run, an unfinished run and a bad format', async () => {
    await expect(service.call('export.run', { ...args('x'), runId: 999 })).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('run 999') });
    const { run } = createTrainingRun(trained.handle, TrainOptions.parse({ model: 'phi=-8', resolution: 32, batch: 8, mode: 'full', epochs: 1 }));
    await expect(service.call('export.run', { ...args('x'), runId: run.id })).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining(`run ${run.id} has not finished (status queued)`) });
    await expect(service.call('export.run', { ...args('x'), format: 'pb' })).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('format') });
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  });
});
