/**
 * The grid query at scale: listImages() on a project of 50,000 images (20 classes, 10 % unlabeled,
 * thumbnails stored), for the first page, a deep page, each filter. Reference in the same run: the
 * naive query that sorts the whole table for every page.
 * Options: --images N (default 50000), --repeat N (default 20).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImageFilter } from '../../main/contract/contract';
import type { Database } from '../../main/project/database';
import { listImages, projectStatus } from '../../main/project/queries';
import { ProjectRegistry } from '../../main/project/registry';
import { emit, machine, option, round } from './lib/report';

export async function run(args: string[]): Promise<void> {
  const images = option(args, 'images', 50_000);
  const repeat = option(args, 'repeat', 20);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-bench-list-'));
  const registry = new ProjectRegistry(dir);
  try {
    const file = path.join(dir, 'list.effitune');
    registry.create(file);
    const handle = registry.get(file);
    const seeded = seed(handle.db, images);
    emit({ bench: 'list', images, seedSeconds: round(seeded, 2), ...machine() });

    const cases: [string, ImageFilter, number][] = [
      ['first page', {}, 0],
      ['middle page', {}, Math.floor(images / 2)],
      ['last page', {}, images - 200],
      ['one class, deep', { classId: 7 }, 1000],
      ['unlabeled', { unlabeled: true }, 0],
      ['split val, deep', { split: 'val' }, Math.floor(images / 6)],
      ['rejected', { status: 'rejected' }, 0],
      ['search', { search: 'img-123' }, 0],
    ];
    for (const [name, filter, offset] of cases) {
      const ms = timeMs(repeat, () => listImages(handle.db, filter, offset, 200));
      emit({ bench: 'list', case: name, offset, limit: 200, msPerCall: round(ms, 2) });
    }
    const naive = handle.db.prepare(
      `SELECT i.id, c.name FROM images i LEFT JOIN classes c ON c.id = i.class_id WHERE i.status = 'ok' AND i.missing = 0
       ORDER BY c.name IS NULL, c.name, i.path LIMIT 200 OFFSET ?`,
    );
    emit({ bench: 'list', case: 'reference: naive sort, middle page', msPerCall: round(timeMs(repeat, () => naive.all(Math.floor(images / 2))), 2) });
    emit({ bench: 'list', case: 'projectStatus', msPerCall: round(timeMs(repeat, () => projectStatus(handle)), 2) });
  } finally {
    registry.closeAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function timeMs(repeat: number, fn: () => unknown): number {
  fn(); // warm the page cache and the statement cache
  const started = performance.now();
  for (let i = 0; i < repeat; i++) fn();
  return (performance.now() - started) / repeat;
}

/** Rows as an import would leave them, written directly: this measures queries, not the import. */
function seed(db: Database, count: number): number {
  const started = performance.now();
  const now = new Date().toISOString();
  const thumbnail = Buffer.alloc(6000, 7);
  db.transaction(() => {
    const addClass = db.prepare('INSERT INTO classes (name, color) VALUES (?, ?)');
    for (let c = 0; c < 20; c++) addClass.run(`class-${String(c).padStart(2, '0')}`, '#808080');
    const addImage = db.prepare(
      `INSERT INTO images (path, bytes, mtime_ms, hash, status, reason, class_id, split, width, height, format, imported_at)
       VALUES (?, 150000, 0, ?, ?, ?, ?, ?, 1024, 768, 'jpeg', ?)`,
    );
    const addThumbnail = db.prepare('INSERT INTO thumbnails (image_id, webp) VALUES (?, ?)');
    for (let i = 0; i < count; i++) {
      const rejected = i % 97 === 0;
      const id = addImage.run(
        `/photos/folder-${i % 89}/img-${i}.jpg`,
        rejected ? null : `hash-${i}`,
        rejected ? 'rejected' : 'ok',
        rejected ? 'truncated or corrupt JPEG' : null,
        i % 10 === 0 ? null : ((i * 7) % 20) + 1,
        ['train', 'val', 'test', null][i % 4],
        now,
      ).lastInsertRowid;
      if (!rejected) addThumbnail.run(id, thumbnail);
    }
  })();
  db.exec('ANALYZE');
  return (performance.now() - started) / 1000;
}
