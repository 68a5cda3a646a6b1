/**
 * What an export reads from the project besides the model: the labeled images per class and split
 * (the model card's data counts), the test split (the accuracy of each precision) and a few images
 * to compare the exported model with the app's.
 */
import type { z } from 'zod';
import type { SplitName as SplitNameSchema } from '../contract/define';
import type { Database } from '../project/database';
import { existsAt, imageFsPath, PATH_BYTES, type FsPath } from '../dataset/file-name-bytes';

type SplitName = z.infer<typeof SplitNameSchema>;

export interface LabeledFile {
  id: number;
  path: string;
  /** what opens it (raw bytes for a name that is not UTF-8: dataset/file-name-bytes.ts) */
  file: FsPath;
  /** index into the run's classes */
  label: number;
}

export interface ClassCounts {
  className: string;
  train: number;
  val: number;
  test: number;
  unsplit: number;
}

/** Usable labeled images of the run's classes in one split (files that are gone are left out). */
export function splitImages(db: Database, classes: readonly string[], split: SplitName): LabeledFile[] {
  const index = new Map(classes.map((name, i) => [name, i]));
  const rows = db
    .prepare(
      `SELECT i.id, i.path, ${PATH_BYTES}, c.name AS class_name FROM images i JOIN classes c ON c.id = i.class_id
       WHERE i.status = 'ok' AND i.missing = 0 AND i.excluded = 0 AND i.split = ? ORDER BY i.path`,
    )
    .all(split) as { id: number; path: string; pathBytes: Buffer | null; class_name: string }[];
  const out: LabeledFile[] = [];
  for (const row of rows) {
    const label = index.get(row.class_name);
    const file = imageFsPath(row);
    if (label !== undefined && existsAt(file)) out.push({ id: row.id, path: row.path, file, label });
  }
  return out;
}

/** Labeled images per class of the run and split, as the project holds them now. */
export function classCounts(db: Database, classes: readonly string[]): ClassCounts[] {
  const rows = db
    .prepare(
      `SELECT c.name AS class_name, i.split AS split, COUNT(*) AS n FROM images i JOIN classes c ON c.id = i.class_id
       WHERE i.status = 'ok' AND i.missing = 0 AND i.excluded = 0 GROUP BY c.name, i.split`,
    )
    .all() as { class_name: string; split: SplitName | null; n: number }[];
  return classes.map((className) => {
    const mine = rows.filter((r) => r.class_name === className);
    const count = (split: SplitName | null) => mine.filter((r) => r.split === split).reduce((n, r) => n + r.n, 0);
    return { className, train: count('train'), val: count('val'), test: count('test'), unsplit: count(null) };
  });
}

/** Up to `limit` images to compare two models on: test first, then validation, then training images. */
export function parityImages(db: Database, classes: readonly string[], limit: number): LabeledFile[] {
  const out: LabeledFile[] = [];
  for (const split of ['test', 'val', 'train'] as const) {
    for (const image of splitImages(db, classes, split)) {
      if (out.length >= limit) return out;
      out.push(image);
    }
  }
  return out;
}
