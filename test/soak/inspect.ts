/**
 * Reading a project file as stored, with none of the app's logic: SQLite's own integrity check and
 * the few facts the soak compares before and after a kill. Every read opens and closes its own
 * connection, so nothing of the soak holds the file while the CLI runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

type Db = BetterSqlite3.Database;

function withDb<T>(file: string, read: (db: Db) => T): T {
  // not readonly: a read-only connection cannot open a WAL file whose -shm is missing
  const db = new BetterSqlite3(file, { fileMustExist: true, timeout: 3000 });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** 'ok', or SQLite's list of what is wrong (also foreign keys that point nowhere). */
export function integrity(file: string): string {
  try {
    return withDb(file, (db) => {
      const rows = db.pragma('integrity_check') as { integrity_check: string }[];
      const text = rows.map((r) => r.integrity_check).join('; ');
      if (text !== 'ok') return text;
      const dangling = db.pragma('foreign_key_check') as unknown[];
      return dangling.length === 0 ? 'ok' : `${dangling.length} rows break a foreign key`;
    });
  } catch (err) {
    return `cannot open: ${(err as Error).message}`;
  }
}

export interface ImportedRows {
  /** rows of files under the folder */
  total: number;
  /** usable images */
  ok: number;
  /** usable images with a hash or dimensions missing: a row written half */
  incomplete: number;
}

export function importedRows(file: string, folder: string): ImportedRows {
  const prefix = folder.endsWith(path.sep) ? folder : folder + path.sep;
  return withDb(file, (db) =>
    db
      .prepare(
        `SELECT COUNT(*) AS total,
                COALESCE(SUM(status = 'ok'), 0) AS ok,
                COALESCE(SUM(status = 'ok' AND (hash IS NULL OR width IS NULL OR height IS NULL)), 0) AS incomplete
           FROM images WHERE substr(path, 1, ?) = ?`,
      )
      .get(prefix.length, prefix) as ImportedRows,
  );
}

/** Every usable image's path and current class name (null: unlabeled). */
export function labelsByPath(file: string): Map<string, string | null> {
  return withDb(file, (db) => {
    const rows = db.prepare(`SELECT i.path, c.name FROM images i LEFT JOIN classes c ON c.id = i.class_id WHERE i.status = 'ok' ORDER BY i.path`).all() as { path: string; name: string | null }[];
    return new Map(rows.map((r) => [r.path, r.name]));
  });
}

export interface EditRow {
  id: number;
  undone: boolean;
}

/** The newest entry of the undo journal that is not undone, and the newest entry at all. */
export function journal(file: string): { newest: EditRow | null; lastDone: EditRow | null } {
  return withDb(file, (db) => {
    const newest = db.prepare('SELECT id, undone FROM edits ORDER BY id DESC LIMIT 1').get() as { id: number; undone: number } | undefined;
    const lastDone = db.prepare('SELECT id, undone FROM edits WHERE undone = 0 ORDER BY id DESC LIMIT 1').get() as { id: number; undone: number } | undefined;
    const row = (r: { id: number; undone: number } | undefined) => (r ? { id: r.id, undone: r.undone === 1 } : null);
    return { newest: row(newest), lastDone: row(lastDone) };
  });
}

export interface RunRow {
  id: number;
  status: string;
  /** epochs recorded, and their numbers in order */
  epochs: number[];
}

export function runs(file: string): RunRow[] {
  return withDb(file, (db) => {
    const list = db.prepare('SELECT id, status FROM runs ORDER BY id').all() as { id: number; status: string }[];
    const epochs = db.prepare('SELECT epoch FROM epochs WHERE run_id = ? ORDER BY epoch');
    return list.map((r) => ({ ...r, epochs: (epochs.all(r.id) as { epoch: number }[]).map((e) => e.epoch) }));
  });
}

/** Bytes in the project's write-ahead log: it grows when a transaction writes (opening alone does not). */
export function walBytes(file: string): number {
  try {
    return fs.statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

export interface ImportedRun {
  id: number;
  status: string;
  /** the class names as the run stored them (what its model's labels.json holds) */
  classes: string[];
  epochs: number;
}

/** Runs a hand-off import created (backend 'pytorch'), oldest first. */
export function importedRuns(file: string): ImportedRun[] {
  return withDb(file, (db) => {
    const rows = db.prepare(`SELECT r.id, r.status, r.classes, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id) AS epochs FROM runs r WHERE r.backend = 'pytorch' ORDER BY r.id`).all() as { id: number; status: string; classes: string; epochs: number }[];
    return rows.map((r) => ({ id: r.id, status: r.status, classes: JSON.parse(r.classes) as string[], epochs: r.epochs }));
  });
}
