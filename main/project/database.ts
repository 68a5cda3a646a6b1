/**
 * Opening and creating project files: one SQLite database per project, in WAL mode with foreign keys,
 * brought up to date by the migrations in ./migrations. Every failure becomes an ApiError naming the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ApiError } from '../contract/contract';
import { migrations as projectMigrations } from './migrations';
import { projectFileError } from './storage-errors';

export type Database = BetterSqlite3.Database;

/** PRAGMA application_id of every Effitune project ("EfTn"), so any other SQLite file is told apart. */
export const APPLICATION_ID = 0x4566546e;

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export interface OpenOptions {
  create: boolean;
  /** the schema steps to apply; tests pass their own, the app uses ./migrations */
  migrations?: readonly string[];
}

export function openDatabase(file: string, options: OpenOptions): Database {
  checkProjectPath(file);
  const resolved = path.resolve(file);
  const migrations = options.migrations ?? projectMigrations;
  return options.create ? createProjectFile(resolved, migrations) : openProjectFile(resolved, migrations);
}

/** The native binding may be swapped (env EFFITUNE_SQLITE_BINDING): Electron loads a copy built for its own ABI. */
function connect(file: string, fileMustExist: boolean): Database {
  const nativeBinding = process.env.EFFITUNE_SQLITE_BINDING || undefined;
  return new BetterSqlite3(file, { fileMustExist, nativeBinding });
}

function createProjectFile(file: string, migrations: readonly string[]): Database {
  if (fs.existsSync(file)) throw new ApiError('already_exists', `cannot create project ${file}: a file with that name already exists`);
  const folder = path.dirname(file);
  if (!isDirectory(folder)) throw new ApiError('not_found', `cannot create project ${file}: the folder ${folder} does not exist`);
  let db: Database | undefined;
  try {
    db = connect(file, false);
    configure(db);
    db.transaction(() => {
      db!.pragma(`application_id = ${APPLICATION_ID}`);
      migrate(db!, migrations);
      db!.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('created_at', new Date().toISOString());
    }).immediate();
    return db;
  } catch (err) {
    // A half-made file would later read as "not a project": remove it so the user can simply retry.
    db?.close();
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
    throw translate(err, file, 'create');
  }
}

function openProjectFile(file: string, migrations: readonly string[]): Database {
  checkLooksLikeSqlite(file);
  let db: Database | undefined;
  try {
    db = connect(file, true);
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    if (applicationId !== APPLICATION_ID) {
      throw new ApiError('not_a_project', `${file} is an SQLite database but not an Effitune project`);
    }
    const version = userVersion(db);
    if (version > migrations.length) {
      throw new ApiError(
        'invalid_input',
        `${file} was written by a newer Effitune (project schema version ${version}; this version knows up to ${migrations.length}). Update Effitune to open it.`,
      );
    }
    configure(db);
    migrateStepwise(db, migrations);
    return db;
  } catch (err) {
    db?.close();
    throw translate(err, file, 'open');
  }
}

/** Cheap checks before SQLite touches the file, so the user hears what is wrong with it in words. */
function checkLooksLikeSqlite(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ApiError('not_found', `project file ${file} does not exist`);
    throw translate(err, file, 'open');
  }
  if (stat.isDirectory()) throw new ApiError('not_a_project', `${file} is a folder, not an Effitune project file`);
  if (!stat.isFile()) throw new ApiError('not_a_project', `${file} is not a regular file, so not an Effitune project`);
  if (stat.size === 0) throw new ApiError('not_a_project', `${file} is an empty file, not an Effitune project`);
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (!head.equals(SQLITE_HEADER)) throw new ApiError('not_a_project', `${file} is not an Effitune project (it is not an SQLite database)`);
}

function configure(db: Database): void {
  db.pragma('journal_mode = WAL');
  // In WAL mode NORMAL is safe against a killed process; only a power cut may lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
}

export function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Apply the pending steps inside the caller's transaction (used when creating a file). */
function migrate(db: Database, migrations: readonly string[]): void {
  for (let version = userVersion(db); version < migrations.length; version++) {
    db.exec(migrations[version]);
    db.pragma(`user_version = ${version + 1}`);
  }
}

/** One transaction per step; the version is re-read under the write lock in case another process migrated first. */
function migrateStepwise(db: Database, migrations: readonly string[]): void {
  const step = db.transaction((): boolean => {
    const version = userVersion(db);
    if (version >= migrations.length) return false;
    db.exec(migrations[version]);
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  while (step.immediate()) {
    // keep stepping until up to date
  }
}

function isDirectory(folder: string): boolean {
  try {
    return fs.statSync(folder).isDirectory();
  } catch {
    return false;
  }
}

function translate(err: unknown, file: string, action: 'open' | 'create'): ApiError {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: string }).code ?? '';
  const message = err instanceof Error ? err.message : String(err);
  // a header that says SQLite over pages that are not: most likely some other file with the right name
  if (code === 'SQLITE_NOTADB') return new ApiError('not_a_project', `${file} is not an Effitune project or is damaged: ${message}`);
  const known = projectFileError(err, file, `${action} the project`);
  if (known) return known;
  return new ApiError('internal', `cannot ${action} project ${file}: ${message}`);
}

/** Node refuses a path holding a NUL byte deep inside fs, and SQLite would cut it there and use another file. */
export function checkProjectPath(file: string): void {
  if (file.includes('\0')) throw nulInPath(file);
}

function nulInPath(file: string): ApiError {
  return new ApiError('invalid_input', `project path "${file.replace(/\0/g, '\\0')}" contains a NUL byte (\\0), which no file name can hold`);
}
