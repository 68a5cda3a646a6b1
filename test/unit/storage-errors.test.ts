/**
 * Storage failures in words: the errors SQLite and Node's file system really throw (a read-only
 * connection, a held write lock, a full disk) become ApiErrors with the code the doors map to an
 * exit status, naming the project file; anything else is left alone. And a run that failed on a
 * full disk exits the CLI with the file system code, not the crash code.
 */
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { openDatabase } from '../../main/project/database';
import { errorCodeOfFailure, fileSystemError, isUniqueConstraintRace, projectFileError, storageFailureOf } from '../../main/project/storage-errors';
import { EXIT, exitCodeOf, exitCodeOfRun } from '../../main/cli/exit-codes';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
let file: string;
beforeEach(() => {
  dir = makeTempDir('storage-errors');
  file = path.join(dir, 'p.effitune');
  openDatabase(file, { create: true }).close();
});
afterEach(() => removeDir(dir));

/** What `fn` throws: a test of what an error becomes needs the real thing. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, nothing was thrown');
}

function errnoError(code: string, syscall: string, where: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, ${syscall} '${where}'`), { code, syscall, path: where });
}

describe('errors of a project file', () => {
  it('a write to a read-only connection is io_error "is read-only", naming the file and what to do', () => {
    const readOnly = new BetterSqlite3(file, { readonly: true });
    const err = thrown(() => readOnly.prepare(`INSERT INTO meta (key, value) VALUES ('k', 'v')`).run());
    readOnly.close();
    expect(storageFailureOf(err)).toBe('read_only');
    const api = projectFileError(err, file, 'save the name');
    expect(api).toMatchObject({ code: 'io_error' });
    expect(api!.message).toContain(`project file ${file} is read-only, so Effitune cannot save the name`);
    expect(api!.message).toMatch(/writable/);
    expect(exitCodeOf(api!.code)).toBe(EXIT.io);
  });

  it('a write lock held by another connection is busy, naming the file', () => {
    const holder = new BetterSqlite3(file);
    holder.exec('BEGIN IMMEDIATE');
    const other = new BetterSqlite3(file, { timeout: 0 });
    const err = thrown(() => other.exec('BEGIN IMMEDIATE'));
    holder.exec('ROLLBACK');
    holder.close();
    other.close();
    expect(storageFailureOf(err)).toBe('locked');
    expect(projectFileError(err, file, 'label images')).toMatchObject({ code: 'busy', message: expect.stringContaining(`project file ${file} is locked by another program`) });
  });

  it('a UNIQUE constraint is a race of two writers, other constraints are not', () => {
    const db = openDatabase(file, { create: false });
    const insert = db.prepare(`INSERT INTO images (path, bytes, hash, status, imported_at) VALUES (?, 1, ?, 'ok', 'now')`);
    insert.run('/a.jpg', 'h');
    const unique = thrown(() => insert.run('/b.jpg', 'h'));
    const check = thrown(() => db.prepare(`INSERT INTO images (path, bytes, hash, status, imported_at) VALUES ('/c.jpg', 1, 'x', 'bogus', 'now')`).run());
    db.close();
    expect(isUniqueConstraintRace(unique)).toBe(true);
    expect(isUniqueConstraintRace(check)).toBe(false);
    // not a storage failure: left to whoever knows what the write was
    expect(projectFileError(unique, file, 'import')).toBeNull();
  });

  it('a full disk, from SQLite or from Node, is io_error', () => {
    const sqliteFull = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    expect(projectFileError(sqliteFull, file, 'save')).toMatchObject({ code: 'io_error', message: expect.stringContaining(`the disk holding project file ${file} is full`) });
    expect(errorCodeOfFailure(sqliteFull)).toBe('io_error');
    expect(errorCodeOfFailure(errnoError('ENOSPC', 'write', '/runs/1/.tmp-epoch-0000/weights.bin'))).toBe('io_error');
    expect(errorCodeOfFailure(errnoError('EROFS', 'open', '/x'))).toBe('io_error');
  });

  it('leaves alone what is not a storage failure, and keeps ApiErrors as they are', () => {
    expect(projectFileError(new TypeError('x is undefined'), file, 'save')).toBeNull();
    expect(errorCodeOfFailure(new TypeError('x is undefined'))).toBe('internal');
    expect(errorCodeOfFailure(new ApiError('not_found', 'gone'))).toBe('not_found');
    expect(errorCodeOfFailure({ code: 42 })).toBe('internal');
  });
});

describe('file system errors outside the project file', () => {
  it('name the path and what failed, as io_error', () => {
    const where = '/exports/model/weights.bin';
    const err = fileSystemError(errnoError('ENOSPC', 'write', where), 'export run 3');
    expect(err).toMatchObject({ code: 'io_error', message: expect.stringMatching(/^cannot export run 3: the disk is full: ENOSPC/) });
    expect(err!.message).toContain(where);
    expect(fileSystemError(new Error('plain'), 'x')).toBeNull();
  });
});

describe('the exit status of a run the CLI waited for', () => {
  it('is 4 for a run failed by a full disk, 5 for a crash, 0 and 130 for completed and cancelled', () => {
    expect(exitCodeOfRun('failed', 'io_error')).toBe(EXIT.io);
    expect(exitCodeOfRun('failed', 'internal')).toBe(EXIT.internal);
    expect(exitCodeOfRun('failed', undefined)).toBe(EXIT.internal);
    expect(exitCodeOfRun('failed', 'no-such-code')).toBe(EXIT.internal);
    expect(exitCodeOfRun('completed', undefined)).toBe(EXIT.ok);
    expect(exitCodeOfRun('cancelled', undefined)).toBe(EXIT.interrupted);
  });
});
