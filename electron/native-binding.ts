/**
 * better-sqlite3 is the one native module whose binary depends on the runtime's ABI. The copy in
 * node_modules is built for Node (tests, CLI); Electron loads its own build, made by
 * scripts/electron-native.mjs in development and shipped in resources/native when packaged.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface BindingLocation {
  path: string;
  /** Set when the binding is not there, in words, with the command that builds it. */
  problem?: string;
}

export function sqliteBinding(options: { isPackaged: boolean; appPath: string; resourcesPath: string; electronVersion: string }): BindingLocation {
  const fromEnv = process.env.EFFITUNE_SQLITE_BINDING;
  const file =
    fromEnv ||
    (options.isPackaged
      ? path.join(options.resourcesPath, 'native', 'better_sqlite3.node')
      : path.join(options.appPath, '.cache', 'electron-native', options.electronVersion, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'));
  if (fs.existsSync(file)) return { path: file };
  const fix = options.isPackaged ? 'reinstall Effitune' : 'run "npm start" (it builds it) or "node scripts/electron-native.mjs"';
  return { path: file, problem: `The SQLite module for Electron ${options.electronVersion} is missing (${file}). To fix it, ${fix}.` };
}
