/**
 * The per-image history of labels (label_history): who changed an image's class, when, from which
 * to which, and how (by hand, a model suggestion, a CSV file, a merge, an undo ...). Class names
 * are stored as they were, so the history still reads right after a rename or a delete.
 *
 * The history stays bounded (an import of 2,000 labels undone and done again 16 times once left
 * 64,000 rows): the rows of an undone edit that a new edit drops go with it, an edit undone and
 * redone again and again keeps only its newest round trip, and an image keeps its newest
 * HISTORY_PER_IMAGE rows. Rows are only ever removed where what stays still reads as one chain per
 * image (each change starts from the class the previous one ended with), so the newest row keeps
 * saying who set the current label, when and how.
 */
import type { Database } from '../../project/database';

export type HistorySource = 'user' | 'folder' | 'model' | 'csv' | 'json' | 'merge' | 'delete' | 'undo' | 'redo';

/** The newest rows an image keeps; older ones are dropped as new ones come. */
export const HISTORY_PER_IMAGE = 100;

/** Rows one edit keeps per image: the change, and its newest undo/redo round trip and a half. */
const ROWS_PER_EDIT_AND_IMAGE = 4;

export interface LabelChange {
  imageId: number;
  from: number | null;
  to: number | null;
}

export function writeHistory(db: Database, changes: readonly LabelChange[], names: ReadonlyMap<number, string>, by: { source: HistorySource; who: string }, editId: number, at: string): void {
  const insert = db.prepare('INSERT INTO label_history (image_id, at, from_class, to_class, source, who, edit_id) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const name = (id: number | null) => (id === null ? null : (names.get(id) ?? null));
  for (const c of changes) insert.run(c.imageId, at, name(c.from), name(c.to), by.source, by.who, editId);
  if (by.source === 'undo' || by.source === 'redo') dropOldRoundTrips(db, editId);
  capImageHistory(db, changes.map((c) => c.imageId));
}

export function imageHistory(db: Database, imageId: number): { at: string; fromClass: string | null; toClass: string | null; source: string; who: string }[] {
  return db
    .prepare('SELECT at, from_class AS fromClass, to_class AS toClass, source, who FROM label_history WHERE image_id = ? ORDER BY id')
    .all(imageId) as { at: string; fromClass: string | null; toClass: string | null; source: string; who: string }[];
}

/**
 * The undone edits (ids from `editsSql`, a SELECT of edit ids) are about to be dropped for good: a
 * new edit replaced them. Each ended undone, so on an image their rows change nothing overall and
 * go with them — where they lie together. An image whose rows of these edits have another row
 * between them (a label kept by hand, an edit still in the journal) keeps them all: without them
 * its history would no longer read as one chain.
 */
export function forgetDroppedEdits(db: Database, editsSql: string): void {
  db.prepare(
    `DELETE FROM label_history WHERE edit_id IN (${editsSql}) AND image_id IN (
       SELECT s.image_id FROM (SELECT image_id, MIN(id) AS lo, MAX(id) AS hi FROM label_history WHERE edit_id IN (${editsSql}) GROUP BY image_id) s
       WHERE NOT EXISTS (
         SELECT 1 FROM label_history h
         WHERE h.image_id = s.image_id AND h.id > s.lo AND h.id < s.hi AND (h.edit_id IS NULL OR h.edit_id NOT IN (${editsSql}))
       )
     )`,
  ).run();
}

/** After rows were added for these images: keep each of them to its newest HISTORY_PER_IMAGE rows. */
export function capImageHistory(db: Database, imageIds: readonly number[]): void {
  if (imageIds.length === 0) return;
  db.prepare(
    `DELETE FROM label_history WHERE id IN (
       SELECT h.id FROM json_each(?) j JOIN label_history h ON h.image_id = j.value
       WHERE h.id <= (SELECT x.id FROM label_history x WHERE x.image_id = j.value ORDER BY x.id DESC LIMIT 1 OFFSET ?)
     )`,
  ).run(JSON.stringify([...new Set(imageIds)]), HISTORY_PER_IMAGE);
}

/**
 * An edit undone and redone again and again: once it has more than ROWS_PER_EDIT_AND_IMAGE rows on
 * an image, the oldest round trip after the change itself (an undo and the redo right after it)
 * goes. It changed nothing overall, so the chain still holds — unless another row lies between the
 * two, or they do not come back to where they started; then the image keeps them.
 */
function dropOldRoundTrips(db: Database, editId: number): void {
  const rows = db.prepare('SELECT id, image_id, from_class, to_class FROM label_history WHERE edit_id = ? ORDER BY image_id, id').all(editId) as {
    id: number;
    image_id: number;
    from_class: string | null;
    to_class: string | null;
  }[];
  const between = db.prepare('SELECT COUNT(*) FROM label_history WHERE image_id = ? AND id > ? AND id < ?').pluck();
  const remove = db.prepare('DELETE FROM label_history WHERE id IN (?, ?)');
  for (let start = 0; start < rows.length; ) {
    let end = start;
    while (end < rows.length && rows[end].image_id === rows[start].image_id) end++;
    if (end - start > ROWS_PER_EDIT_AND_IMAGE) {
      const [back, forth] = [rows[start + 1], rows[start + 2]];
      if (back.from_class === forth.to_class && between.get(back.image_id, back.id, forth.id) === 0) remove.run(back.id, forth.id);
    }
    start = end;
  }
}
