/**
 * The stratified split: exact counts per class, the same split on any machine for the same files
 * and seed, a test split that stays fixed, new images assigned without moving old ones, and
 * parameters validated and remembered. Rows are inserted directly: no image files are needed.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type SplitName } from '../../main/contract/contract';
import { readSplitParams, splitCounts, splitProject, splitSummary } from '../../main/dataset/split';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
let registry: ProjectRegistry;
let projects = 0;

beforeEach(() => {
  dir = makeTempDir('split');
  registry = new ProjectRegistry(path.join(dir, 'home'));
});
afterEach(() => {
  registry.closeAll();
  removeDir(dir);
});

function newProject(): ProjectHandle {
  const file = path.join(dir, `p${++projects}.effitune`);
  registry.create(file);
  return registry.get(file);
}

interface AddOptions {
  status?: 'ok' | 'rejected' | 'duplicate';
  missing?: boolean;
  split?: SplitName | null;
  prefix?: string;
}

/** `count` images of a class (null: unlabeled) whose content hashes are `${className}-${i}`. */
function addImages(handle: ProjectHandle, className: string | null, count: number, options: AddOptions = {}): number[] {
  const { db } = handle;
  let classId: number | null = null;
  if (className !== null) {
    db.prepare('INSERT OR IGNORE INTO classes (name, color) VALUES (?, ?)').run(className, '#123456');
    classId = (db.prepare('SELECT id FROM classes WHERE name = ?').get(className) as { id: number }).id;
  }
  const insert = db.prepare(
    `INSERT INTO images (path, bytes, mtime_ms, hash, status, class_id, split, missing, width, height, format, imported_at)
     VALUES (?, 1, 0, ?, ?, ?, ?, ?, 10, 10, 'jpeg', '2024-01-01T00:00:00Z')`,
  );
  const status = options.status ?? 'ok';
  const ids: number[] = [];
  const start = (db.prepare('SELECT COUNT(*) FROM images').pluck().get() as number) + 1;
  for (let i = 0; i < count; i++) {
    const hash = `${className ?? 'none'}-${options.prefix ?? ''}${start + i}`;
    const file = `/data/${options.prefix ?? ''}${className ?? 'loose'}/${start + i}.jpg`;
    ids.push(Number(insert.run(file, status === 'ok' ? hash : null, status, classId, options.split ?? null, options.missing ? 1 : 0).lastInsertRowid));
  }
  return ids;
}

function splitsById(handle: ProjectHandle): Map<number, SplitName | null> {
  const rows = handle.db.prepare('SELECT id, split FROM images').all() as { id: number; split: SplitName | null }[];
  return new Map(rows.map((r) => [r.id, r.split]));
}

function splitsByHash(handle: ProjectHandle): Map<string, SplitName | null> {
  const rows = handle.db.prepare('SELECT hash, split FROM images WHERE hash IS NOT NULL').all() as { hash: string; split: SplitName | null }[];
  return new Map(rows.map((r) => [r.hash, r.split]));
}

function countsOf(handle: ProjectHandle, className: string) {
  const c = splitSummary(handle).classes.find((k) => k.name === className)!;
  return { train: c.train, val: c.val, test: c.test };
}

describe('splitCounts (the per-class rule)', () => {
  it.each([
    [0, 0, 0, 0],
    [1, 1, 0, 0],
    [2, 2, 0, 0],
    [3, 2, 1, 0],
    [4, 2, 1, 1],
    [7, 5, 1, 1],
    [10, 6, 2, 2],
    [20, 14, 3, 3],
    [100, 70, 15, 15],
  ])('n = %i with 0.15 / 0.15 gives %i train, %i val, %i test', (n, train, val, test) => {
    expect(splitCounts(n, 0.15, 0.15)).toEqual({ train, val, test });
  });

  it('rounds halves up, keeps one train image and one val image per class of 3 or more', () => {
    expect(splitCounts(10, 0.25, 0.25)).toEqual({ train: 4, val: 3, test: 3 }); // 2.5 → 3
    expect(splitCounts(2, 0.5, 0.49)).toEqual({ train: 1, val: 1, test: 0 }); // test gives back first
    expect(splitCounts(3, 0.01, 0)).toEqual({ train: 2, val: 1, test: 0 });
    expect(splitCounts(3, 0, 0.5)).toEqual({ train: 1, val: 0, test: 2 });
    expect(splitCounts(50, 0, 0)).toEqual({ train: 50, val: 0, test: 0 });
  });

  it('always leaves at least one training image for any fractions below 1', () => {
    for (let n = 1; n <= 40; n++) {
      for (const val of [0, 0.1, 0.3, 0.5, 0.9]) {
        for (const test of [0, 0.05, 0.3, 0.45]) {
          if (val + test >= 1) continue;
          const c = splitCounts(n, val, test);
          expect(c.train + c.val + c.test).toBe(n);
          expect(c.train).toBeGreaterThanOrEqual(1);
          expect(Math.min(c.val, c.test)).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });
});

describe('splitProject', () => {
  it('gives every class its exact counts and leaves unlabeled, rejected and missing images alone', () => {
    const p = newProject();
    addImages(p, 'ant', 100);
    addImages(p, 'bee', 10);
    addImages(p, 'cat', 3);
    addImages(p, 'dog', 1);
    const loose = addImages(p, null, 5);
    const rejected = addImages(p, 'ant', 4, { status: 'rejected' });
    const missing = addImages(p, 'ant', 3, { missing: true });

    const result = splitProject(p, { val: 0.15, test: 0.15, seed: 7 });
    expect(countsOf(p, 'ant')).toEqual({ train: 70, val: 15, test: 15 });
    expect(countsOf(p, 'bee')).toEqual({ train: 6, val: 2, test: 2 });
    expect(countsOf(p, 'cat')).toEqual({ train: 2, val: 1, test: 0 });
    expect(countsOf(p, 'dog')).toEqual({ train: 1, val: 0, test: 0 });
    const splits = splitsById(p);
    for (const id of [...loose, ...rejected, ...missing]) expect(splits.get(id)).toBeNull();

    expect(result.assigned).toBe(114);
    expect(result.moved).toBe(0);
    expect(result.totals).toEqual({ images: 114, train: 79, val: 18, test: 17, unsplit: 0 });
    expect(result.unlabeled).toBe(5);
    const bee = result.classes.find((c) => c.name === 'bee')!;
    expect(bee.fractions).toEqual({ train: 0.6, val: 0.2, test: 0.2 });
    expect(result.params).toMatchObject({ val: 0.15, test: 0.15, seed: 7, testLocked: true });
    expect(result.params!.testDealtAt).toBe(result.params!.splitAt);
  });

  it('gives the same split for the same files and seed whatever their paths or import order', () => {
    const a = newProject();
    const b = newProject();
    addImages(a, 'ant', 30);
    addImages(a, 'bee', 20);
    // b: other classes first, so other ids and other paths
    addImages(b, 'zzz', 7, { prefix: 'x' });
    for (const hash of [...splitsByHash(a).keys()].reverse()) {
      const [className] = hash.split('-');
      b.db.prepare('INSERT OR IGNORE INTO classes (name, color) VALUES (?, ?)').run(className, '#000000');
      const classId = (b.db.prepare('SELECT id FROM classes WHERE name = ?').get(className) as { id: number }).id;
      b.db.prepare(`INSERT INTO images (path, bytes, hash, status, class_id, imported_at) VALUES (?, 1, ?, 'ok', ?, 'now')`).run(`/elsewhere/${hash}.png`, hash, classId);
    }
    splitProject(a, { seed: 3 });
    splitProject(b, { seed: 3 });
    const inA = splitsByHash(a);
    const inB = splitsByHash(b);
    for (const [hash, split] of inA) expect(inB.get(hash), hash).toBe(split);

    // and adding a class ("zzz" in b) did not change the others; another seed does
    const c = newProject();
    addImages(c, 'ant', 30);
    addImages(c, 'bee', 20);
    splitProject(c, { seed: 4 });
    const inC = splitsByHash(c);
    expect([...inA].filter(([hash, split]) => inC.get(hash) !== split).length).toBeGreaterThan(0);
  });

  it('keeps the test split fixed when fractions or seed change, and re-deals train/validation', () => {
    const p = newProject();
    addImages(p, 'ant', 40);
    addImages(p, 'bee', 20);
    splitProject(p, { val: 0.2, test: 0.2, seed: 1 });
    const first = splitsById(p);
    const testIds = [...first].filter(([, s]) => s === 'test').map(([id]) => id);
    expect(testIds).toHaveLength(12);

    const result = splitProject(p, { val: 0.3, seed: 99 });
    const second = splitsById(p);
    for (const id of testIds) expect(second.get(id)).toBe('test');
    expect([...second.values()].filter((s) => s === 'test')).toHaveLength(12);
    expect(countsOf(p, 'ant')).toEqual({ train: 20, val: 12, test: 8 });
    expect(result.reshuffled).toBe(true);
    expect(result.moved).toBeGreaterThan(0);
    expect(result.params).toMatchObject({ val: 0.3, test: 0.2, seed: 99 });
    // no train/val image ever entered test
    for (const [id, split] of second) if (split === 'test') expect(first.get(id)).toBe('test');
  });

  it('does not move anything when re-run with the same parameters', () => {
    const p = newProject();
    addImages(p, 'ant', 33);
    addImages(p, 'bee', 9);
    splitProject(p, { val: 0.15, test: 0.15, seed: 5 });
    const before = splitsById(p);
    const again = splitProject(p, {});
    expect(again.assigned + again.moved).toBe(0);
    expect(again.reshuffled).toBe(false);
    expect(splitsById(p)).toEqual(before);
    // an explicit reshuffle with the same seed deals the same train/validation again
    const reshuffled = splitProject(p, { reshuffle: true });
    expect(reshuffled.reshuffled).toBe(true);
    expect(splitsById(p)).toEqual(before);
  });

  it('assigns images imported later without moving the old ones, filling each class towards its targets', () => {
    const p = newProject();
    addImages(p, 'ant', 20);
    const first = splitProject(p, { val: 0.15, test: 0.15, seed: 2 });
    const before = splitsById(p);
    const added = addImages(p, 'ant', 20, { prefix: 'new' });
    const result = splitProject(p, {});
    expect(result.assigned).toBe(20);
    expect(result.moved).toBe(0);
    const after = splitsById(p);
    for (const [id, split] of before) expect(after.get(id)).toBe(split);
    for (const id of added) expect(after.get(id)).not.toBeNull();
    expect(countsOf(p, 'ant')).toEqual({ train: 28, val: 6, test: 6 });
    expect(result.params!.testDealtAt).toBe(first.params!.splitAt);
  });

  it('resetTest deals the test split again', () => {
    const p = newProject();
    addImages(p, 'ant', 60);
    splitProject(p, { val: 0.1, test: 0.2, seed: 1 });
    const firstTest = new Set([...splitsById(p)].filter(([, s]) => s === 'test').map(([id]) => id));
    const result = splitProject(p, { seed: 2, resetTest: true });
    const secondTest = [...splitsById(p)].filter(([, s]) => s === 'test').map(([id]) => id);
    expect(secondTest).toHaveLength(12);
    expect(secondTest.some((id) => !firstTest.has(id))).toBe(true);
    expect(result.testReset).toBe(true);
    expect(result.params!.testDealtAt).toBe(result.params!.splitAt);
  });

  it('says so when a locked test split cannot follow a new test fraction', () => {
    const p = newProject();
    addImages(p, 'ant', 20);
    splitProject(p, { val: 0.1, test: 0.1 });
    const result = splitProject(p, { test: 0.3 });
    expect(countsOf(p, 'ant').test).toBe(2);
    expect(result.notes.join(' ')).toMatch(/test split is kept.*ant 2 of 20 \(target 6\).*Reset the test split/);
    const reset = splitProject(p, { resetTest: true });
    expect(countsOf(p, 'ant').test).toBe(6);
    expect(reset.notes).toEqual([]);
  });

  it('remembers its parameters and uses them as defaults', () => {
    const p = newProject();
    addImages(p, 'ant', 10);
    expect(readSplitParams(p.db)).toBeNull();
    expect(splitSummary(p).params).toBeNull();
    const first = splitProject(p, {});
    expect(first.params).toMatchObject({ val: 0.15, test: 0.15, seed: 1 });
    splitProject(p, { val: 0.2, test: 0.1, seed: 12 });
    expect(splitProject(p, {}).params).toMatchObject({ val: 0.2, test: 0.1, seed: 12 });
    // a project with no test images is not locked
    const q = newProject();
    addImages(q, 'ant', 10);
    expect(splitProject(q, { test: 0 }).params).toMatchObject({ testLocked: false, testDealtAt: null });
  });

  it('refuses bad parameters with a message naming the field, before changing anything', () => {
    const p = newProject();
    addImages(p, 'ant', 10);
    const bad: [object, RegExp][] = [
      [{ val: 1 }, /^val: .*below 1/],
      [{ test: -0.1 }, /^test: .*at least 0/],
      [{ val: Number.NaN }, /^val: /],
      [{ val: 0.6, test: 0.5 }, /^val: val \+ test must be below 1 .*= 1\.1\)/],
      [{ seed: 1.5 }, /^seed: /],
      [{ seed: -1 }, /^seed: /],
    ];
    for (const [options, message] of bad) {
      let error: unknown;
      try {
        splitProject(p, options);
      } catch (err) {
        error = err;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('invalid_input');
      expect((error as ApiError).message).toMatch(message);
    }
    expect([...splitsById(p).values()].every((s) => s === null)).toBe(true);
    expect(readSplitParams(p.db)).toBeNull();
  });
});
