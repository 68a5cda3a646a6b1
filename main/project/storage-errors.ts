/**
 * What a failing disk or project file says, in words. SQLite (better-sqlite3 errors carry its
 * extended result code, e.g. SQLITE_READONLY_DIRECTORY, in `.code`) and Node's file system (errno
 * names in `.code`) report a damaged file, a read-only one, a lock held elsewhere and a full disk
 * with terse codes; a query can meet any of them long after the file opened. These helpers turn
 * them into an ApiError with the right code that names the project file and says what to do,
 * wherever the error surfaces: opening (./database.ts), any call of the service, an import, a run.
 */
import path from 'node:path';
import { ApiError, type ErrorCode } from '../contract/contract';

export type StorageFailure = 'damaged' | 'read_only' | 'denied' | 'locked' | 'full' | 'io';

/** The kind of storage failure an error is, or null when it is something else (a bug, bad input). */
export function storageFailureOf(err: unknown): StorageFailure | null {
  const code = errorCodeOf(err);
  if (!code) return null;
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'damaged';
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return 'read_only';
  if (code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_AUTH') || code === 'EACCES' || code === 'EPERM') return 'denied';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'locked';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'full';
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || code === 'EIO') return 'io';
  return null;
}

/** The ApiError code a failure of this kind travels as: a full or failing disk is io_error (CLI exit 4). */
export function errorCodeOfFailure(err: unknown): ErrorCode {
  if (err instanceof ApiError) return err.code;
  switch (storageFailureOf(err)) {
    case 'damaged':
      return 'not_a_project';
    case 'locked':
      return 'busy';
    case 'read_only':
    case 'denied':
    case 'full':
    case 'io':
      return 'io_error';
    default:
      return 'internal';
  }
}

/**
 * The error of a project file that failed while Effitune tried `doing` (e.g. "save the changes"),
 * or null when `err` is not a storage failure (then it stays what it was).
 */
export function projectFileError(err: unknown, file: string, doing: string): ApiError | null {
  if (err instanceof ApiError) return err;
  const kind = storageFailureOf(err);
  if (kind === null) return null;
  const said = firstLine(err);
  switch (kind) {
    case 'damaged':
      return new ApiError(
        'not_a_project',
        `project file ${file} is damaged (SQLite says: ${said}), so Effitune cannot ${doing}. ` +
          `Restore the .effitune file from a backup copy; sqlite3's ".recover" command may save what is left into a new file.`,
      );
    case 'read_only':
      return new ApiError(
        'io_error',
        `project file ${file} is read-only, so Effitune cannot ${doing} (${said}). ` +
          `Make the file and its folder writable (SQLite also writes ${path.basename(file)}-wal and -shm beside it), or open a writable copy.`,
      );
    case 'denied':
      return new ApiError('io_error', `cannot ${doing}: permission denied on project file ${file} or its folder (${said})`);
    case 'locked':
      return new ApiError('busy', `cannot ${doing}: project file ${file} is locked by another program (${said}); try again once it is done`);
    case 'full':
      return new ApiError('io_error', `cannot ${doing}: the disk holding project file ${file} is full (${said}); free some space and try again`);
    case 'io':
      return new ApiError('io_error', `cannot ${doing}: reading or writing project file ${file} failed (${said})`);
  }
}

/**
 * A UNIQUE constraint that fails while an import writes is another import of the same project, in
 * another process, that took the same file or content between our check and our write.
 */
export function isUniqueConstraintRace(err: unknown): boolean {
  const code = errorCodeOf(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** An error of SQLite itself (so of a project file: the only databases Effitune opens are projects). */
export function isSqliteError(err: unknown): boolean {
  return errorCodeOf(err).startsWith('SQLITE_');
}

/**
 * A file system failure outside the project file (a full disk under an export, a folder that is
 * not writable) as io_error, naming the path Node names; null when `err` is not one.
 */
export function fileSystemError(err: unknown, doing: string): ApiError | null {
  if (err instanceof ApiError) return err;
  const kind = storageFailureOf(err);
  if (kind === null || kind === 'damaged' || isSqliteError(err)) return null;
  const where = (err as { path?: unknown }).path;
  const said = firstLine(err);
  const file = typeof where === 'string' && !said.includes(where) ? ` (${where})` : '';
  const why = kind === 'full' ? 'the disk is full' : kind === 'read_only' ? 'the file system is read-only' : kind === 'denied' ? 'permission denied' : kind === 'locked' ? 'the file is locked' : 'the disk failed';
  return new ApiError(kind === 'locked' ? 'busy' : 'io_error', `cannot ${doing}: ${why}: ${said}${file}`);
}

function errorCodeOf(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : '';
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0];
}
