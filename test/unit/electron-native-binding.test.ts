/**
 * Where the desktop app loads its SQLite native module from (electron/native-binding.ts): a
 * packaged app only ever loads the one it ships, whatever EFFITUNE_SQLITE_BINDING says; in
 * development that variable may name only a better-sqlite3 build inside the app's own folders.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { devBindingProblem, sqliteBinding } from '../../electron/native-binding';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
let appPath: string;
let resourcesPath: string;
let outside: string;

function touch(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'not really a native module');
  return file;
}

beforeEach(() => {
  dir = makeTempDir('native-binding');
  appPath = path.join(dir, 'app');
  resourcesPath = path.join(dir, 'resources');
  outside = touch(path.join(dir, 'elsewhere', 'better_sqlite3.node'));
});

afterEach(() => removeDir(dir));

const base = () => ({ appPath, resourcesPath, electronVersion: '41.7.1' });

describe('a packaged app', () => {
  it('loads the binding it ships and ignores EFFITUNE_SQLITE_BINDING', () => {
    const shipped = touch(path.join(resourcesPath, 'native', 'better_sqlite3.node'));
    const found = sqliteBinding({ ...base(), isPackaged: true, requested: outside });
    expect(found.path).toBe(shipped);
    expect(found.problem).toBeUndefined();
    expect(found.ignored).toMatch(/EFFITUNE_SQLITE_BINDING is ignored: a packaged app loads only the SQLite module it ships/);
  });

  it('says what to do when the shipped binding is missing, still without loading the requested one', () => {
    const found = sqliteBinding({ ...base(), isPackaged: true, requested: outside });
    expect(found.path).toBe(path.join(resourcesPath, 'native', 'better_sqlite3.node'));
    expect(found.problem).toMatch(/SQLite module for Electron 41\.7\.1 is missing .*reinstall Effitune/);
  });

  it('reads the variable from the environment by default', () => {
    touch(path.join(resourcesPath, 'native', 'better_sqlite3.node'));
    const saved = process.env.EFFITUNE_SQLITE_BINDING;
    process.env.EFFITUNE_SQLITE_BINDING = outside;
    try {
      expect(sqliteBinding({ ...base(), isPackaged: true }).ignored).toBeDefined();
      expect(sqliteBinding({ ...base(), isPackaged: false }).problem).toMatch(/refused/);
    } finally {
      if (saved === undefined) delete process.env.EFFITUNE_SQLITE_BINDING;
      else process.env.EFFITUNE_SQLITE_BINDING = saved;
    }
  });
});

describe('in development', () => {
  it('without the variable, uses the build scripts/electron-native.mjs makes, or says how to make it', () => {
    const built = path.join(appPath, '.cache', 'electron-native', '41.7.1', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    expect(sqliteBinding({ ...base(), isPackaged: false, requested: '' }).problem).toMatch(/npm start/);
    touch(built);
    expect(sqliteBinding({ ...base(), isPackaged: false, requested: '' })).toEqual({ path: built });
  });

  it('accepts a build inside the app own node_modules/better-sqlite3 or .cache/electron-native', () => {
    for (const file of [
      touch(path.join(appPath, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')),
      touch(path.join(appPath, '.cache', 'electron-native', '41.7.1', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')),
    ]) {
      expect(sqliteBinding({ ...base(), isPackaged: false, requested: file })).toEqual({ path: file });
    }
  });

  it('refuses any other file, in words naming the variable and the file', () => {
    const sibling = touch(path.join(appPath, 'node_modules', 'evil-module', 'evil.node'));
    const notNode = touch(path.join(appPath, 'node_modules', 'better-sqlite3', 'lib', 'index.js'));
    const cases: [string, RegExp][] = [
      [outside, /is refused: only a build of better-sqlite3 inside the app's own folders/],
      [sibling, /is refused/],
      [notNode, /is not a native module \(\.node\) file/],
      ['relative/better_sqlite3.node', /must be an absolute path/],
      [path.join(appPath, 'node_modules', 'better-sqlite3', 'missing.node'), /does not exist/],
      [path.join(appPath, 'node_modules', 'better-sqlite3', '..', '..', '..', 'elsewhere', 'better_sqlite3.node'), /is refused/],
    ];
    for (const [file, why] of cases) {
      const found = sqliteBinding({ ...base(), isPackaged: false, requested: file });
      expect(found.problem, file).toMatch(why);
      expect(found.problem, file).toContain(`EFFITUNE_SQLITE_BINDING (${file})`);
      expect(found.problem, file).toMatch(/Unset it, or run "npm start"/);
    }
  });

  it('refuses a link inside the app folder that points at a file outside it', () => {
    const link = path.join(appPath, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(outside, link);
    expect(devBindingProblem(link, appPath)).toMatch(/is refused/);
  });

  it('refuses a folder named like a module', () => {
    const folder = path.join(appPath, 'node_modules', 'better-sqlite3', 'trick.node');
    fs.mkdirSync(folder, { recursive: true });
    expect(devBindingProblem(folder, appPath)).toMatch(/is not a file/);
  });
});
