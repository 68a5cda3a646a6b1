/**
 * Labeling 10,000 images from a CSV file (labels.import through the service: read and parse the
 * file, find each image by path, one transaction that updates the rows, writes label_history and
 * the undo journal), then undoing and redoing that edit. Reference in the same run: a plain SQLite
 * UPDATE loop that sets the class of the same rows in one transaction (the floor any labeling pays).
 * The image rows are inserted directly (no image files needed). Options: --images N (default 10000),
 * --classes N (default 10), --rounds N (default 3; the median is reported).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Service } from '../../main/service/service';
import type { Database } from '../../main/project/database';
import { emit, machine, option, round } from './lib/report';

export async function run(args: string[]): Promise<void> {
  const images = option(args, 'images', 10_000);
  const classCount = option(args, 'classes', 10);
  const rounds = option(args, 'rounds', 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-bench-labels-'));
  const service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
  try {
    const project = path.join(dir, 'labels.effitune');
    service.projects.create(project);
    const { db } = service.projects.get(project);
    const ids = seed(db, images);
    // half the paths absolute, half relative to the imported folder, as people write them
    const csv = path.join(dir, 'labels.csv');
    const lines = ['path,class', ...ids.map((id, i) => `${i % 2 === 0 ? '/photos/' : ''}folder-${id % 89}/img-${id}.jpg,class ${String(i % classCount).padStart(2, '0')}`)];
    fs.writeFileSync(csv, lines.join('\n') + '\n');
    emit({ bench: 'labels', images, classes: classCount, csvBytes: fs.statSync(csv).size, ...machine() });

    const reference = referenceUpdate(db, ids, classCount);
    const importTimes: number[] = [];
    const undoTimes: number[] = [];
    const redoTimes: number[] = [];
    let journalBytes = 0;
    for (let r = 0; r < rounds; r++) {
      const imported = await timed(() => service.call('labels.import', { project, file: csv }));
      if (imported.result.labeled !== images) throw new Error(`expected ${images} images labeled, got ${imported.result.labeled}`);
      importTimes.push(imported.seconds);
      journalBytes = db.prepare('SELECT length(redo) + length(undo) FROM edits ORDER BY id DESC LIMIT 1').pluck().get() as number;
      undoTimes.push((await timed(() => service.call('edits.undo', { project }))).seconds);
      // redo, then undo again, so the next round starts from unlabeled images once more
      redoTimes.push((await timed(() => service.call('edits.redo', { project }))).seconds);
      await service.call('edits.undo', { project });
    }
    const [undoMedian, redoMedian] = [median(undoTimes), median(redoTimes)];

    const importMedian = median(importTimes);
    emit({ bench: 'labels', case: 'import CSV', images, seconds: round(importMedian, 3), imagesPerSecond: Math.round(images / importMedian), journalBytes });
    emit({ bench: 'labels', case: 'undo import', images, seconds: round(undoMedian, 3) });
    emit({ bench: 'labels', case: 'redo import', images, seconds: round(redoMedian, 3) });
    emit({ bench: 'labels', case: 'reference: plain UPDATE loop', images, seconds: round(reference, 3), importVsReference: round(importMedian / reference, 1) });
  } finally {
    service.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await fn();
  return { result, seconds: (performance.now() - started) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Unlabeled image rows as an import of /photos would leave them, written directly. */
function seed(db: Database, count: number): number[] {
  const now = new Date().toISOString();
  return db.transaction(() => {
    db.prepare('INSERT INTO sources (folder) VALUES (?)').run('/photos');
    const insert = db.prepare(
      `INSERT INTO images (path, source_id, bytes, mtime_ms, hash, status, width, height, format, imported_at)
       VALUES (?, 1, 150000, 0, ?, 'ok', 1024, 768, 'jpeg', ?)`,
    );
    const ids: number[] = [];
    for (let i = 1; i <= count; i++) ids.push(Number(insert.run(`/photos/folder-${i % 89}/img-${i}.jpg`, `hash-${i}`, now).lastInsertRowid));
    return ids;
  })();
}

/**
 * The same rows labeled by the simplest possible code: one prepared UPDATE per row, one transaction.
 * Its classes and labels are removed again afterwards, so the import starts from the same state.
 */
function referenceUpdate(db: Database, ids: number[], classCount: number): number {
  const addClass = db.prepare('INSERT INTO classes (name, color) VALUES (?, ?)');
  const classIds = Array.from({ length: classCount }, (_, c) => Number(addClass.run(`reference ${c}`, '#808080').lastInsertRowid));
  const update = db.prepare('UPDATE images SET class_id = ?, labeled_at = ? WHERE id = ?');
  const started = performance.now();
  const now = new Date().toISOString();
  db.transaction(() => ids.forEach((id, i) => update.run(classIds[i % classCount], now, id)))();
  const seconds = (performance.now() - started) / 1000;
  db.prepare('UPDATE images SET class_id = NULL, labeled_at = NULL').run();
  db.prepare('DELETE FROM classes').run();
  return seconds;
}
