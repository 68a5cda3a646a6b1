/**
 * An image whose file name is not UTF-8 (Latin-1 "café.png", made here with a Buffer path) used end
 * to end beside ordinary ones: imported and listed by its escaped text form (caf\xE9.png), served by
 * the media routes, decoded by training, evaluation (through the predictor process) and assist,
 * written out by the label CSV, the class folders and the hand-off manifest, found by the CLI, not
 * duplicated by a second import, and reported missing once it is deleted.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../main/contract/calls-eval';
import { imageFsPath } from '../../main/dataset/file-name-bytes';
import { labeledImages as headImages } from '../../main/train/features';
import { preprocessFileForInference } from '../../main/dataset/image-pixels';
import { createDataPipeline } from '../../main/train/data/pipeline';
import { splitImages as exportSplitImages } from '../../main/export/project-data';
import { predictImages as exportPredict } from '../../main/export/predict/predict-images';
import { bundleImages, commonFolder, labeledImages as bundleLabeledImages } from '../../main/handoff/project-images';
import type { Database } from '../../main/project/database';
import { startServer, type RunningServer } from '../../main/server/server';
import { Service } from '../../main/service/service';
import { runInProcess } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainedRun, type TrainedRun } from '../fixtures/trained-run';

let dir: string;
let fixture: TrainedRun;
let service: Service;
let server: RunningServer;
let db: Database;
let project: string;
let classes: string[];
const savedHome = process.env.EFFITUNE_HOME;

/** raw bytes of a path: `folder`/ then the parts (text as UTF-8, numbers as bytes) */
const rawPath = (folder: string, ...parts: (string | number[])[]) => Buffer.concat([Buffer.from(folder + path.sep), ...parts.map((p) => Buffer.from(p as never))]);
const png = (r: number, g: number, b: number) => sharp({ create: { width: 48, height: 40, channels: 3, background: { r, g, b } } }).png().toBuffer();

let testFile: Buffer; // red-circle/caf\xE9.png, dealt to the test split
let trainFile: Buffer; // red-circle/\xFFtrain.png, dealt to the train split
let looseFile: Buffer; // loose \xE9t\xE9.png, unlabeled
let testText: string;
let trainText: string;
let looseText: string;
const idOf = (text: string) => db.prepare('SELECT id FROM images WHERE path = ?').pluck().get(text) as number;
const call: Service['call'] = (name, input) => service.call(name, { backend: 'wasm', ...(input as object) });

beforeAll(async () => {
  dir = makeTempDir('non-utf8');
  process.env.EFFITUNE_HOME = path.join(dir, 'home');
  fixture = await createTrainedRun(dir, { perClass: 8, epochs: 2 });
  fixture.registry.closeAll();
  project = fixture.file;
  const folder = path.join(fixture.images, 'red-circle');
  testFile = rawPath(folder, 'caf', [0xe9], '.png');
  trainFile = rawPath(folder, [0xff], 'train.png');
  looseFile = rawPath(fixture.images, [0xe9], 't', [0xe9], '.png');
  fs.writeFileSync(testFile, await png(230, 30, 30));
  fs.writeFileSync(trainFile, await png(220, 40, 35));
  fs.writeFileSync(looseFile, await png(200, 50, 40));
  testText = path.join(folder, 'caf\\xE9.png');
  trainText = path.join(folder, '\\xFFtrain.png');
  looseText = path.join(fixture.images, '\\xE9t\\xE9.png');

  service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
  db = service.projects.get(project).db;
  const staticDir = path.join(dir, 'renderer');
  fs.mkdirSync(staticDir);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>test</title>');
  server = await startServer({ service, staticDir });
}, 180_000);

afterAll(async () => {
  await server?.close();
  service?.close();
  if (savedHome === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = savedHome;
  removeDir(dir);
});

describe('an image whose name is not UTF-8', () => {
  it('is imported with the others, listed by its readable name, and a second import does not duplicate it', { timeout: 60_000 }, async () => {
    const before = db.prepare('SELECT COUNT(*) FROM images').pluck().get() as number;
    const result = await call('import.folder', { project, folder: fixture.images, labelsFromFolders: true, jobId: 'latin1' });
    expect(result).toMatchObject({ imported: 3, duplicate: 0, rejected: 0 });
    expect(db.prepare('SELECT COUNT(*) FROM images').pluck().get()).toBe(before + 3);
    db.prepare(`UPDATE images SET split = 'test' WHERE id = ?`).run(idOf(testText));
    db.prepare(`UPDATE images SET split = 'train' WHERE id = ?`).run(idOf(trainText));
    classes = JSON.parse(db.prepare('SELECT classes FROM runs WHERE id = ?').pluck().get(fixture.runId) as string) as string[];

    const list = await call('images.list', { project, filter: { search: 'caf\\xE9' } });
    expect(list.items.map((i) => [i.path, i.className])).toEqual([[testText, 'red-circle']]);
    expect((await call('images.get', { project, id: idOf(looseText) })).className).toBeNull();

    const again = await call('import.folder', { project, folder: fixture.images, labelsFromFolders: true, jobId: 'latin1-again' });
    expect(again).toMatchObject({ imported: 0, updated: 0, duplicate: 0, rejected: 0, missing: 0 });
    expect(db.prepare('SELECT COUNT(*) FROM images').pluck().get()).toBe(before + 3);
  });

  it('is served by the media routes (thumbnail and full image)', async () => {
    const query = `project=${encodeURIComponent(project)}&id=${idOf(testText)}&token=${server.token}`;
    const origin = `http://127.0.0.1:${server.port}`;
    const thumb = await fetch(`${origin}/media/thumb?${query}`);
    expect(thumb.status).toBe(200);
    const full = await fetch(`${origin}/media/full?${query}`);
    expect(full.status, await full.clone().text()).toBe(200);
    const meta = await sharp(Buffer.from(await full.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([48, 40]);
  });

  it('is decoded by the training pipeline and by head-only training, with nothing skipped', async () => {
    const pipeline = createDataPipeline({ db }, { split: 'train', resolution: 32, batchSize: 256, classes, augment: { scaleMin: 0.5 } });
    const ids: number[] = [];
    for await (const batch of pipeline.epoch(0)) ids.push(...batch.ids);
    expect(ids).toContain(idOf(trainText));
    expect(pipeline.skipped).toEqual([]);

    const head = headImages(db, classes).images.find((i) => i.path === trainText)!;
    expect(imageFsPath({ path: head.path, pathBytes: head.file as Buffer })).toEqual(trainFile);
    expect((await preprocessFileForInference(head.file, 32)).length).toBe(32 * 32 * 3);
  });

  it('is evaluated (through the predictor process) and suggested by assist, by its readable name', { timeout: 120_000 }, async () => {
    const evaluation = (await call('eval.run', { project, runId: fixture.runId })) as Evaluation;
    expect(evaluation.skipped).toEqual([]);
    const images = await call('eval.images', { project, runId: fixture.runId, limit: 500 });
    expect(images.items.map((i) => i.path)).toContain(testText);

    const suggested = await call('assist.suggestions', { project, runId: fixture.runId, limit: 500 });
    expect(suggested.skipped).toEqual([]);
    expect(suggested.items.map((i) => i.path)).toContain(looseText);
  });

  it('is predicted by the export checks and shipped in a hand-off bundle that Python opens', { timeout: 120_000 }, async () => {
    const test = exportSplitImages(db, classes, 'test').find((i) => i.path === testText)!;
    expect(test.file).toEqual(testFile);
    const fake = { format: 'onnx' as const, dir, classes, resolution: 32, maxBatch: 8, ranOn: 'test', run: async (_: Float32Array, n: number) => new Float32Array(n * classes.length).fill(1 / classes.length), dispose: () => undefined };
    const [predicted] = await exportPredict(fake, [test.file]);
    expect(predicted).toMatchObject({ path: testText, error: null });

    const { images } = bundleLabeledImages(db, ['train', 'val', 'test']);
    const root = commonFolder(images.map((i) => i.file));
    expect(root).toBe(fixture.images);
    const shipped = bundleImages(images, root, classes).find((i) => i.path.startsWith('red-circle/caf'))!;
    expect(JSON.stringify(shipped.path)).toBe('"red-circle/caf\\udce9.png"');
    const python = spawnSync('python3', ['-c', 'import json, os, sys; print(os.path.getsize(os.path.join(sys.argv[1], json.loads(sys.stdin.read()))))', root], { input: JSON.stringify(shipped.path), encoding: 'utf8' });
    if (python.error === undefined) expect(python.stdout.trim(), python.stderr).toBe(String(fs.statSync(testFile).size));

    // a bundle with its images copied: the copy has the original's name bytes and content
    const out = path.join(dir, 'bundle');
    await call('handoff.export', { project, out, copyImages: true, includeTest: true, model: 'phi=-8', resolution: 32, mode: 'full', epochs: 1 });
    expect(fs.readFileSync(path.join(out, 'images.jsonl'), 'utf8')).toContain('"red-circle/caf\\udce9.png"');
    expect(fs.readFileSync(rawPath(path.join(out, 'data', 'red-circle'), 'caf', [0xe9], '.png')).equals(fs.readFileSync(testFile))).toBe(true);
  });

  it('goes out in the label CSV and the class folders, and the CSV labels it again', async () => {
    const csv = path.join(dir, 'labels.csv');
    await call('labels.export', { project, file: csv });
    expect(fs.readFileSync(csv, 'utf8')).toContain(`${testText},`);
    await call('labels.set', { project, imageIds: [idOf(testText)], class: null });
    const imported = await call('labels.import', { project, file: csv });
    expect(imported.unknown).toEqual([]);
    expect((await call('images.get', { project, id: idOf(testText) })).className).toBe('red-circle');

    const out = path.join(dir, 'folders');
    const exported = await call('labels.exportFolders', { project, out });
    expect(exported.skipped).toEqual([]);
    // named by its readable form in the export, with the original's bytes
    expect(fs.readFileSync(path.join(out, 'red-circle', 'caf\\xE9.png')).equals(fs.readFileSync(testFile))).toBe(true);
  });

  it('is named in the CLI: labeled by its readable path, listed as a duplicate by it', { timeout: 60_000 }, async () => {
    const labeled = await runInProcess(['label', project, '--image', testText, '--class', 'green-square']);
    expect(labeled.code, labeled.stderr).toBe(0);
    expect(labeled.stdout).toMatch(/1 image/);
    expect((await call('images.get', { project, id: idOf(testText) })).className).toBe('green-square');

    fs.copyFileSync(testFile, rawPath(path.join(fixture.images, 'red-circle'), 'copie de caf', [0xe9], '.png'));
    const imported = await runInProcess(['import', project, fixture.images, '--labels-from-folders']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain(`${path.join(fixture.images, 'red-circle', 'copie de caf\\xE9.png')} = ${testText}`);
  });

  it('is reported missing once deleted: by training, evaluation and the next import', { timeout: 120_000 }, async () => {
    fs.unlinkSync(testFile);
    fs.unlinkSync(rawPath(path.join(fixture.images, 'red-circle'), 'copie de caf', [0xe9], '.png'));
    const pipeline = createDataPipeline({ db }, { split: 'test', resolution: 32, batchSize: 64, classes });
    expect(pipeline.skipped).toEqual([{ id: idOf(testText), path: testText, reason: 'the file no longer exists' }]);
    const evaluation = (await call('eval.run', { project, runId: fixture.runId })) as Evaluation;
    expect(evaluation.skipped.map((s) => [s.path, s.reason])).toContainEqual([testText, 'the file no longer exists']);
    const result = await call('import.folder', { project, folder: fixture.images, labelsFromFolders: true, jobId: 'latin1-gone' });
    expect(result).toMatchObject({ missing: 1, rejected: 0 });
    expect(db.prepare('SELECT missing FROM images WHERE path = ?').pluck().get(testText)).toBe(1);
  });
});
