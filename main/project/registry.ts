/**
 * The projects this app has open, and the list of recently opened ones.
 * Handles are opened on demand and kept for the life of the app: database calls are synchronous and
 * cheap once the file is open. The recent list is a small JSON file in the app's data folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ApiError, type ProjectInfo, type RecentProject } from '../contract/contract';
import { openDatabase, userVersion, type Database } from './database';

export interface ProjectHandle {
  /** absolute path of the .effitune file, the key of every call */
  readonly path: string;
  readonly db: Database;
  info: ProjectInfo;
}

const MAX_RECENT = 20;
const StoredRecent = z.array(z.object({ path: z.string(), name: z.string(), openedAt: z.string() }));
type StoredRecent = z.infer<typeof StoredRecent>;

export class ProjectRegistry {
  private readonly handles = new Map<string, ProjectHandle>();
  private readonly recentFile: string;

  constructor(readonly dataDir: string) {
    this.recentFile = path.join(dataDir, 'recent-projects.json');
  }

  create(file: string, name?: string): ProjectInfo {
    const resolved = path.resolve(file);
    const db = openDatabase(resolved, { create: true });
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('name', name ?? defaultName(resolved));
    const handle: ProjectHandle = { path: resolved, db, info: readProjectInfo(db, resolved) };
    this.handles.set(resolved, handle);
    this.remember(handle.info);
    return handle.info;
  }

  /** Open (or return the already open) project and put it first in the recent list. */
  open(file: string): ProjectInfo {
    const handle = this.get(file);
    this.remember(handle.info);
    return handle.info;
  }

  /** The open handle of a project, opening the file on first use. */
  get(file: string): ProjectHandle {
    const resolved = path.resolve(file);
    let handle = this.handles.get(resolved);
    if (!handle) {
      const db = openDatabase(resolved, { create: false });
      handle = { path: resolved, db, info: readProjectInfo(db, resolved) };
      this.handles.set(resolved, handle);
    }
    return handle;
  }

  rename(file: string, name: string): ProjectInfo {
    const handle = this.get(file);
    handle.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run('name', name);
    handle.info = readProjectInfo(handle.db, handle.path);
    const list = this.readRecent();
    const entry = list.find((p) => p.path === handle.path);
    if (entry) {
      entry.name = name;
      this.writeRecent(list);
    }
    return handle.info;
  }

  /** Close a project's file; false when it was not open. */
  close(file: string): boolean {
    const resolved = path.resolve(file);
    const handle = this.handles.get(resolved);
    if (!handle) return false;
    this.handles.delete(resolved);
    handle.db.close();
    return true;
  }

  closeAll(): void {
    for (const file of [...this.handles.keys()]) this.close(file);
  }

  /** Recently opened projects, most recent first; `exists` tells which files are still there. */
  recent(): RecentProject[] {
    return this.readRecent().map((p) => ({ ...p, exists: fs.existsSync(p.path) }));
  }

  /**
   * A folder beside the project file, named after it (/x/foo.effitune -> /x/foo.effitune.d/<sub>),
   * for binaries too large for the database: checkpoints, caches, exports. Created if needed.
   */
  sideFolder(projectPath: string, sub: string): string {
    if (!sub || sub.includes('..') || path.isAbsolute(sub)) throw new ApiError('invalid_input', `"${sub}" is not a valid sub-folder name`);
    const folder = path.join(`${path.resolve(projectPath)}.d`, sub);
    fs.mkdirSync(folder, { recursive: true });
    return folder;
  }

  private remember(info: ProjectInfo): void {
    const list = this.readRecent().filter((p) => p.path !== info.path);
    list.unshift({ path: info.path, name: info.name, openedAt: new Date().toISOString() });
    this.writeRecent(list.slice(0, MAX_RECENT));
  }

  private readRecent(): StoredRecent {
    let text: string;
    try {
      text = fs.readFileSync(this.recentFile, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = StoredRecent.safeParse(JSON.parse(text));
      // A damaged list is not worth an error: the projects themselves are untouched.
      return parsed.success ? parsed.data : [];
    } catch {
      return [];
    }
  }

  /** Write-then-rename, so a crash never leaves half a list. */
  private writeRecent(list: StoredRecent): void {
    fs.mkdirSync(this.dataDir, { recursive: true });
    const tmp = `${this.recentFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(list, null, 2));
    fs.renameSync(tmp, this.recentFile);
  }
}

export function readProjectInfo(db: Database, file: string): ProjectInfo {
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  return {
    path: file,
    name: meta.get('name') ?? defaultName(file),
    createdAt: meta.get('created_at') ?? '',
    schemaVersion: userVersion(db),
  };
}

function defaultName(file: string): string {
  return path.basename(file).replace(/\.effitune$/i, '') || path.basename(file);
}
