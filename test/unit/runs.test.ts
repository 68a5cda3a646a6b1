/**
 * Records of training runs and the embeddings cache: the schema step that adds them (also to an
 * existing version-1 file), status changes that make sense, epochs with the best one tracked,
 * and cached vectors round-tripping bit for bit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { openDatabase, userVersion } from '../../main/project/database';
import { deleteEmbeddings, getEmbeddings, putEmbeddings } from '../../main/project/embeddings';
import { migrations } from '../../main/project/migrations';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { baselineOf, createRun, deleteRun, discardEpochsAfter, getRun, listRuns, recordEpoch, runFolderOf, runHistory, updateRunStatus, type EpochInput } from '../../main/project/runs';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
let registry: ProjectRegistry;
let handle: ProjectHandle;

beforeEach(() => {
  dir = makeTempDir('runs');
  registry = new ProjectRegistry(path.join(dir, 'home'));
  registry.create(path.join(dir, 'p.effitune'));
  handle = registry.get(path.join(dir, 'p.effitune'));
});
afterEach(() => {
  registry.closeAll();
  removeDir(dir);
});

const NEW_RUN = { config: { mode: 'head', epochs: 3, optimizer: { name: 'adam', lr: 0.001 } }, variant: 'b0', resolution: 224, classes: ['cat', 'dog'] };

function epoch(n: number, valLoss: number | null, extra: Partial<EpochInput> = {}): EpochInput {
  return { epoch: n, trainLoss: 1 / n, trainAcc: 0.5, valLoss, valAcc: valLoss === null ? null : 0.6, imagesPerSecond: 12.5, seconds: 8, lr: 0.001, batch: 16, ...extra };
}

function errorOf(f: () => unknown): ApiError {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('schema', () => {
  it('adds runs, epochs and embeddings to a project made by the first schema version, keeping its data', () => {
    const file = path.join(dir, 'old.effitune');
    const old = openDatabase(file, { create: true, migrations: migrations.slice(0, 1) });
    old.prepare(`INSERT INTO images (path, bytes, status, imported_at) VALUES ('/a.jpg', 1, 'ok', 'now')`).run();
    expect(userVersion(old)).toBe(1);
    old.close();
    const db = openDatabase(file, { create: false });
    expect(userVersion(db)).toBe(migrations.length);
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['runs', 'epochs', 'embeddings']));
    expect(db.prepare('SELECT path FROM images').pluck().all()).toEqual(['/a.jpg']);
    db.close();
  });
});

describe('runs', () => {
  it('a folder left for an id no run has had (a kill between its rename and the commit) is cleared before the id is given out', () => {
    const stray = runFolderOf(handle.path, 1);
    fs.mkdirSync(path.join(stray, 'model'), { recursive: true });
    fs.writeFileSync(path.join(stray, 'model', 'model.json'), '{}');
    const run = createRun(handle.db, { config: {}, variant: 'b0', resolution: 32, classes: ['a', 'b'] });
    expect(run.id).toBe(1);
    expect(fs.existsSync(stray)).toBe(false);
  });

  it('creates a run and reads it back with its configuration and class order', () => {
    const run = createRun(handle.db, { ...NEW_RUN, backend: 'cpu' });
    expect(run).toMatchObject({ status: 'queued', variant: 'b0', resolution: 224, classes: ['cat', 'dog'], backend: 'cpu', bestEpoch: null, epochCount: 0, lastEpoch: null, finishedAt: null, reason: null });
    expect(run.config).toEqual(NEW_RUN.config);
    expect(getRun(handle.db, run.id)).toEqual(run);
    expect(errorOf(() => getRun(handle.db, 999))).toMatchObject({ code: 'not_found', message: expect.stringContaining('999') });
    expect(errorOf(() => createRun(handle.db, { ...NEW_RUN, classes: [] })).code).toBe('invalid_input');
    expect(errorOf(() => createRun(handle.db, { ...NEW_RUN, resolution: 0 })).message).toMatch(/resolution/);
  });

  it('moves through statuses that make sense, stamping when a run finished and why', () => {
    const { id } = createRun(handle.db, NEW_RUN);
    const running = updateRunStatus(handle.db, id, 'running', { backend: 'webgpu', checkpointDir: '/x/ckpt' });
    expect(running).toMatchObject({ status: 'running', backend: 'webgpu', checkpointDir: '/x/ckpt', finishedAt: null });
    expect(updateRunStatus(handle.db, id, 'paused', { reason: 'paused by the user' })).toMatchObject({ status: 'paused', reason: 'paused by the user', backend: 'webgpu' });
    updateRunStatus(handle.db, id, 'running');
    const failed = updateRunStatus(handle.db, id, 'failed', { reason: 'the trainer process ended (SIGKILL)' });
    expect(failed.finishedAt).not.toBeNull();
    expect(failed.reason).toBe('the trainer process ended (SIGKILL)');
    // a failed run may be resumed; running clears the old reason and finish time
    expect(updateRunStatus(handle.db, id, 'running')).toMatchObject({ status: 'running', reason: null, finishedAt: null });
    const completed = updateRunStatus(handle.db, id, 'completed', { reason: 'early stopping: no better validation loss for 5 epochs' });
    expect(completed.finishedAt).not.toBeNull();

    const refused = errorOf(() => updateRunStatus(handle.db, id, 'running'));
    expect(refused.code).toBe('invalid_input');
    expect(refused.message).toMatch(/run \d+ cannot go from completed to running: a completed run is final/);
    const queued = createRun(handle.db, NEW_RUN);
    expect(errorOf(() => updateRunStatus(handle.db, queued.id, 'paused')).message).toMatch(/from queued it can become running, failed, cancelled/);
    expect(errorOf(() => updateRunStatus(handle.db, 12345, 'running')).code).toBe('not_found');
  });

  it('records epochs and keeps the best one (lowest validation loss, earliest on a tie)', () => {
    const { id } = createRun(handle.db, NEW_RUN);
    expect(recordEpoch(handle.db, id, epoch(1, 0.9)).isBest).toBe(true);
    expect(recordEpoch(handle.db, id, epoch(2, 0.5)).isBest).toBe(true);
    expect(recordEpoch(handle.db, id, epoch(3, 0.7)).isBest).toBe(false);
    const tie = recordEpoch(handle.db, id, epoch(4, 0.5));
    expect(tie.isBest).toBe(false);
    expect(tie.run).toMatchObject({ bestEpoch: 2, bestValLoss: 0.5, epochCount: 4, lastEpoch: { epoch: 4, valLoss: 0.5 } });

    const history = runHistory(handle.db, id);
    expect(history.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(history[0]).toMatchObject({ trainLoss: 1, trainAcc: 0.5, valLoss: 0.9, valAcc: 0.6, imagesPerSecond: 12.5, seconds: 8, lr: 0.001, batch: 16 });
    expect(Date.parse(history[0].at)).not.toBeNaN();

    // a resumed run repeats epoch 2 with a worse loss: it replaces the row and the best moves
    const repeated = recordEpoch(handle.db, id, epoch(2, 0.95));
    expect(repeated.run).toMatchObject({ bestEpoch: 4, bestValLoss: 0.5, epochCount: 4 });
    expect(runHistory(handle.db, id)[1].valLoss).toBe(0.95);

    // resuming from the checkpoint of epoch 1 forgets 2..4
    expect(discardEpochsAfter(handle.db, id, 1)).toBe(3);
    expect(getRun(handle.db, id)).toMatchObject({ bestEpoch: 1, bestValLoss: 0.9, epochCount: 1 });
  });

  it('stores a diverged (NaN) loss as null, has no best epoch without validation, and refuses nonsense', () => {
    const { id } = createRun(handle.db, NEW_RUN);
    const result = recordEpoch(handle.db, id, epoch(0, null, { trainLoss: Number.NaN, trainAcc: Number.POSITIVE_INFINITY }));
    expect(result.isBest).toBe(false);
    expect(result.run.bestEpoch).toBeNull();
    expect(runHistory(handle.db, id)[0]).toMatchObject({ trainLoss: null, trainAcc: null, valLoss: null });

    expect(errorOf(() => recordEpoch(handle.db, id, epoch(-1, 0.3))).message).toMatch(/epoch must be/);
    expect(errorOf(() => recordEpoch(handle.db, id, epoch(5, 0.3, { batch: 0 }))).message).toMatch(/batch must be/);
    expect(errorOf(() => recordEpoch(handle.db, id, epoch(5, 0.3, { lr: Number.NaN }))).message).toMatch(/lr must be a finite number/);
    // nothing half-written for a run that does not exist
    expect(errorOf(() => recordEpoch(handle.db, 777, epoch(1, 0.3))).code).toBe('not_found');
    expect(handle.db.prepare('SELECT COUNT(*) FROM epochs WHERE run_id = 777').pluck().get()).toBe(0);
  });

  it('lists runs newest first, by status, and deletes their epochs with them', () => {
    const a = createRun(handle.db, NEW_RUN);
    const b = createRun(handle.db, { ...NEW_RUN, variant: 'b1' });
    const c = createRun(handle.db, { ...NEW_RUN, variant: 'b2' });
    updateRunStatus(handle.db, b.id, 'running');
    expect(listRuns(handle.db).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    expect(listRuns(handle.db, { status: 'running' }).map((r) => r.variant)).toEqual(['b1']);
    expect(listRuns(handle.db, { limit: 1 }).map((r) => r.id)).toEqual([c.id]);
    recordEpoch(handle.db, a.id, epoch(1, 0.4));
    handle.db.prepare('DELETE FROM runs WHERE id = ?').run(a.id);
    expect(handle.db.prepare('SELECT COUNT(*) FROM epochs').pluck().get()).toBe(0);
  });
});

describe('embeddings cache', () => {
  const key = { weightsKey: 'b0-imagenet-notop', resolution: 224 };

  it('stores vectors per content hash, weights and resolution, bit for bit', () => {
    const vectors = new Map(['h1', 'h2', 'h3'].map((h, i) => [h, Float32Array.from({ length: 1280 }, (_, j) => Math.sin(i * 1000 + j) * 1e3)]));
    vectors.get('h1')![0] = -0;
    vectors.get('h1')![1] = 3.4e38;
    expect(putEmbeddings(handle.db, key, [...vectors].map(([hash, vector]) => ({ hash, vector })))).toBe(3);

    const found = getEmbeddings(handle.db, key, ['h1', 'h3', 'unknown']);
    expect([...found.keys()].sort()).toEqual(['h1', 'h3']);
    expect(found.get('h1')).toEqual(vectors.get('h1'));
    expect(Object.is(found.get('h1')![0], -0)).toBe(true);
    expect(found.get('h3')).toEqual(vectors.get('h3'));
    // another resolution or other weights: other entries
    expect(getEmbeddings(handle.db, { ...key, resolution: 240 }, ['h1']).size).toBe(0);
    expect(getEmbeddings(handle.db, { ...key, weightsKey: 'b0-other' }, ['h1']).size).toBe(0);
    expect(getEmbeddings(handle.db, key, []).size).toBe(0);

    // replacing a vector
    putEmbeddings(handle.db, key, [{ hash: 'h2', vector: new Float32Array(1280).fill(7) }]);
    expect(getEmbeddings(handle.db, key, ['h2']).get('h2')![100]).toBe(7);
  });

  it('looks up many hashes in one query and deletes by weights', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ hash: `hash-${i}`, vector: Float32Array.of(i, -i) }));
    putEmbeddings(handle.db, key, many);
    putEmbeddings(handle.db, { ...key, weightsKey: 'other' }, many.slice(0, 10));
    const found = getEmbeddings(handle.db, key, many.map((m) => m.hash));
    expect(found.size).toBe(3000);
    expect([...found.get('hash-2999')!]).toEqual([2999, -2999]);
    expect(deleteEmbeddings(handle.db, 'other')).toBe(10);
    expect(deleteEmbeddings(handle.db)).toBe(3000);
  });

  it('refuses vectors of different lengths without writing any', () => {
    const error = errorOf(() =>
      putEmbeddings(handle.db, key, [
        { hash: 'a', vector: new Float32Array(4) },
        { hash: 'b', vector: new Float32Array(5) },
      ]),
    );
    expect(error.message).toMatch(/embedding of b has 5 values; expected 4/);
    expect(getEmbeddings(handle.db, key, ['a']).size).toBe(0);
    expect(errorOf(() => putEmbeddings(handle.db, { weightsKey: '', resolution: 224 }, [{ hash: 'a', vector: new Float32Array(1) }])).code).toBe('invalid_input');
  });
});

describe("a run's classes after class edits", () => {
  it('shows a renamed class under its new name in its place; a deleted one keeps its name, marked when that name is taken', () => {
    const { db } = handle;
    const add = db.prepare("INSERT INTO classes (name, color) VALUES (?, '#123456')");
    const cat = Number(add.run('cat').lastInsertRowid);
    const dog = Number(add.run('dog').lastInsertRowid);
    const run = createRun(db, { ...NEW_RUN, classes: ['cat', 'dog'] });
    expect(run.classes).toEqual(['cat', 'dog']);

    db.prepare('UPDATE classes SET name = ? WHERE id = ?').run('chat', cat);
    expect(getRun(db, run.id).classes).toEqual(['chat', 'dog']);
    expect(listRuns(db)[0].classes).toEqual(['chat', 'dog']);

    // "dog" deleted, then "chat" renamed to "dog": the run's names stay unique
    db.prepare('DELETE FROM classes WHERE id = ?').run(dog);
    db.prepare('UPDATE classes SET name = ? WHERE id = ?').run('dog', cat);
    expect(getRun(db, run.id).classes).toEqual(['dog', 'dog (removed class)']);
  });

  it('gives runs made before class ids were stored the ids of the classes with their names (schema step 5 -> 6)', () => {
    const file = path.join(dir, 'old.effitune');
    const old = openDatabase(file, { create: true, migrations: migrations.slice(0, 5) });
    old.prepare("INSERT INTO classes (name, color) VALUES ('a', '#111111'), ('b', '#222222')").run();
    old.prepare(
      `INSERT INTO runs (created_at, updated_at, status, config, variant, resolution, classes) VALUES ('t', 't', 'completed', '{}', 'b0', 224, '["b","gone","a"]')`,
    ).run();
    old.close();
    const db = openDatabase(file, { create: false });
    expect(userVersion(db)).toBe(migrations.length);
    expect(JSON.parse(db.prepare('SELECT class_ids FROM runs').pluck().get() as string)).toEqual([2, null, 1]);
    db.prepare("UPDATE classes SET name = 'bee' WHERE id = 2").run();
    expect(getRun(db, 1).classes).toEqual(['bee', 'gone', 'a']);
    db.close();
  });
});

describe('the kept model against guessing (RunBaseline)', () => {
  it('is not above chance at 1 / classes, nor above the majority share of the validation split', () => {
    expect(baselineOf(null, ['a', 'b'], [5, 5])).toBeNull();
    expect(baselineOf(0.5, ['a', 'b'], [5, 5])).toMatchObject({ chance: 0.5, majority: 0.5, majorityClass: 'a', aboveBaseline: false, warning: expect.stringMatching(/^validation accuracy 50\.0 % is not above chance \(50\.0 % with 2 classes\)/) });
    // 1/3 computed as 5 of 15 counts as chance, not a hair above it
    expect(baselineOf(5 / 15, ['a', 'b', 'c'], [5, 5, 5])!.aboveBaseline).toBe(false);
    // above chance (1/3) but below always answering "big" (60 % of the validation images)
    const imbalanced = baselineOf(0.55, ['big', 'small', 'tiny'], [12, 5, 3])!;
    expect(imbalanced).toMatchObject({ chance: 1 / 3, majority: 0.6, majorityClass: 'big', aboveBaseline: false });
    expect(imbalanced.warning).toMatch(/^validation accuracy 55\.0 % is not above always answering "big" \(60\.0 % of the validation images\)/);
    expect(baselineOf(0.61, ['big', 'small', 'tiny'], [12, 5, 3])).toMatchObject({ aboveBaseline: true, warning: null });
    // without stored counts only chance is known
    expect(baselineOf(0.4, ['a', 'b', 'c'], null)).toMatchObject({ majority: null, majorityClass: null, aboveBaseline: true });
  });

  it('is read with the run: the kept (best validation loss) epoch against the stored validation counts', () => {
    const { id } = createRun(handle.db, { ...NEW_RUN, valCounts: [8, 2] });
    expect(getRun(handle.db, id).baseline).toBeNull();
    recordEpoch(handle.db, id, epoch(0, 0.6, { valAcc: 0.9 }));
    recordEpoch(handle.db, id, epoch(1, 0.5, { valAcc: 0.8 }));
    // a later, worse epoch is not what the run keeps
    recordEpoch(handle.db, id, epoch(2, 0.7, { valAcc: 0.95 }));
    expect(getRun(handle.db, id).baseline).toMatchObject({ valAcc: 0.8, majority: 0.8, majorityClass: 'cat', aboveBaseline: false });
    recordEpoch(handle.db, id, epoch(3, 0.4, { valAcc: 0.85 }));
    expect(listRuns(handle.db)[0].baseline).toMatchObject({ valAcc: 0.85, aboveBaseline: true, warning: null });
    expect(errorOf(() => createRun(handle.db, { ...NEW_RUN, valCounts: [1] })).message).toMatch(/valCounts: 1 counts for 2 classes/);
  });

  it('gives runs made before validation counts were stored the counts of the current validation split (schema step 6 -> 7)', () => {
    const file = path.join(dir, 'old6.effitune');
    const old = openDatabase(file, { create: true, migrations: migrations.slice(0, 6) });
    old.prepare("INSERT INTO classes (name, color) VALUES ('a', '#111111'), ('b', '#222222')").run();
    const image = old.prepare("INSERT INTO images (path, bytes, status, class_id, split, imported_at) VALUES (?, 1, 'ok', ?, ?, 'now')");
    for (const [i, cls, split] of [[1, 1, 'val'], [2, 1, 'val'], [3, 1, 'train'], [4, 2, 'val']] as const) image.run(`/${i}.png`, cls, split);
    old.prepare("UPDATE images SET excluded = 1 WHERE path = '/2.png'").run();
    old.prepare(`INSERT INTO runs (created_at, updated_at, status, config, variant, resolution, classes, class_ids) VALUES ('t', 't', 'completed', '{}', 'b0', 224, '["b","a"]', '[2,1]')`).run();
    old.close();
    const db = openDatabase(file, { create: false });
    expect(userVersion(db)).toBe(migrations.length);
    expect(JSON.parse(db.prepare('SELECT val_counts FROM runs').pluck().get() as string)).toEqual([1, 1]);
    db.close();
  });
});

describe('deleting a run', () => {
  function finishedRun(): number {
    const { id } = createRun(handle.db, NEW_RUN);
    updateRunStatus(handle.db, id, 'running');
    recordEpoch(handle.db, id, epoch(0, 0.5));
    handle.db.prepare("INSERT INTO run_notes (run_id, at, kind, message) VALUES (?, 'now', 'info', 'a note')").run(id);
    updateRunStatus(handle.db, id, 'completed');
    return id;
  }

  it('removes its rows (epochs and notes by cascade) and its folder, and its id is never given again', () => {
    const keep = finishedRun();
    const id = finishedRun();
    const folder = runFolderOf(handle.path, id);
    expect(folder).toBe(path.join(`${handle.path}.d`, 'runs', String(id)));
    fs.mkdirSync(path.join(folder, 'model'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'model', 'model.json'), '{}');

    expect(deleteRun(handle, id)).toEqual({ id, folder, folderExisted: true });
    expect(fs.existsSync(folder)).toBe(false);
    expect(errorOf(() => getRun(handle.db, id)).code).toBe('not_found');
    for (const table of ['epochs', 'run_notes']) expect(handle.db.prepare(`SELECT COUNT(*) FROM ${table} WHERE run_id = ?`).pluck().get(id)).toBe(0);
    // the other run is untouched
    expect(runHistory(handle.db, keep)).toHaveLength(1);
    // the deleted run had the highest id: the next run does not take it over
    expect(createRun(handle.db, NEW_RUN).id).toBe(id + 1);
    expect(errorOf(() => deleteRun(handle, id)).code).toBe('not_found');
    // a run without a folder goes too
    expect(deleteRun(handle, keep)).toMatchObject({ id: keep, folderExisted: false });
  });

  it('refuses a run that is queued, running or paused (busy), keeping everything', () => {
    const { id } = createRun(handle.db, NEW_RUN);
    expect(errorOf(() => deleteRun(handle, id))).toMatchObject({ code: 'busy', message: `run ${id} is queued: cancel it before deleting it` });
    updateRunStatus(handle.db, id, 'running');
    recordEpoch(handle.db, id, epoch(0, 0.5));
    fs.mkdirSync(runFolderOf(handle.path, id), { recursive: true });
    expect(errorOf(() => deleteRun(handle, id))).toMatchObject({ code: 'busy', message: expect.stringMatching(/is running: cancel it \(or let it finish\)/) });
    updateRunStatus(handle.db, id, 'paused');
    expect(errorOf(() => deleteRun(handle, id)).code).toBe('busy');
    expect(runHistory(handle.db, id)).toHaveLength(1);
    expect(fs.existsSync(runFolderOf(handle.path, id))).toBe(true);
  });
});
