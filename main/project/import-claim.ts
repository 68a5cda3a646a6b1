/**
 * One import per project across processes. Within one process import-folder.ts keeps a set of the
 * projects importing; two processes (two `effitune import` commands, the app and a command) share
 * nothing but the file, so the importing one writes a claim into the project's meta table: its
 * process id, host and folder. A second import that finds a live claim is refused as busy before it
 * reads a file, instead of racing the first for the same rows (a UNIQUE constraint failure halfway).
 *
 * A claim outlives a killed import; it is stale once its process is gone, and the next import takes
 * it over. A project in WAL mode is shared only by processes of one machine (they share its -shm
 * memory), so a claim written under another host name is stale too.
 */
import os from 'node:os';
import { z } from 'zod';
import { ApiError } from '../contract/contract';
import type { Database } from './database';

const CLAIM_KEY = 'import_running';
const Claim = z.object({ pid: z.number().int(), host: z.string(), folder: z.string(), since: z.string() });
type Claim = z.infer<typeof Claim>;

export interface ImportClaim {
  /** Give the claim up (the import ended, however). Never throws: a claim left behind goes stale with its process. */
  release(): void;
}

/** Take the project's import claim for `folder`, or throw busy naming the live import that holds it. */
export function claimImport(db: Database, projectPath: string, folder: string): ImportClaim {
  const mine: Claim = { pid: process.pid, host: os.hostname(), folder, since: new Date().toISOString() };
  const value = JSON.stringify(mine);
  // IMMEDIATE: the read and the write happen under the write lock, so two processes cannot both pass
  db.transaction(() => {
    const held = readClaim(db);
    if (held && held.pid !== process.pid && isAlive(held)) {
      throw new ApiError(
        'busy',
        `project ${projectPath} is already importing ${held.folder} in another process (pid ${held.pid}, since ${held.since}); wait for that import to finish or cancel it, then import again`,
      );
    }
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(CLAIM_KEY, value);
  }).immediate();
  return {
    release: () => {
      try {
        // only our own claim: a process that took over a claim we had lost keeps its own
        if (db.open) db.prepare('DELETE FROM meta WHERE key = ? AND value = ?').run(CLAIM_KEY, value);
      } catch {
        // the file went read-only or away: the claim is stale as soon as this process ends
      }
    },
  };
}

/** The import claim of the project as stored, or null (none, or unreadable: then it claims nothing). */
export function readClaim(db: Database): Claim | null {
  const raw = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(CLAIM_KEY) as string | undefined;
  if (raw === undefined) return null;
  try {
    const parsed = Claim.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function isAlive(claim: Claim): boolean {
  if (claim.host !== os.hostname()) return false;
  try {
    process.kill(claim.pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
