/**
 * The per-image history of labels (label_history): who changed an image's class, when, from which
 * to which, and how (by hand, a model suggestion, a CSV file, a merge, an undo ...). Class names
 * are stored as they were, so the history still reads right after a rename or a delete.
 */
import type { Database } from '../../project/database';

export type HistorySource = 'user' | 'folder' | 'model' | 'csv' | 'json' | 'merge' | 'delete' | 'undo' | 'redo';

export interface LabelChange {
  imageId: number;
  from: number | null;
  to: number | null;
}

export function writeHistory(db: Database, changes: readonly LabelChange[], names: ReadonlyMap<number, string>, by: { source: HistorySource; who: string }, editId: number, at: string): void {
  const insert = db.prepare('INSERT INTO label_history (image_id, at, from_class, to_class, source, who, edit_id) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const name = (id: number | null) => (id === null ? null : (names.get(id) ?? null));
  for (const c of changes) insert.run(c.imageId, at, name(c.from), name(c.to), by.source, by.who, editId);
}

export function imageHistory(db: Database, imageId: number): { at: string; fromClass: string | null; toClass: string | null; source: string; who: string }[] {
  return db
    .prepare('SELECT at, from_class AS fromClass, to_class AS toClass, source, who FROM label_history WHERE image_id = ? ORDER BY id')
    .all(imageId) as { at: string; fromClass: string | null; toClass: string | null; source: string; who: string }[];
}
