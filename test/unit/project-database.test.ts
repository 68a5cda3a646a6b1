import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { APPLICATION_ID, openDatabase } from '../../main/project/database';
import { migrations } from '../../main/project/migrations';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
beforeEach(() => {
  dir = makeTempDir('db');
});
afterEach(() => removeDir(dir));

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected an ApiError, nothing was thrown');
}

describe('openDatabase', () => {
  it('creates a project file in WAL mode with foreign keys and the current schema', () => {
    const file = path.join(dir, 'new.effitune');
    const db = openDatabase(file, { create: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['classes', 'embeddings', 'epochs', 'images', 'meta', 'runs', 'sources', 'thumbnails']));
    expect(db.prepare(`SELECT value FROM meta WHERE key = 'created_at'`).pluck().get()).toMatch(/^\d{4}-\d\d-\d\dT/);
    db.close();
    const again = openDatabase(file, { create: false });
    expect(again.pragma('user_version', { simple: true })).toBe(migrations.length);
    again.close();
  });

  it('enforces the schema: one usable row per content hash, foreign keys, cascade of thumbnails', () => {
    const db = openDatabase(path.join(dir, 'p.effitune'), { create: true });
    const insert = db.prepare(`INSERT INTO images (path, bytes, hash, status, imported_at) VALUES (?, 1, ?, ?, 'now')`);
    const first = Number(insert.run('/a.jpg', 'h1', 'ok').lastInsertRowid);
    expect(() => insert.run('/b.jpg', 'h1', 'ok')).toThrow(/UNIQUE/);
    insert.run('/c.jpg', 'h1', 'duplicate'); // a duplicate may share the hash
    expect(() => insert.run('/d.jpg', 'h2', 'bogus')).toThrow(/CHECK/);
    expect(() => db.prepare(`UPDATE images SET class_id = 99 WHERE id = ?`).run(first)).toThrow(/FOREIGN KEY/);
    db.prepare('INSERT INTO thumbnails (image_id, webp) VALUES (?, ?)').run(first, Buffer.from('x'));
    db.prepare('DELETE FROM images WHERE id = ?').run(first);
    expect(db.prepare('SELECT COUNT(*) FROM thumbnails').pluck().get()).toBe(0);
    db.close();
  });

  it('refuses to create over an existing file and in a folder that does not exist', () => {
    const file = path.join(dir, 'taken.effitune');
    fs.writeFileSync(file, 'something');
    const taken = apiError(() => openDatabase(file, { create: true }));
    expect(taken.code).toBe('already_exists');
    expect(taken.message).toContain(file);
    expect(fs.readFileSync(file, 'utf8')).toBe('something');

    const nowhere = path.join(dir, 'no-such-folder', 'p.effitune');
    const missing = apiError(() => openDatabase(nowhere, { create: true }));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toContain(path.join(dir, 'no-such-folder'));
  });

  it('says in words why a file is not a project', () => {
    const missing = apiError(() => openDatabase(path.join(dir, 'gone.effitune'), { create: false }));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toContain('gone.effitune');

    const text = path.join(dir, 'notes.effitune');
    fs.writeFileSync(text, 'just some text that is long enough to have a header\n'.repeat(20));
    const notSqlite = apiError(() => openDatabase(text, { create: false }));
    expect(notSqlite.code).toBe('not_a_project');
    expect(notSqlite.message).toBe(`${text} is not an Effitune project (it is not an SQLite database)`);

    const empty = path.join(dir, 'empty.effitune');
    fs.writeFileSync(empty, '');
    expect(apiError(() => openDatabase(empty, { create: false })).code).toBe('not_a_project');

    expect(apiError(() => openDatabase(dir, { create: false })).message).toContain('is a folder');

    const other = path.join(dir, 'other.sqlite');
    const foreign = new BetterSqlite3(other);
    foreign.exec('CREATE TABLE t (x)');
    foreign.close();
    const notOurs = apiError(() => openDatabase(other, { create: false }));
    expect(notOurs.code).toBe('not_a_project');
    expect(notOurs.message).toBe(`${other} is an SQLite database but not an Effitune project`);
  });

  it('refuses a project written by a newer version', () => {
    const file = path.join(dir, 'future.effitune');
    openDatabase(file, { create: true }).close();
    const raw = new BetterSqlite3(file);
    raw.pragma(`user_version = ${migrations.length + 1}`);
    raw.close();
    const err = apiError(() => openDatabase(file, { create: false }));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toMatch(/newer Effitune/);
  });

  it('applies pending migrations step by step, each in its own transaction', () => {
    const file = path.join(dir, 'old.effitune');
    const v1 = ['CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)'];
    openDatabase(file, { create: true, migrations: v1 }).close();

    // step 2 works, step 3 fails halfway: the file must stay at version 2 with nothing of step 3
    const steps = [...v1, 'CREATE TABLE two (x)', 'CREATE TABLE three (x); INSERT INTO no_such_table VALUES (1)'];
    expect(() => openDatabase(file, { create: false, migrations: steps })).toThrow(ApiError);
    const raw = new BetterSqlite3(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(2);
    const tables = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all();
    expect(tables).toEqual(['meta', 'two']);
    raw.close();

    const fixed = [...v1, 'CREATE TABLE two (x)', 'CREATE TABLE three (x)'];
    const db = openDatabase(file, { create: false, migrations: fixed });
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    db.close();
  });

  it('takes the native binding from EFFITUNE_SQLITE_BINDING when set', () => {
    const saved = process.env.EFFITUNE_SQLITE_BINDING;
    try {
      process.env.EFFITUNE_SQLITE_BINDING = path.join(dir, 'no-such-binding.node');
      expect(() => openDatabase(path.join(dir, 'x.effitune'), { create: true })).toThrow(/no-such-binding\.node/);
      expect(fs.existsSync(path.join(dir, 'x.effitune'))).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.EFFITUNE_SQLITE_BINDING;
      else process.env.EFFITUNE_SQLITE_BINDING = saved;
    }
  });
});
