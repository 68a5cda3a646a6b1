/**
 * Stratified train / validation / test split of a project's labeled images, stored in images.split.
 *
 * Counts per class, for a class of n usable labeled images (status ok, file present):
 *   test = round(testFraction · n) and val = round(valFraction · n), halves rounded up;
 *   at least 1 validation image when n ≥ 3 and valFraction > 0 (so every class is validated);
 *   at least 1 training image: if test + val would take all n, test gives one back first, then val.
 *   e.g. with 0.15 / 0.15: n = 2 → 2/0/0 (train/val/test), 3 → 2/1/0, 4 → 2/1/1, 10 → 6/2/2, 100 → 70/15/15.
 * Which images: each class's images are ordered by content hash, then shuffled by a PRNG seeded
 * from (seed, class name). So the same files and seed give the same split on any machine, whatever
 * their paths or import order, and adding a class leaves the others alone.
 *
 * Stability, because results are only comparable on the same test images:
 *   - images already in test stay in test (and nothing else enters it but images that had no split)
 *     unless resetTest; a model trained earlier never saw them, so they stay a fair test;
 *   - without reshuffle, images that have a split keep it, and only images without one (imported
 *     later) are dealt, filling each class's shortfall against its target counts;
 *   - reshuffle deals train/validation again (test untouched). It is the default when the validation
 *     fraction or the seed differs from the last split's, so changing them does what the user means.
 * Unlabeled images, rejected ones, excluded ones and files missing from disk are never touched.
 * Images moved by hand (split_source 'user', main/dataset/labels/split-moves.ts) keep their split;
 * the rest of their class is dealt around them. While the user locks the test split (split.lock),
 * nothing enters test and resetTest is refused.
 * The parameters are kept in meta('split'), so a later split of new images reuses them by default.
 */
import { ApiError, type SplitName } from '../contract/contract';
import { SplitParams, type SplitClassCounts, type SplitResult, type SplitSummary } from '../contract/calls-data';
import type { Database } from '../project/database';
import { mulberry32 } from './sample';
import { isTestLocked, LOCKED_MESSAGE } from './labels/split-moves';

export const DEFAULT_VAL_FRACTION = 0.15;
export const DEFAULT_TEST_FRACTION = 0.15;
export const DEFAULT_SPLIT_SEED = 1;
const META_KEY = 'split';

export interface SplitOptions {
  /** default: the last split's, else 0.15 */
  val?: number;
  /** default: the last split's, else 0.15 */
  test?: number;
  /** default: the last split's, else 1 */
  seed?: number;
  resetTest?: boolean;
  /** default: true when val or seed differ from the last split's (or there was none) */
  reshuffle?: boolean;
}

export interface SplitCounts {
  train: number;
  val: number;
  test: number;
}

/** Target counts of a class of n images (the rule in the header). */
export function splitCounts(n: number, valFraction: number, testFraction: number): SplitCounts {
  let test = roundHalfUp(testFraction * n);
  let val = roundHalfUp(valFraction * n);
  if (valFraction > 0 && n >= 3 && val === 0) val = 1;
  while (n >= 1 && test + val >= n) {
    if (test > 0) test--;
    else val--;
  }
  return { train: n - test - val, val, test };
}

/** Split the project (see the header for the rules) in one transaction. */
export function splitProject(handle: { db: Database }, options: SplitOptions = {}): SplitResult {
  const { db } = handle;
  const previous = readSplitParams(db);
  const val = options.val ?? previous?.val ?? DEFAULT_VAL_FRACTION;
  const test = options.test ?? previous?.test ?? DEFAULT_TEST_FRACTION;
  const seed = options.seed ?? previous?.seed ?? DEFAULT_SPLIT_SEED;
  checkParams(val, test, seed);
  const resetTest = options.resetTest === true;
  const testClosed = isTestLocked(db);
  if (testClosed && resetTest) throw new ApiError('invalid_input', `resetTest: cannot deal the test split again: ${LOCKED_MESSAGE}`);
  const reshuffle = resetTest || (options.reshuffle ?? (previous === null || previous.val !== val || previous.seed !== seed));

  return db
    .transaction((): SplitResult => {
      const images = db
        .prepare(
          `SELECT i.id, i.hash, i.split, i.split_source, c.name AS class_name FROM images i JOIN classes c ON c.id = i.class_id
           WHERE i.status = 'ok' AND i.missing = 0 AND i.excluded = 0`,
        )
        .all() as ImageRow[];
      const byClass = groupBy(images, (i) => i.class_name);
      const changes = new Map<number, SplitName>();
      const lockedOff: string[] = [];
      for (const [className, members] of byClass) {
        const target = splitCounts(members.length, val, test);
        // images moved by hand stay where they are; the others are dealt around them
        const pinned = members.filter((i) => i.split_source === 'user');
        const dealt = pinned.length === 0 ? members : members.filter((i) => i.split_source !== 'user');
        const plan = planClass(orderForSplit(dealt, seed, className), lessPinned(target, pinned), { resetTest, reshuffle, testClosed });
        let testCount = 0;
        for (const image of members) {
          const split = plan.get(image.id) ?? image.split;
          if (split === 'test') testCount++;
          if (split !== image.split && split !== null) changes.set(image.id, split);
        }
        if (testCount !== target.test) lockedOff.push(`${className} ${testCount} of ${members.length} (target ${target.test})`);
      }

      const update = db.prepare('UPDATE images SET split = ? WHERE id = ?');
      let assigned = 0;
      let moved = 0;
      const before = new Map(images.map((i) => [i.id, i.split]));
      for (const [id, split] of changes) {
        update.run(split, id);
        if (before.get(id) === null) assigned++;
        else moved++;
      }

      const now = new Date().toISOString();
      const hasTest = images.some((i) => (changes.get(i.id) ?? i.split) === 'test');
      const testDealtAt = !hasTest ? null : resetTest || !previous?.testDealtAt ? now : previous.testDealtAt;
      const params: SplitParams = { val, test, seed, splitAt: now, testDealtAt, testLocked: hasTest };
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(META_KEY, JSON.stringify(params));

      const notes: string[] = [];
      if (lockedOff.length > 0) {
        notes.push(
          `the test split is kept from earlier splits, so ${lockedOff.length} class(es) differ from the test fraction ${test}: ${lockedOff.slice(0, 5).join('; ')}${lockedOff.length > 5 ? '; ...' : ''}. Reset the test split to deal it again.`,
        );
      }
      return { ...splitSummary(handle), assigned, moved, reshuffled: reshuffle, testReset: resetTest, notes };
    })
    .immediate();
}

/** The current split: its parameters and the counts per class. */
export function splitSummary(handle: { db: Database }): SplitSummary {
  const { db } = handle;
  const rows = db
    .prepare(
      `SELECT c.id, c.name, i.split, COUNT(i.id) AS n FROM classes c
       LEFT JOIN images i ON i.class_id = c.id AND i.status = 'ok' AND i.missing = 0 AND i.excluded = 0
       GROUP BY c.id, i.split ORDER BY c.name`,
    )
    .all() as { id: number; name: string; split: SplitName | null; n: number }[];
  const classes = new Map<number, SplitClassCounts>();
  for (const row of rows) {
    let entry = classes.get(row.id);
    if (!entry) {
      entry = { id: row.id, name: row.name, total: 0, train: 0, val: 0, test: 0, unsplit: 0, fractions: { train: 0, val: 0, test: 0 } };
      classes.set(row.id, entry);
    }
    entry.total += row.n;
    entry[row.split ?? 'unsplit'] += row.n;
  }
  const totals = { images: 0, train: 0, val: 0, test: 0, unsplit: 0 };
  for (const c of classes.values()) {
    if (c.total > 0) c.fractions = { train: c.train / c.total, val: c.val / c.total, test: c.test / c.total };
    totals.images += c.total;
    totals.train += c.train;
    totals.val += c.val;
    totals.test += c.test;
    totals.unsplit += c.unsplit;
  }
  const unlabeled = db.prepare(`SELECT COUNT(*) FROM images WHERE status = 'ok' AND missing = 0 AND excluded = 0 AND class_id IS NULL`).pluck().get() as number;
  return { params: readSplitParams(db), classes: [...classes.values()], totals, unlabeled, locked: isTestLocked(db), warnings: smallClassWarnings([...classes.values()], totals) };
}

/**
 * Classes too small to train on: fewer than 2 images, or none in the train split. Before any image
 * is split that is one sentence for the whole project rather than the same one for every class.
 */
function smallClassWarnings(classes: SplitClassCounts[], totals: { images: number; unsplit: number }): string[] {
  const warnings: string[] = [];
  const nothingSplit = totals.images > 0 && totals.unsplit === totals.images;
  if (nothingSplit) warnings.push('no labeled image is split yet: split the project (train / validation / test) before training');
  for (const c of classes) {
    if (nothingSplit && c.total >= 2) continue;
    if (c.total < 2) warnings.push(`class "${c.name}" has ${c.total === 0 ? 'no images' : 'only 1 image'}: a class needs at least 2 to train on (one to learn from, one to check)`);
    else if (c.train === 0) warnings.push(`class "${c.name}" has no image in the train split: ${c.unsplit > 0 ? 'split the project to assign its new images' : 'move some images to train or split again'}`);
  }
  return warnings;
}

/** The parameters of the last split, or null before the first one (or if the stored value is damaged). */
export function readSplitParams(db: Database): SplitParams | null {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(META_KEY) as { value: string } | undefined;
  if (!row) return null;
  try {
    const parsed = SplitParams.safeParse(JSON.parse(row.value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

// ---------- planning ----------

interface ImageRow {
  id: number;
  hash: string | null;
  split: SplitName | null;
  split_source: 'user' | null;
  class_name: string;
}

/**
 * The new split of the images of one class that change or get one; `images` is in the class's PRNG
 * order. Images absent from the result keep their split.
 */
function planClass(images: ImageRow[], target: SplitCounts, mode: { resetTest: boolean; reshuffle: boolean; testClosed: boolean }): Map<number, SplitName> {
  const lockedTest = mode.resetTest ? [] : images.filter((i) => i.split === 'test');
  const rest = mode.resetTest ? images : images.filter((i) => i.split !== 'test');
  const kept = mode.reshuffle ? [] : rest.filter((i) => i.split !== null);
  const free = mode.reshuffle ? rest : rest.filter((i) => i.split === null);
  const keptTrain = kept.filter((i) => i.split === 'train').length;
  const keptVal = kept.length - keptTrain;
  // the class keeps at least one image to train on whenever it has one to give
  const trainFloor = keptTrain > 0 ? 0 : 1;

  const plan = new Map<number, SplitName>();
  // only images with no split (or every image, on a reset) may enter test: no model has trained on them
  const testEligible = mode.testClosed ? [] : free.filter((i) => mode.resetTest || i.split === null);
  const testTake = clamp(target.test - lockedTest.length, 0, Math.min(testEligible.length, free.length - trainFloor));
  for (const image of testEligible.slice(0, testTake)) plan.set(image.id, 'test');
  const remaining = free.filter((i) => !plan.has(i.id));
  const valTake = clamp(target.val - keptVal, 0, remaining.length - trainFloor);
  remaining.forEach((image, index) => plan.set(image.id, index < valTake ? 'val' : 'train'));
  return plan;
}

/** The target counts left for the images dealt automatically, once those moved by hand are counted. */
function lessPinned(target: SplitCounts, pinned: ImageRow[]): SplitCounts {
  const left = { ...target };
  for (const image of pinned) if (image.split !== null) left[image.split] = Math.max(0, left[image.split] - 1);
  return left;
}

/** Content-hash order, then a seeded Fisher–Yates shuffle: the same on every machine. */
function orderForSplit(images: ImageRow[], seed: number, className: string): ImageRow[] {
  const ordered = [...images].sort((a, b) => compareText(a.hash ?? '', b.hash ?? '') || a.id - b.id);
  const random = mulberry32(seedFor(seed, className));
  for (let i = ordered.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ordered[i], ordered[j]] = [ordered[j], ordered[i]];
  }
  return ordered;
}

/** FNV-1a over the seed and the class name's UTF-8 bytes: one independent stream per class. */
function seedFor(seed: number, className: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${seed}\u0000${className}`, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function checkParams(val: number, test: number, seed: number): void {
  for (const [name, value] of [['val', val], ['test', test]] as const) {
    if (!Number.isFinite(value) || value < 0 || value >= 1) throw new ApiError('invalid_input', `${name}: the ${name === 'val' ? 'validation' : 'test'} fraction must be at least 0 and below 1, not ${value}`);
  }
  if (val + test >= 1) throw new ApiError('invalid_input', `val: val + test must be below 1 so that each class keeps images to train on (val ${val} + test ${test} = ${Number((val + test).toFixed(6))})`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ApiError('invalid_input', `seed: must be a whole number from 0 to 4294967295, not ${seed}`);
}

/** Halves round up; the epsilon absorbs binary fractions such as 0.15 · 10 = 1.4999… */
function roundHalfUp(x: number): number {
  return Math.floor(x + 0.5 + 1e-9);
}

function clamp(x: number, low: number, high: number): number {
  return Math.max(low, Math.min(high, x));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
