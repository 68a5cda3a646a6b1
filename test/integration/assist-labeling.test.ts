/**
 * Model-assisted labeling through the service (assist.suggestions, assist.disagreements) on the
 * trained-run fixture: deliberately mislabeled images come back as disagreements, most confident
 * first; unlabeled images get the model's class, least confident first (ties: the smaller
 * top-1/top-2 margin first); excluded images are left out, missing files reported; predictions
 * are stored, so paging predicts nothing again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PredictProgress } from '../../main/contract/calls-eval';
import { Service } from '../../main/service/service';
import { writePredictions } from '../../main/eval/prediction-store';
import type { Database } from '../../main/project/database';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainedRun, type TrainedRun } from '../fixtures/trained-run';

let dir: string;
let fixture: TrainedRun;
let service: Service;
let db: Database;
let project: string;
let runId: number;
let classes: string[];
const events: PredictProgress[] = [];

beforeAll(async () => {
  dir = makeTempDir('assist');
  fixture = await createTrainedRun(dir);
  fixture.registry.closeAll();
  ({ file: project, runId } = fixture);
  service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
  service.onEvent((event, payload) => {
    if (event === 'predict.progress') events.push(payload as PredictProgress);
  });
  db = service.projects.get(project).db;
  classes = JSON.parse((db.prepare('SELECT classes FROM runs WHERE id = ?').get(runId) as { classes: string }).classes);
}, 120_000);

afterAll(() => {
  service?.close();
  removeDir(dir);
});

/** The service's calls, predicting on wasm (the CPU default) so no backend probe runs in the predictor process. */
const call: Service['call'] = (name, input) => service.call(name, { backend: 'wasm', ...(input as object) });

const classId = (name: string) => (db.prepare('SELECT id FROM classes WHERE name = ?').get(name) as { id: number }).id;

describe('assist.disagreements', () => {
  it('finds deliberately mislabeled images, most confident first', { timeout: 90_000 }, async () => {
    // the three training images the model is surest of, each given the wrong label
    const train = await call('eval.images', { project, runId, split: 'train', order: 'confidence-desc', limit: 1000 });
    const sure = train.items.filter((i) => i.correct).slice(0, 3);
    expect(sure).toHaveLength(3);
    const wrong = new Map(sure.map((i) => [i.id, classes[(classes.indexOf(i.trueClass!) + 1) % classes.length]]));
    for (const [id, label] of wrong) db.prepare('UPDATE images SET class_id = ? WHERE id = ?').run(classId(label), id);

    const minConfidence = Math.min(...sure.map((i) => i.confidence));
    const predictedBefore = events.length;
    const found = await call('assist.disagreements', { project, runId, minConfidence, limit: 1000 });
    for (const image of sure) {
      expect(found.items.find((i) => i.id === image.id)).toMatchObject({ trueClass: wrong.get(image.id), predictedClass: image.predictedClass, correct: false, confidence: image.confidence });
    }
    expect(found.total).toBe(found.items.length);
    for (const item of found.items) {
      expect(item.predictedClass).not.toBe(item.trueClass);
      expect(item.confidence).toBeGreaterThanOrEqual(minConfidence);
    }
    const confidences = found.items.map((i) => i.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    expect(found.skipped).toEqual([]);
    // the training images were predicted by eval.images; the validation and test ones now
    const notTrain = (db.prepare(`SELECT COUNT(*) AS n FROM images WHERE class_id IS NOT NULL AND split != 'train'`).get() as { n: number }).n;
    expect(events.slice(predictedBefore).at(-1)).toEqual({ project, runId, purpose: 'assist', done: notTrain, total: notTrain });

    // a higher bar keeps only the surer ones; every labeled image was predicted once and stored
    const before = events.length;
    const strict = await call('assist.disagreements', { project, runId, minConfidence: confidences[0], limit: 1000 });
    expect(strict.items.every((i) => i.confidence >= confidences[0])).toBe(true);
    expect(strict.total).toBeLessThanOrEqual(found.total);
    expect(events.length).toBe(before);
  });
});

describe('keeping a label (labels.confirm)', () => {
  it('takes the image off the likely label errors until its label changes', { timeout: 90_000 }, async () => {
    const all = await call('assist.disagreements', { project, runId, minConfidence: 0, limit: 1000 });
    expect(all.total).toBeGreaterThan(0);
    const kept = all.items[0];
    expect(await call('labels.confirm', { project, imageIds: [kept.id] })).toEqual({ confirmed: 1 });
    const history = await call('labels.history', { project, imageId: kept.id });
    expect(history.entries.at(-1)).toMatchObject({ fromClass: kept.trueClass, toClass: kept.trueClass, source: 'user' });

    const after = await call('assist.disagreements', { project, runId, minConfidence: 0, limit: 1000 });
    expect(after.items.map((i) => i.id)).not.toContain(kept.id);
    expect(after.total).toBe(all.total - 1);

    // relabeled to another class the model still disagrees with: it is a new label, so listed again
    const other = classes.find((c) => c !== kept.trueClass && c !== kept.predictedClass)!;
    await call('labels.set', { project, imageIds: [kept.id], class: other });
    const again = await call('assist.disagreements', { project, runId, minConfidence: 0, limit: 1000 });
    expect(again.items.find((i) => i.id === kept.id)).toMatchObject({ trueClass: other });
  });
});

describe('assist.suggestions', () => {
  let unlabeled: { id: number; path: string; label: string }[];

  beforeAll(() => {
    // unlabel the validation images: the model never trained on them
    unlabeled = db.prepare(`SELECT i.id, i.path, c.name AS label FROM images i JOIN classes c ON c.id = i.class_id WHERE i.split = 'val' ORDER BY i.id`).all() as typeof unlabeled;
    db.prepare(`UPDATE images SET class_id = NULL, split = NULL WHERE split = 'val'`).run();
  });

  it("suggests the model's class for every unlabeled image, least confident first", { timeout: 90_000 }, async () => {
    const before = events.length;
    const s = await call('assist.suggestions', { project, runId, limit: 1000 });
    expect(s.total).toBe(unlabeled.length);
    expect(new Set(s.items.map((i) => i.id))).toEqual(new Set(unlabeled.map((u) => u.id)));
    const confidences = s.items.map((i) => i.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => a - b));
    for (const item of s.items) expect(item).toMatchObject({ trueClass: null, correct: null });
    // predicted and stored by assist.disagreements while they were labeled: stored by image, not by label
    expect(events.length).toBe(before);

    // the suggestion is what the model says for the file ("try an image" on the same file)
    for (const item of s.items.slice(0, 3)) {
      const tried = await call('eval.predictImage', { project, runId, path: item.path, top: 1 });
      expect(tried.top[0].className).toBe(item.predictedClass);
      expect(tried.top[0].probability).toBeCloseTo(item.confidence, 5);
    }
    // the shapes are easy: most suggestions are the label the image had
    const right = s.items.filter((i) => i.predictedClass === unlabeled.find((u) => u.id === i.id)!.label).length;
    expect(right).toBeGreaterThan(unlabeled.length / 2);

    // confident order is the reverse; pages come from the stored predictions
    const after = events.length;
    const confident = await call('assist.suggestions', { project, runId, order: 'confident', offset: 1, limit: 2 });
    expect(confident.items.map((i) => i.id)).toEqual([...s.items].reverse().slice(1, 3).map((i) => i.id));
    expect(events.length).toBe(after);
  });

  it('breaks a tie in confidence by the smaller margin between the two most probable classes', { timeout: 60_000 }, async () => {
    const [a, b, c, d] = unlabeled;
    const hash = (id: number) => (db.prepare('SELECT hash FROM images WHERE id = ?').get(id) as { hash: string }).hash;
    const stored = [
      { imageId: a.id, probs: [0.5, 0.3, 0.2] }, // 0.5, margin 0.2
      { imageId: b.id, probs: [0.5, 0.5, 0] }, // 0.5, margin 0
      { imageId: c.id, probs: [0.9, 0.05, 0.05] },
      { imageId: d.id, probs: [0.4, 0.35, 0.25] },
    ];
    writePredictions(db, runId, stored.map((p) => ({ ...p, hash: hash(p.imageId), probs: new Float32Array(p.probs) })));
    const others = new Set(unlabeled.slice(4).map((u) => u.id));
    const order = (await call('assist.suggestions', { project, runId, limit: 1000 })).items.map((i) => i.id).filter((id) => !others.has(id));
    expect(order).toEqual([d.id, b.id, a.id, c.id]);
    const confident = (await call('assist.suggestions', { project, runId, order: 'confident', limit: 1000 })).items.map((i) => i.id).filter((id) => !others.has(id));
    expect(confident).toEqual([c.id, a.id, b.id, d.id]);
  });

  it('leaves out excluded images and reports files gone from disk', { timeout: 60_000 }, async () => {
    const [excluded, gone] = unlabeled;
    db.prepare('UPDATE images SET excluded = 1 WHERE id = ?').run(excluded.id);
    fs.rmSync(gone.path);
    const s = await call('assist.suggestions', { project, runId, limit: 1000 });
    expect(s.total).toBe(unlabeled.length - 2);
    expect(s.items.some((i) => i.id === excluded.id || i.id === gone.id)).toBe(false);
    expect(s.skipped).toEqual([{ id: gone.id, path: gone.path, reason: 'the file no longer exists' }]);
  });
});
