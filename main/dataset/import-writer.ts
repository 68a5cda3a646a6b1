/**
 * The database side of an import: lookups by path and by content hash, and the rows the import
 * produces, written in batched transactions. A batch is all or nothing, so a process killed at any
 * moment leaves whole rows behind and a re-run carries on from there.
 */
import { cleanName, foldName, pickColor } from './labels/class-names';
import type { ImageStatus } from '../contract/contract';
import type { Database } from '../project/database';

/** A file's row as it was before this import touched it. */
export interface ExistingImage {
  id: number;
  /** the raw path when it is not UTF-8 (file-name-bytes.ts) */
  path_bytes: Buffer | null;
  bytes: number;
  mtime_ms: number | null;
  status: ImageStatus;
  missing: number;
  class_id: number | null;
}

export interface OkOwner {
  id: number;
  path: string;
  pathBytes: Buffer | null;
}

/** What the import decided for one file. */
export type ImageRecord =
  | {
      kind: 'store';
      /** the text form (file-name-bytes.ts) */
      path: string;
      /** the raw path when it is not UTF-8, else null */
      pathBytes: Buffer | null;
      /** the row already at this path, to update in place */
      existingId: number | null;
      /** a row with the same content whose file is gone: the file moved here, so that row (and its label) follows */
      movedId: number | null;
      bytes: number;
      /** null when the file could not be read, so the next import reads it again */
      mtimeMs: number | null;
      hash: string | null;
      status: ImageStatus;
      reason: string | null;
      width: number | null;
      height: number | null;
      format: string | null;
      className: string | null;
      thumbnail: Buffer | null;
    }
  /** an unchanged file seen again: it is no longer missing, and gains its folder's label if it had none */
  | { kind: 'seen'; id: number; className: string | null }
  /** a usable image whose file vanished while this import ran */
  | { kind: 'vanished'; id: number };

// A folder label never overrides the user: not a label they set, and not one they cleared (class_id
// NULL with label_source 'user'), so a re-import does not undo labeling work.
const TAKES_FOLDER_LABEL = `(@classId IS NOT NULL AND label_source IS NOT 'user' AND (class_id IS NULL OR @moved))`;

const SEEN_TAKES_FOLDER_LABEL = `(class_id IS NULL AND label_source IS NOT 'user' AND @classId IS NOT NULL AND status = 'ok')`;

const BATCH_SIZE = 50;
const BATCH_MS = 250;

export class ImportWriter {
  private pending: ImageRecord[] = [];
  private lastFlush = performance.now();
  private readonly classIds = new Map<string, number>();
  private readonly statements;

  constructor(
    private readonly db: Database,
    readonly sourceId: number,
  ) {
    this.statements = {
      byPath: db.prepare('SELECT id, path_bytes, bytes, mtime_ms, status, missing, class_id FROM images WHERE path = ?'),
      okByHash: db.prepare(`SELECT id, path, path_bytes AS pathBytes FROM images WHERE hash = ? AND status = 'ok' AND id != ?`),
      okIdByHash: db.prepare(`SELECT id FROM images WHERE hash = ? AND status = 'ok'`).pluck(),
      classNames: db.prepare('SELECT id, name FROM classes'),
      // whether an existing row would take its folder's label (so a missing class is worth creating)
      wantsFolderLabel: db.prepare(`SELECT 1 FROM images WHERE id = @id AND status = 'ok' AND label_source IS NOT 'user' AND (class_id IS NULL OR @moved)`).pluck(),
      classColors: db.prepare('SELECT color FROM classes').pluck(),
      insertClass: db.prepare('INSERT INTO classes (name, color) VALUES (?, ?)'),
      insert: db.prepare(
        `INSERT INTO images (path, path_bytes, source_id, bytes, mtime_ms, hash, status, reason, duplicate_of, width, height, format,
                             class_id, label_source, labeled_at, missing, imported_at)
         VALUES (@path, @pathBytes, @sourceId, @bytes, @mtimeMs, @hash, @status, @reason, @duplicateOf, @width, @height, @format,
                 @classId, CASE WHEN @classId IS NULL THEN NULL ELSE 'folder' END, CASE WHEN @classId IS NULL THEN NULL ELSE @now END, 0, @now)`,
      ),
      // The label is decided in SQL from the row as it is now (SET expressions all see the old values),
      // so a label the user set while the import ran wins. A folder label fills an empty label; a moved
      // file takes its new folder's label unless the user labelled it.
      update: db.prepare(
        `UPDATE images SET path = @path, path_bytes = @pathBytes, source_id = CASE WHEN @moved THEN @sourceId ELSE source_id END,
           bytes = @bytes, mtime_ms = @mtimeMs, hash = @hash, status = @status, reason = @reason, duplicate_of = @duplicateOf,
           width = @width, height = @height, format = @format, missing = 0, imported_at = @now,
           class_id     = CASE WHEN ${TAKES_FOLDER_LABEL} THEN @classId  ELSE class_id END,
           label_source = CASE WHEN ${TAKES_FOLDER_LABEL} THEN 'folder' ELSE label_source END,
           labeled_at   = CASE WHEN ${TAKES_FOLDER_LABEL} THEN @now     ELSE labeled_at END
         WHERE id = @id`,
      ),
      seen: db.prepare(
        `UPDATE images SET missing = 0,
           class_id     = CASE WHEN ${SEEN_TAKES_FOLDER_LABEL} THEN @classId ELSE class_id END,
           label_source = CASE WHEN ${SEEN_TAKES_FOLDER_LABEL} THEN 'folder' ELSE label_source END,
           labeled_at   = CASE WHEN ${SEEN_TAKES_FOLDER_LABEL} THEN @now ELSE labeled_at END
         WHERE id = @id`,
      ),
      markMissing: db.prepare(`UPDATE images SET missing = 1 WHERE id = ? AND status = 'ok'`),
      deleteImage: db.prepare('DELETE FROM images WHERE id = ?'),
      putThumbnail: db.prepare('INSERT INTO thumbnails (image_id, webp) VALUES (?, ?) ON CONFLICT(image_id) DO UPDATE SET webp = excluded.webp'),
      dropThumbnail: db.prepare('DELETE FROM thumbnails WHERE image_id = ?'),
      sourceRows: db.prepare(`SELECT id, path, status FROM images WHERE source_id = ? AND NOT (status = 'ok' AND missing = 1)`),
      missingCount: db.prepare(`SELECT COUNT(*) FROM images WHERE source_id = ? AND status = 'ok' AND missing = 1`).pluck(),
      finishSource: db.prepare('UPDATE sources SET last_import_at = ? WHERE id = ?'),
      classCounts: db.prepare(
        `SELECT c.name, COUNT(i.id) AS count FROM classes c LEFT JOIN images i ON i.class_id = c.id AND i.status = 'ok' AND i.missing = 0
         GROUP BY c.id ORDER BY c.name`,
      ),
    };
  }

  /** The source row of an import folder, created on its first import. */
  static ensureSource(db: Database, folder: string, labelsFromFolders: boolean): number {
    return db
      .prepare(
        `INSERT INTO sources (folder, labels_from_folders) VALUES (?, ?)
         ON CONFLICT(folder) DO UPDATE SET labels_from_folders = excluded.labels_from_folders RETURNING id`,
      )
      .pluck()
      .get(folder, labelsFromFolders ? 1 : 0) as number;
  }

  findByPath(path: string): ExistingImage | undefined {
    return this.statements.byPath.get(path) as ExistingImage | undefined;
  }

  /** The usable image with this content, other than the row `exceptId`. */
  findOkByHash(hash: string, exceptId: number | null): OkOwner | undefined {
    return this.statements.okByHash.get(hash, exceptId ?? -1) as OkOwner | undefined;
  }

  add(record: ImageRecord): void {
    this.pending.push(record);
    this.flushIfDue();
  }

  /** Write the pending rows once there are enough of them or they have waited long enough. */
  flushIfDue(): void {
    if (this.pending.length >= BATCH_SIZE || (this.pending.length > 0 && performance.now() - this.lastFlush >= BATCH_MS)) this.flush();
  }

  flush(): void {
    this.lastFlush = performance.now();
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const record of batch) this.write(record, now);
    })();
  }

  private write(record: ImageRecord, now: string): void {
    const s = this.statements;
    if (record.kind === 'seen') {
      const classId = record.className === null ? null : this.classId(record.className, () => s.wantsFolderLabel.get({ id: record.id, moved: 0 }) !== undefined);
      s.seen.run({ id: record.id, classId, now });
      return;
    }
    if (record.kind === 'vanished') {
      s.markMissing.run(record.id);
      return;
    }
    // A duplicate points at the usable copy; looked up now because that copy may have been written in this same batch.
    const duplicateOf = record.status === 'duplicate' && record.hash ? ((s.okIdByHash.get(record.hash) as number | undefined) ?? null) : null;
    const existing = record.movedId ?? record.existingId;
    const classId =
      record.status === 'ok' && record.className !== null
        ? this.classId(record.className, () => existing === null || s.wantsFolderLabel.get({ id: existing, moved: record.movedId !== null ? 1 : 0 }) !== undefined)
        : null;
    const values = {
      path: record.path,
      pathBytes: record.pathBytes,
      sourceId: this.sourceId,
      bytes: record.bytes,
      mtimeMs: record.mtimeMs,
      hash: record.hash,
      status: record.status,
      reason: record.reason,
      duplicateOf,
      width: record.width,
      height: record.height,
      format: record.format,
      classId,
      now,
    };
    let id: number;
    if (record.movedId !== null) {
      if (record.existingId !== null && record.existingId !== record.movedId) s.deleteImage.run(record.existingId);
      id = record.movedId;
    } else if (record.existingId !== null) {
      id = record.existingId;
    } else {
      id = Number(s.insert.run(values).lastInsertRowid);
      this.writeThumbnail(id, record.thumbnail);
      return;
    }
    s.update.run({ ...values, id, moved: record.movedId !== null ? 1 : 0 });
    this.writeThumbnail(id, record.thumbnail);
  }

  private writeThumbnail(id: number, thumbnail: Buffer | null): void {
    if (thumbnail) this.statements.putThumbnail.run(id, thumbnail);
    else this.statements.dropThumbnail.run(id);
  }

  /**
   * The class of a folder name, matched ignoring case in any language ("Cat" joins "cat"). A class
   * that does not exist is only created when `needed()` says an image will take it, so re-importing
   * does not bring back a class the user deleted or merged away. null: no class and none needed.
   */
  private classId(name: string, needed: () => boolean): number | null {
    const key = foldName(name);
    let id = this.classIds.get(key);
    if (id === undefined) {
      const rows = this.statements.classNames.all() as { id: number; name: string }[];
      id = rows.find((row) => foldName(row.name) === key)?.id;
      if (id === undefined) {
        if (!needed()) return null;
        const used = this.statements.classColors.all() as string[];
        id = Number(this.statements.insertClass.run(cleanName(name), pickColor(used)).lastInsertRowid);
      }
      this.classIds.set(key, id);
    }
    return id;
  }

  /**
   * After a complete scan: usable images of this folder that were not found are marked missing (their
   * labels stay, in case they come back); rejected and duplicate rows of files that are gone are dropped.
   * Returns how many usable images of this folder are missing now.
   */
  markMissing(present: ReadonlySet<string>): number {
    const s = this.statements;
    const rows = s.sourceRows.all(this.sourceId) as { id: number; path: string; status: ImageStatus }[];
    this.db.transaction(() => {
      for (const row of rows) {
        if (present.has(row.path)) continue;
        if (row.status === 'ok') s.markMissing.run(row.id);
        else s.deleteImage.run(row.id);
      }
    })();
    return s.missingCount.get(this.sourceId) as number;
  }

  finishSource(): void {
    this.statements.finishSource.run(new Date().toISOString(), this.sourceId);
  }

  classCounts(): { name: string; count: number }[] {
    return this.statements.classCounts.all() as { name: string; count: number }[];
  }
}
