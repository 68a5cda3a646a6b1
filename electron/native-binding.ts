/**
 * better-sqlite3 is the one native module whose binary depends on the runtime's ABI. The copy in
 * node_modules is built for Node (tests, CLI); Electron loads its own build, made by
 * scripts/electron-native.mjs in development and shipped in resources/native when packaged.
 *
 * EFFITUNE_SQLITE_BINDING names another build (scripts/start.mjs passes the one it made). Loading a
 * .node file runs its code in the main process, so the variable is honoured only in development and
 * only for a file of better-sqlite3 inside the app's own folder; a packaged app always loads the
 * binding it ships (and its workers inherit that path, never the caller's).
 */
import fs from 'node:fs';
import path from 'node:path';

export const SQLITE_BINDING_ENV = 'EFFITUNE_SQLITE_BINDING';

export interface BindingLocation {
  path: string;
  /** Set when the binding cannot be used, in words, with what fixes it. */
  problem?: string;
  /** Set when EFFITUNE_SQLITE_BINDING was given but not used (a packaged app), in words. */
  ignored?: string;
}

export interface BindingOptions {
  isPackaged: boolean;
  appPath: string;
  resourcesPath: string;
  electronVersion: string;
  /** The EFFITUNE_SQLITE_BINDING the app was started with; default process.env's. */
  requested?: string;
}

/** The folders of the app where a development build of better-sqlite3 may be (realpaths where they exist). */
export function devBindingFolders(appPath: string): string[] {
  return [path.join(appPath, 'node_modules', 'better-sqlite3'), path.join(appPath, '.cache', 'electron-native')].map(realOrSelf);
}

function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function isInside(file: string, folder: string): boolean {
  const rel = path.relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Why a requested development binding may not be loaded, or null when it may. */
export function devBindingProblem(requested: string, appPath: string): string | null {
  const where = `${SQLITE_BINDING_ENV} (${requested})`;
  if (!path.isAbsolute(requested)) return `${where} must be an absolute path`;
  if (path.extname(requested) !== '.node') return `${where} is not a native module (.node) file`;
  const stat = fs.statSync(requested, { throwIfNoEntry: false });
  if (!stat) return `${where} does not exist`;
  if (!stat.isFile()) return `${where} is not a file`;
  // the real file, so a link inside the app's folder cannot point at a file outside it
  const real = fs.realpathSync(requested);
  const folders = devBindingFolders(appPath);
  if (!folders.some((folder) => isInside(real, folder))) {
    return `${where} is refused: only a build of better-sqlite3 inside the app's own folders (${folders.join(' or ')}) is loaded`;
  }
  return null;
}

export function sqliteBinding(options: BindingOptions): BindingLocation {
  const requested = (options.requested ?? process.env[SQLITE_BINDING_ENV])?.trim() || undefined;
  if (options.isPackaged) {
    const file = path.join(options.resourcesPath, 'native', 'better_sqlite3.node');
    const ignored = requested ? `${SQLITE_BINDING_ENV} is ignored: a packaged app loads only the SQLite module it ships` : undefined;
    if (fs.existsSync(file)) return { path: file, ...(ignored && { ignored }) };
    return { path: file, problem: `The SQLite module for Electron ${options.electronVersion} is missing (${file}). To fix it, reinstall Effitune.`, ...(ignored && { ignored }) };
  }
  if (requested) {
    const problem = devBindingProblem(requested, options.appPath);
    return problem ? { path: requested, problem: `${problem}. Unset it, or run "npm start", which builds and passes the right one.` } : { path: requested };
  }
  const file = path.join(options.appPath, '.cache', 'electron-native', options.electronVersion, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  if (fs.existsSync(file)) return { path: file };
  return {
    path: file,
    problem: `The SQLite module for Electron ${options.electronVersion} is missing (${file}). To fix it, run "npm start" (it builds it) or "node scripts/electron-native.mjs".`,
  };
}
