import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type ImageFilter, type ImageStatus, type SplitName } from '../../main/contract/contract';
import { mulberry32 } from '../../main/dataset/sample';
import { getImageDetail, getThumbnail, listImages, projectStatus } from '../../main/project/queries';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { makeTempDir, removeDir } from '../fixtures/temp';

interface Row {
  id: number;
  path: string;
  status: ImageStatus;
  classId: number | null;
  split: SplitName | null;
  missing: boolean;
}

// the user's class order (position) deliberately differs from both id and name order, so ordering by either would be caught
const CLASSES = [
  { id: 1, name: 'zebra', position: 2 },
  { id: 2, name: 'ant', position: 4 },
  { id: 3, name: 'moth', position: 1 },
  { id: 4, name: 'empty class', position: 3 },
];

let dir: string;
let registry: ProjectRegistry;
let handle: ProjectHandle;
let rows: Row[];

/** A project of random rows: every combination of class, status, split, missing, awkward paths. */
function seed(count: number): Row[] {
  const random = mulberry32(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const { db } = handle;
  for (const c of CLASSES) db.prepare('INSERT INTO classes (id, name, color, position) VALUES (?, ?, ?, ?)').run(c.id, c.name, '#000000', c.position);
  const insert = db.prepare(
    `INSERT INTO images (path, bytes, mtime_ms, hash, status, reason, class_id, split, missing, width, height, format, imported_at)
     VALUES (?, 100, 0, ?, ?, ?, ?, ?, ?, 10, 20, 'jpeg', '2024-01-01T00:00:00.000Z')`,
  );
  const thumb = db.prepare('INSERT INTO thumbnails (image_id, webp) VALUES (?, ?)');
  const out: Row[] = [];
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const status = pick(['ok', 'ok', 'ok', 'rejected', 'duplicate'] as const);
      const classId = pick([1, 2, 3, null, null]);
      const split = pick(['train', 'val', 'test', null] as const);
      const missing = status === 'ok' && random() < 0.1;
      const p = `/data/${pick(['a', 'b_c', 'd%e'])}/${Math.floor(random() * 1e6)}-${i}.jpg`;
      const id = Number(insert.run(p, status === 'ok' ? `h${i}` : null, status, status === 'rejected' ? 'bad' : null, classId, split, missing ? 1 : 0).lastInsertRowid);
      if (status === 'ok' && i % 2 === 0) thumb.run(id, Buffer.from(`thumb${id}`));
      out.push({ id, path: p, status, classId, split, missing });
    }
  })();
  return out;
}

/** The order and filters listImages promises, computed the slow obvious way. */
function expected(filter: ImageFilter): Row[] {
  const position = (id: number | null) => CLASSES.find((c) => c.id === id)?.position ?? null;
  return rows
    .filter((r) => r.status === (filter.status ?? 'ok'))
    .filter((r) => r.missing === (filter.missing ?? false))
    .filter((r) => filter.classId === undefined || r.classId === filter.classId)
    .filter((r) => filter.unlabeled === undefined || (r.classId === null) === filter.unlabeled)
    .filter((r) => filter.split === undefined || r.split === filter.split)
    .filter((r) => !filter.search || r.path.toLowerCase().includes(filter.search.toLowerCase()))
    .sort((a, b) => {
      const na = position(a.classId);
      const nb = position(b.classId);
      if (na !== nb) return na === null ? 1 : nb === null ? -1 : na < nb ? -1 : 1;
      return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
    });
}

beforeEach(() => {
  dir = makeTempDir('queries');
  registry = new ProjectRegistry(path.join(dir, 'home'));
  registry.create(path.join(dir, 'q.effitune'));
  handle = registry.get(path.join(dir, 'q.effitune'));
  rows = seed(600);
});
afterEach(() => {
  registry.closeAll();
  removeDir(dir);
});

describe('listImages', () => {
  const filters: ImageFilter[] = [
    {},
    { classId: 2 },
    { classId: 4 },
    { unlabeled: true },
    { unlabeled: false },
    { status: 'rejected' },
    { status: 'duplicate' },
    { missing: true },
    { split: 'val' },
    { split: 'train', classId: 3 },
    { search: 'B_C' },
    { search: '%' },
    { search: '_' },
    { search: '-1' },
  ];
  for (const filter of filters) {
    it(`orders by class position then path, unlabeled last, and filters: ${JSON.stringify(filter)}`, () => {
      const want = expected(filter);
      const all = listImages(handle.db, filter, 0, 5000);
      expect(all.total).toBe(want.length);
      expect(all.items.map((i) => i.id)).toEqual(want.map((r) => r.id));
      // pages of every size and offset add up to the same list, across the labeled/unlabeled seam
      for (const [offset, limit] of [
        [0, 7],
        [5, 50],
        [want.length - 3, 10],
        [want.length, 10],
      ]) {
        if (offset < 0) continue;
        const page = listImages(handle.db, filter, offset, limit);
        expect(page.total).toBe(want.length);
        expect(page.items.map((i) => i.id)).toEqual(want.slice(offset, offset + limit).map((r) => r.id));
      }
    });
  }

  it('fills each summary from the row, its class and its thumbnail', () => {
    const { items } = listImages(handle.db, { classId: 2 }, 0, 1);
    const row = rows.find((r) => r.id === items[0].id)!;
    expect(items[0]).toEqual({
      id: row.id,
      path: row.path,
      status: 'ok',
      classId: 2,
      className: 'ant',
      split: row.split,
      width: 10,
      height: 20,
      missing: false,
      hasThumbnail: getThumbnail(handle.db, row.id) !== null,
      reason: null,
      excluded: false,
    });
  });
});

describe('projectStatus', () => {
  it('counts usable images per class and split, and rejected, duplicate and missing ones', () => {
    const status = projectStatus(handle);
    const usable = rows.filter((r) => r.status === 'ok' && !r.missing);
    expect(status.project.path).toBe(handle.path);
    expect(status.images).toBe(usable.length);
    expect(status.labeled).toBe(usable.filter((r) => r.classId !== null).length);
    expect(status.unlabeled).toBe(usable.filter((r) => r.classId === null).length);
    expect(status.rejected).toBe(rows.filter((r) => r.status === 'rejected').length);
    expect(status.duplicates).toBe(rows.filter((r) => r.status === 'duplicate').length);
    expect(status.missing).toBe(rows.filter((r) => r.status === 'ok' && r.missing).length);
    expect(status.classes.map((c) => c.name)).toEqual(['moth', 'zebra', 'empty class', 'ant']);
    for (const c of status.classes) {
      const mine = usable.filter((r) => r.classId === c.id);
      expect(c.count).toBe(mine.length);
      expect(c.bySplit).toEqual({
        train: mine.filter((r) => r.split === 'train').length,
        val: mine.filter((r) => r.split === 'val').length,
        test: mine.filter((r) => r.split === 'test').length,
        none: mine.filter((r) => r.split === null).length,
      });
      // the grid shows exactly what the home screen counts
      expect(listImages(handle.db, { classId: c.id }, 0, 1).total).toBe(c.count);
    }
    expect(status.splits.train + status.splits.val + status.splits.test + status.splits.none).toBe(usable.length);
    expect(status.sources).toEqual([]);
  });
});

describe('getImageDetail and getThumbnail', () => {
  it('returns everything about one image, with the image it duplicates', () => {
    const original = rows.find((r) => r.status === 'ok' && r.classId === 1)!;
    const dup = rows.find((r) => r.status === 'duplicate')!;
    handle.db.prepare('UPDATE images SET duplicate_of = ?, mtime_ms = ? WHERE id = ?').run(original.id, Date.UTC(2024, 0, 2), dup.id);
    const detail = getImageDetail(handle.db, dup.id);
    expect(detail).toMatchObject({ id: dup.id, path: dup.path, status: 'duplicate', bytes: 100, format: 'jpeg', importedAt: '2024-01-01T00:00:00.000Z' });
    expect(detail.modifiedAt).toBe('2024-01-02T00:00:00.000Z');
    expect(detail.duplicateOf).toEqual({ id: original.id, path: original.path });
    expect(getImageDetail(handle.db, original.id).className).toBe('zebra');
  });

  it('says not_found for an unknown id, and null for an image without thumbnail', () => {
    expect(() => getImageDetail(handle.db, 999_999)).toThrow(ApiError);
    expect(() => getImageDetail(handle.db, 999_999)).toThrow(/no image with id 999999/);
    const withThumb = rows.find((r) => getThumbnail(handle.db, r.id) !== null)!;
    expect(getThumbnail(handle.db, withThumb.id)!.toString()).toBe(`thumb${withThumb.id}`);
    expect(getThumbnail(handle.db, rows.find((r) => r.status === 'rejected')!.id)).toBeNull();
  });
});
