/**
 * Read queries of a project: totals for the home screen, pages of the image grid, one image's details,
 * thumbnails. All synchronous; the grid query is shaped so SQLite walks indexes in order and never
 * sorts the whole table (see listImages).
 */
import { ApiError, type ImageDetail, type ImageFilter, type ImageStatus, type ImageSummary, type ProjectStatus, type SplitName } from '../contract/contract';
import type { Database } from './database';
import type { ProjectHandle } from './registry';

type SplitCounts = Record<SplitName | 'none', number>;

/**
 * Totals for the project home. One grouped pass over the (status, missing, split, class_id, path)
 * index gives every count; classes with no images still appear with zeros.
 */
export function projectStatus(handle: ProjectHandle): ProjectStatus {
  const { db } = handle;
  const groups = db
    .prepare('SELECT status, missing, excluded, split, class_id, COUNT(*) AS n FROM images GROUP BY status, missing, excluded, split, class_id')
    .all() as { status: ImageStatus; missing: number; excluded: number; split: SplitName | null; class_id: number | null; n: number }[];
  const classRows = db.prepare('SELECT id, name, color FROM classes ORDER BY position, id').all() as { id: number; name: string; color: string }[];
  const classes = new Map(classRows.map((c) => [c.id, { ...c, count: 0, bySplit: emptySplits() }]));
  const splits = emptySplits();
  const totals = { images: 0, labeled: 0, rejected: 0, duplicates: 0, missing: 0, excluded: 0 };
  for (const g of groups) {
    if (g.status === 'rejected') totals.rejected += g.n;
    else if (g.status === 'duplicate') totals.duplicates += g.n;
    else if (g.missing) totals.missing += g.n;
    // excluded images are not trainable: counted apart, not in the classes or splits
    else if (g.excluded) totals.excluded += g.n;
    else {
      totals.images += g.n;
      splits[g.split ?? 'none'] += g.n;
      const entry = g.class_id === null ? undefined : classes.get(g.class_id);
      if (entry) {
        totals.labeled += g.n;
        entry.count += g.n;
        entry.bySplit[g.split ?? 'none'] += g.n;
      }
    }
  }

  const sources = (db.prepare('SELECT folder, labels_from_folders, last_import_at FROM sources ORDER BY folder').all() as { folder: string; labels_from_folders: number; last_import_at: string | null }[]).map(
    (s) => ({ folder: s.folder, labelsFromFolders: s.labels_from_folders === 1, lastImportAt: s.last_import_at }),
  );

  return {
    project: handle.info,
    images: totals.images,
    labeled: totals.labeled,
    unlabeled: totals.images - totals.labeled,
    rejected: totals.rejected,
    duplicates: totals.duplicates,
    missing: totals.missing,
    excluded: totals.excluded,
    classes: [...classes.values()],
    splits,
    sources,
  };
}

function emptySplits(): SplitCounts {
  return { train: 0, val: 0, test: 0, none: 0 };
}

interface SummaryRow {
  id: number;
  path: string;
  status: ImageStatus;
  class_id: number | null;
  class_name: string | null;
  split: SplitName | null;
  width: number | null;
  height: number | null;
  missing: number;
  has_thumbnail: number;
  reason: string | null;
  excluded: number;
}

const SUMMARY_COLUMNS = `i.id, i.path, i.status, i.class_id, c.name AS class_name, i.split, i.width, i.height, i.missing, i.reason, i.excluded,
  EXISTS (SELECT 1 FROM thumbnails t WHERE t.image_id = i.id) AS has_thumbnail`;

/**
 * One page of the grid, ordered by class (in the user's class order) then path, unlabeled images last.
 * The order is served by two index walks instead of one sort of the whole table: labeled images by
 * looping over classes in (position, id) order (index classes_order) and, inside each class, the
 * (status, missing, class_id, path) index; then unlabeled images by the same index with class_id NULL.
 * `missing` defaults to false: the grid shows files that are still on disk unless asked otherwise.
 */
export function listImages(db: Database, filter: ImageFilter, offset: number, limit: number): { total: number; items: ImageSummary[] } {
  const { where, params } = filterClause(filter);
  const wantLabeled = filter.unlabeled !== true;
  const wantUnlabeled = filter.unlabeled !== false && filter.classId === undefined;

  const countLabeled = wantLabeled ? count(db, `${where} AND i.class_id IS NOT NULL`, params) : 0;
  const countUnlabeled = wantUnlabeled ? count(db, `${where} AND i.class_id IS NULL`, params) : 0;
  const items: ImageSummary[] = [];

  if (offset < countLabeled) {
    const rows = db
      .prepare(`SELECT ${SUMMARY_COLUMNS} FROM classes c CROSS JOIN images i ON i.class_id = c.id WHERE ${where} ORDER BY c.position, c.id, i.path LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as SummaryRow[];
    items.push(...rows.map(toSummary));
  }
  const remaining = limit - items.length;
  if (remaining > 0 && countUnlabeled > 0) {
    const unlabeledOffset = Math.max(0, offset - countLabeled);
    if (unlabeledOffset < countUnlabeled) {
      const rows = db
        .prepare(`SELECT ${SUMMARY_COLUMNS} FROM images i LEFT JOIN classes c ON c.id = i.class_id WHERE ${where} AND i.class_id IS NULL ORDER BY i.path LIMIT ? OFFSET ?`)
        .all(...params, remaining, unlabeledOffset) as SummaryRow[];
      items.push(...rows.map(toSummary));
    }
  }
  return { total: countLabeled + countUnlabeled, items };
}

function count(db: Database, where: string, params: unknown[]): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM images i WHERE ${where}`).get(...params) as { n: number }).n;
}

function filterClause(filter: ImageFilter): { where: string; params: unknown[] } {
  const parts = ['i.status = ?', 'i.missing = ?'];
  const params: unknown[] = [filter.status ?? 'ok', filter.missing ? 1 : 0];
  if (filter.classId !== undefined) {
    parts.push('i.class_id = ?');
    params.push(filter.classId);
  }
  if (filter.split !== undefined) {
    parts.push('i.split = ?');
    params.push(filter.split);
  }
  if (filter.excluded !== undefined) {
    parts.push('i.excluded = ?');
    params.push(filter.excluded ? 1 : 0);
  }
  if (filter.search) {
    parts.push(`i.path LIKE ? ESCAPE '\\'`);
    params.push(`%${filter.search.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`);
  }
  return { where: parts.join(' AND '), params };
}

function toSummary(row: SummaryRow): ImageSummary {
  return {
    id: row.id,
    path: row.path,
    status: row.status,
    classId: row.class_id,
    className: row.class_name,
    split: row.split,
    width: row.width,
    height: row.height,
    missing: row.missing === 1,
    hasThumbnail: row.has_thumbnail === 1,
    reason: row.reason,
    excluded: row.excluded === 1,
  };
}

export function getImageDetail(db: Database, id: number): ImageDetail {
  const row = db
    .prepare(
      `SELECT ${SUMMARY_COLUMNS}, i.bytes, i.format, i.hash, i.mtime_ms, i.imported_at, i.label_source, i.duplicate_of, d.path AS duplicate_path
       FROM images i LEFT JOIN classes c ON c.id = i.class_id LEFT JOIN images d ON d.id = i.duplicate_of
       WHERE i.id = ?`,
    )
    .get(id) as
    | (SummaryRow & { bytes: number; format: string | null; hash: string | null; mtime_ms: number | null; imported_at: string; label_source: string | null; duplicate_of: number | null; duplicate_path: string | null })
    | undefined;
  if (!row) throw new ApiError('not_found', `there is no image with id ${id} in this project`);
  return {
    ...toSummary(row),
    bytes: row.bytes,
    format: row.format,
    hash: row.hash,
    modifiedAt: row.mtime_ms === null ? null : new Date(row.mtime_ms).toISOString(),
    importedAt: row.imported_at,
    labelSource: row.label_source,
    duplicateOf: row.duplicate_of !== null && row.duplicate_path !== null ? { id: row.duplicate_of, path: row.duplicate_path } : null,
  };
}

/** The WebP thumbnail (256 px on the long side) of an image, or null when it has none. */
export function getThumbnail(db: Database, id: number): Buffer | null {
  const row = db.prepare('SELECT webp FROM thumbnails WHERE image_id = ?').get(id) as { webp: Buffer } | undefined;
  return row?.webp ?? null;
}
