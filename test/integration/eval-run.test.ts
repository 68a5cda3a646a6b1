/**
 * Evaluating a finished run through the service (eval.run, eval.images, eval.predictImage) on the
 * trained-run fixture: the matrix counts exactly the evaluated images, accuracy is its trace over
 * the total and agrees with predictions made directly with the model folder; the stored
 * evaluation is reused until a label, the class order, an exclusion or a file changes; deleted
 * files and classes unknown to the run are skipped with a reason; errors name what is wrong.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation, PredictProgress } from '../../main/contract/calls-eval';
import { Service } from '../../main/service/service';
import { argMax } from '../../main/eval/metrics';
import { decodeProbs } from '../../main/eval/prediction-store';
import { loadModelFolder } from '../../main/model/manager/model-folder';
import type { Database } from '../../main/project/database';
import { createRun } from '../../main/project/runs';
import { preprocessForInference } from '../../main/dataset/image-pixels';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainedRun, type TrainedRun } from '../fixtures/trained-run';

let dir: string;
let fixture: TrainedRun;
let service: Service;
let db: Database;
let project: string;
let runId: number;
const events: PredictProgress[] = [];

beforeAll(async () => {
  dir = makeTempDir('eval-run');
  fixture = await createTrainedRun(dir);
  fixture.registry.closeAll();
  ({ file: project, runId } = fixture);
  service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
  service.onEvent((event, payload) => {
    if (event === 'predict.progress') events.push(payload as PredictProgress);
  });
  db = service.projects.get(project).db;
}, 120_000);

afterAll(() => {
  service?.close();
  removeDir(dir);
});

/** The service's calls, predicting on wasm (the CPU default) so no backend probe runs in the predictor process. */
const call: Service['call'] = (name, input) => service.call(name, { backend: 'wasm', ...(input as object) });

const evaluate = (input: Record<string, unknown> = {}) => call('eval.run', { project, runId, ...input }) as Promise<Evaluation>;
const testImages = () => db.prepare(`SELECT i.id, i.path, c.name AS className FROM images i JOIN classes c ON c.id = i.class_id WHERE i.split = 'test' ORDER BY i.id`).all() as { id: number; path: string; className: string }[];
const classId = (name: string) => (db.prepare('SELECT id FROM classes WHERE name = ?').get(name) as { id: number }).id;
const trace = (m: number[][]) => m.reduce((n, row, i) => n + row[i], 0);
const total = (m: number[][]) => m.flat().reduce((a, b) => a + b, 0);

/** The model folder run directly on the files, as `effitune infer` would: class name per image id. */
async function predictDirectly(images: { id: number; path: string }[]): Promise<Map<number, { className: string; probs: Float32Array }>> {
  const { model } = await loadModelFolder(fixture.modelDir);
  const classes = JSON.parse((db.prepare('SELECT classes FROM runs WHERE id = ?').get(runId) as { classes: string }).classes) as string[];
  const out = new Map<number, { className: string; probs: Float32Array }>();
  for (const image of images) {
    const pixels = await preprocessForInference(image.path, 32);
    const y = model.predict(tf.tensor4d(pixels, [1, 32, 32, 3])) as tf.Tensor;
    const probs = y.dataSync() as Float32Array;
    y.dispose();
    out.set(image.id, { className: classes[argMax(probs)], probs });
  }
  model.dispose();
  return out;
}

describe('eval.run', () => {
  let first: Evaluation;

  it('evaluates the test split: the matrix counts every image once, accuracy = trace / total', { timeout: 60_000 }, async () => {
    first = await evaluate();
    const images = testImages();
    expect(first).toMatchObject({ project, runId, split: 'test', cached: false, skipped: [], backend: 'wasm' });
    expect(first.images).toBe(images.length);
    expect(first.images).toBeGreaterThanOrEqual(15);
    expect(total(first.confusion)).toBe(first.images);
    expect(first.accuracy).toBeCloseTo(trace(first.confusion) / first.images, 12);
    expect(first.topK[0].accuracy).toBeCloseTo(first.accuracy!, 12);
    expect(first.topK.map((t) => t.k)).toEqual([1, 2, 3]);
    expect(first.topK[2].accuracy).toBe(1);
    // the classes are the project's, in its order; support is the row sum, predicted the column sum
    const order = (db.prepare('SELECT name FROM classes ORDER BY position, id').all() as { name: string }[]).map((r) => r.name);
    expect(first.classes).toEqual(order);
    first.perClass.forEach((c, i) => {
      expect(c.className).toBe(first.classes[i]);
      expect(c.support).toBe(first.confusion[i].reduce((a, b) => a + b, 0));
      expect(c.predicted).toBe(first.confusion.reduce((n, row) => n + row[i], 0));
    });
    expect(first.accuracy!).toBeGreaterThan(0.5); // the fixture's model learned the shapes
    expect(first.loss!).toBeGreaterThan(0);
    // progress: predicted from 0 to all
    const mine = events.filter((e) => e.purpose === 'eval' && e.runId === runId);
    expect(mine[0]).toMatchObject({ done: 0, total: images.length, project });
    expect(mine.at(-1)).toMatchObject({ done: images.length, total: images.length });
  });

  it('agrees with the model run directly on the files', { timeout: 60_000 }, async () => {
    const images = testImages();
    const direct = await predictDirectly(images);
    const expected = first.classes.map(() => first.classes.map(() => 0));
    for (const image of images) expected[first.classes.indexOf(image.className)][first.classes.indexOf(direct.get(image.id)!.className)]++;
    expect(first.confusion).toEqual(expected);
    // and the stored probabilities are the model's
    for (const image of images) {
      const row = db.prepare('SELECT probs, hash FROM predictions WHERE run_id = ? AND image_id = ?').get(runId, image.id) as { probs: Buffer };
      const stored = decodeProbs(row.probs);
      Array.from(direct.get(image.id)!.probs).forEach((p, c) => expect(stored[c]).toBeCloseTo(p, 5));
    }
  });

  it('reuses the stored evaluation until something changes; --recompute reads the stored predictions', { timeout: 60_000 }, async () => {
    const before = events.length;
    const again = await evaluate();
    expect(again).toMatchObject({ cached: true, seconds: 0, computedAt: first.computedAt, confusion: first.confusion, accuracy: first.accuracy });
    const recomputed = await evaluate({ recompute: true });
    expect(recomputed).toMatchObject({ cached: false, backend: null });
    expect(recomputed.confusion).toEqual(first.confusion);
    expect(events.length).toBe(before); // nothing predicted: every prediction came from the table
  });

  it('a changed label is seen: recomputed, the image moves to its new row', { timeout: 60_000 }, async () => {
    const image = testImages()[0];
    const other = first.classes.find((c) => c !== image.className)!;
    db.prepare('UPDATE images SET class_id = ? WHERE id = ?').run(classId(other), image.id);
    const changed = await evaluate();
    expect(changed.cached).toBe(false);
    const from = changed.classes.indexOf(image.className);
    const to = changed.classes.indexOf(other);
    expect(changed.confusion[from].reduce((a, b) => a + b, 0)).toBe(first.confusion[from].reduce((a, b) => a + b, 0) - 1);
    expect(changed.confusion[to].reduce((a, b) => a + b, 0)).toBe(first.confusion[to].reduce((a, b) => a + b, 0) + 1);
    db.prepare('UPDATE images SET class_id = ? WHERE id = ?').run(classId(image.className), image.id);
    const back = await evaluate();
    expect(back.confusion).toEqual(first.confusion);
  });

  it("follows the project's class order (position, then id)", { timeout: 60_000 }, async () => {
    const reversed = [...first.classes].reverse();
    reversed.forEach((name, i) => db.prepare('UPDATE classes SET position = ? WHERE name = ?').run(i, name));
    const e = await evaluate();
    expect(e.cached).toBe(false);
    expect(e.classes).toEqual(reversed);
    const n = reversed.length;
    expect(e.confusion).toEqual(first.confusion.map((_, i) => first.confusion.map((__, j) => first.confusion[n - 1 - i][n - 1 - j])));
    first.classes.forEach((name, i) => db.prepare('UPDATE classes SET position = ? WHERE name = ?').run(i, name));
  });

  it('a class renamed after training keeps its row and column under its new name', { timeout: 60_000 }, async () => {
    const old = first.classes[0];
    db.prepare('UPDATE classes SET name = ? WHERE name = ?').run(`${old} (renamed)`, old);
    try {
      const e = await evaluate();
      expect(e.classes).toEqual([`${old} (renamed)`, ...first.classes.slice(1)]);
      expect(e.images).toBe(first.images);
      expect(e.confusion).toEqual(first.confusion);
      expect(e.skipped).toEqual([]);
    } finally {
      db.prepare('UPDATE classes SET name = ? WHERE name = ?').run(old, `${old} (renamed)`);
    }
  });

  it('excluded images are not evaluated; deleted files and classes the run does not know are skipped with a reason', { timeout: 60_000 }, async () => {
    const [excluded, deleted, relabeled] = testImages();
    db.prepare('UPDATE images SET excluded = 1 WHERE id = ?').run(excluded.id);
    fs.rmSync(deleted.path);
    const newClass = Number(db.prepare(`INSERT INTO classes (name, color, position) VALUES ('purple-star', '#800080', 99)`).run().lastInsertRowid);
    db.prepare('UPDATE images SET class_id = ? WHERE id = ?').run(newClass, relabeled.id);

    const e = await evaluate();
    expect(e.cached).toBe(false);
    expect(e.images).toBe(first.images - 3);
    expect(total(e.confusion)).toBe(e.images);
    expect(e.classes).toEqual(first.classes); // the run's classes only
    expect(e.skipped).toEqual([
      { id: deleted.id, path: deleted.path, reason: 'the file no longer exists' },
      { id: relabeled.id, path: relabeled.path, reason: expect.stringMatching(/^its class "purple-star" is not one of run \d+'s classes/) },
    ].sort((a, b) => a.id - b.id));
    expect(e.skipped.some((s) => s.id === excluded.id)).toBe(false);
    expect((await evaluate()).cached).toBe(true);
  });

  it('an image whose file is no longer the format it was imported as is skipped with the reason, never decoded', { timeout: 60_000 }, async () => {
    const swapped = testImages()[3];
    fs.writeFileSync(swapped.path, '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48"><rect width="48" height="48" fill="red"/></svg>');
    const e = await evaluate({ predictAgain: true });
    expect(e.skipped).toContainEqual({ id: swapped.id, path: swapped.path, reason: 'it has changed since the import: it was imported as PNG and the file is now SVG vector graphics; import its folder again' });
  });
});

describe('eval.images', () => {
  it('a confusion-matrix cell lists exactly the images it counts', { timeout: 60_000 }, async () => {
    const e = await evaluate();
    for (let t = 0; t < e.classes.length; t++) {
      for (let p = 0; p < e.classes.length; p++) {
        const cell = await call('eval.images', { project, runId, trueClass: e.classes[t], predictedClass: e.classes[p] });
        expect(cell.total).toBe(e.confusion[t][p]);
        for (const item of cell.items) expect(item).toMatchObject({ trueClass: e.classes[t], predictedClass: e.classes[p], correct: t === p });
      }
    }
    const all = await call('eval.images', { project, runId, order: 'confidence-desc', limit: 1000 });
    expect(all.total).toBe(e.images);
    const confidences = all.items.map((i) => i.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    for (const item of all.items) {
      expect(item.top[0]).toEqual({ className: item.predictedClass, probability: item.confidence });
      expect(item.top).toHaveLength(e.classes.length);
    }
    const mistakes = await call('eval.images', { project, runId, mistakesOnly: true, order: 'confidence-asc' });
    expect(mistakes.total).toBe(e.images - trace(e.confusion));
    const page = await call('eval.images', { project, runId, order: 'path', offset: 2, limit: 3 });
    expect(page.items.map((i) => i.id)).toEqual([...all.items].sort((a, b) => (a.path < b.path ? -1 : 1)).slice(2, 5).map((i) => i.id));
  });

  it('an unknown class is refused with the known ones named', async () => {
    await expect(call('eval.images', { project, runId, trueClass: 'zebra' })).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/trueClass: "zebra" is not one of run \d+'s classes \(.*red-circle/) });
  });
});

describe('eval.predictImage', () => {
  it('predicts a file and the same bytes in base64 like the model does directly', { timeout: 60_000 }, async () => {
    const file = fixture.files['green-square'].at(-1)!;
    const byPath = await call('eval.predictImage', { project, runId, path: file, top: 2 });
    const direct = (await predictDirectly([{ id: 0, path: file }])).get(0)!;
    expect(byPath.top).toHaveLength(2);
    expect(byPath.top[0].className).toBe(direct.className);
    expect(byPath.top[0].probability).toBeCloseTo(Math.max(...direct.probs), 5);
    expect(byPath).toMatchObject({ width: 48, height: 48 });
    const bytes = fs.readFileSync(file).toString('base64');
    const byBytes = await call('eval.predictImage', { project, runId, dataBase64: `data:image/png;base64,${bytes}`, name: 'square.png' });
    expect(byBytes.top).toHaveLength(3); // the default top 5, of 3 classes
    expect(byBytes.top.slice(0, 2).map((t) => t.className)).toEqual(byPath.top.map((t) => t.className));
    expect(byBytes.top[0].probability).toBeCloseTo(byPath.top[0].probability, 6);
  });

  it('says which file is missing or not an image', async () => {
    const missing = path.join(dir, 'nope.png');
    await expect(call('eval.predictImage', { project, runId, path: missing })).rejects.toMatchObject({ code: 'not_found', message: `image file ${missing} does not exist` });
    const text = path.join(dir, 'notes.png');
    fs.writeFileSync(text, 'not an image at all');
    await expect(call('eval.predictImage', { project, runId, path: text })).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining(`${text} is not an image Effitune can read: `) });
    await expect(call('eval.predictImage', { project, runId, dataBase64: Buffer.from('hello').toString('base64'), name: 'hello.jpg' })).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('"hello.jpg" is not an image Effitune can read') });
    await expect(call('eval.predictImage', { project, runId, path: dir })).rejects.toMatchObject({ code: 'invalid_input', message: `${dir} is a folder, not an image file` });
    await expect(call('eval.predictImage', { project, runId })).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('give exactly one of path or dataBase64') });
  });
});

describe('runs that cannot be evaluated', () => {
  it('an unknown run, a run that has not finished, a finished run whose model is gone', async () => {
    await expect(call('eval.run', { project, runId: 999 })).rejects.toMatchObject({ code: 'not_found', message: 'there is no training run 999 in this project' });
    const queued = createRun(db, { config: {}, variant: 'phi=-8', resolution: 32, classes: ['a', 'b'] });
    await expect(call('eval.run', { project, runId: queued.id })).rejects.toMatchObject({ code: 'invalid_input', message: `run ${queued.id} is queued, not finished: only a completed run has a model to evaluate` });
    const orphan = createRun(db, { config: {}, variant: 'phi=-8', resolution: 32, classes: ['a', 'b'], status: 'completed', checkpointDir: path.join(dir, 'gone') });
    await expect(call('assist.suggestions', { project, runId: orphan.id })).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining(`the model of run ${orphan.id} is missing: ${path.join(dir, 'gone', 'model')} has no model.json`) });
  });
});
