/**
 * A folder written whole or not at all: everything goes into a temporary sibling
 * `.NAME.tmp-PID-HEX` (same file system, so the final rename is atomic), then one rename puts it in
 * place. An existing folder is only replaced when asked, and never by deleting it first: it is
 * renamed aside to `.NAME.old-PID-HEX`, the new one renamed in, then the aside deleted; if the
 * second rename fails the old folder is put back. Any failure removes the temporary folder.
 *
 * A process killed mid-export leaves those siblings behind. The next export into the same parent
 * folder sweeps the ones of processes that are gone: a temporary folder is deleted (it never became
 * anything), an aside is renamed back to its name when that name is missing (killed between the two
 * renames: the old export comes back rather than both being lost) and deleted otherwise (the new
 * one made it in).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../contract/contract';

export interface StagedFolder {
  /** the folder being written */
  temp: string;
  /** where it goes */
  target: string;
  /** where an existing target is kept while the new one is renamed in */
  aside: string;
}

/**
 * A leftover of a writer in the same folder: `.NAME.tmp-PID-HEX` (being written) or
 * `.NAME.old-PID-HEX` (the previous version, set aside). `.NAME.tmp-PID-HEX.old` is how asides
 * were named before; they are treated the same.
 */
const LEFTOVER = /^\.(.+)\.(tmp|old)-(\d+)-([0-9a-f]{8})(\.old)?$/;

/**
 * A leftover whose writer is still running is left alone, unless it is this old: a process id
 * reused after a reboot must not keep a leftover forever, and no export takes half a day.
 */
export const LEFTOVER_STALE_MS = 12 * 3600_000;

export interface Leftover {
  /** the name the writer was writing (the target's base name) */
  name: string;
  kind: 'temp' | 'aside';
  pid: number;
  /** the random part, shared by a writer's temporary folder and its aside */
  token: string;
}

export function parseLeftover(fileName: string): Leftover | null {
  const match = LEFTOVER.exec(fileName);
  if (!match) return null;
  return { name: match[1], kind: match[2] === 'old' || match[5] !== undefined ? 'aside' : 'temp', pid: Number(match[3]), token: match[4] };
}

/** The leftover name of this process for a target, e.g. `.model.tmp-1234-0a1b2c3d`. */
export function leftoverName(targetName: string, kind: Leftover['kind'], token: string): string {
  return `.${targetName}.${kind === 'temp' ? 'tmp' : 'old'}-${process.pid}-${token}`;
}

export function newToken(): string {
  return crypto.randomBytes(4).toString('hex');
}

export function processIsAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is someone else's
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a leftover (with its modification time) belongs to nobody any more. */
export function isStale(leftover: Leftover, mtimeMs: number, now = Date.now()): boolean {
  if (leftover.pid === process.pid) return false; // ours: an export of this process may be writing it
  return !processIsAlive(leftover.pid) || now - mtimeMs > LEFTOVER_STALE_MS;
}

export interface SweepReport {
  /** temporary folders deleted */
  removed: string[];
  /** asides renamed back to their missing target */
  restored: string[];
  /** asides deleted because their target is in place */
  discarded: string[];
}

/**
 * Clean up the export leftovers of dead processes in a folder (see the top of this file). Best
 * effort: a leftover that cannot be removed is left for the next sweep, and never fails an export.
 */
export function sweepFolderLeftovers(parent: string): SweepReport {
  const report: SweepReport = { removed: [], restored: [], discarded: [] };
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return report;
  }
  const stale: { full: string; leftover: Leftover }[] = [];
  for (const fileName of names) {
    const leftover = parseLeftover(fileName);
    if (!leftover) continue;
    const full = path.join(parent, fileName);
    try {
      const stat = fs.lstatSync(full);
      if (stat.isDirectory() && isStale(leftover, stat.mtimeMs)) stale.push({ full, leftover });
    } catch {
      // gone meanwhile
    }
  }
  // asides first, newest first: when a name is missing, the most recent previous version comes back
  const asides = stale.filter((s) => s.leftover.kind === 'aside').sort((a, b) => mtimeOf(b.full) - mtimeOf(a.full));
  for (const { full, leftover } of asides) {
    const target = path.join(parent, leftover.name);
    try {
      if (!exists(target)) {
        fs.renameSync(full, target);
        report.restored.push(target);
      } else {
        fs.rmSync(full, { recursive: true, force: true });
        report.discarded.push(full);
      }
    } catch {
      // left for the next sweep
    }
  }
  for (const { full, leftover } of stale) {
    if (leftover.kind !== 'temp') continue;
    try {
      fs.rmSync(full, { recursive: true, force: true });
      report.removed.push(full);
    } catch {
      // left for the next sweep
    }
  }
  if (report.restored.length > 0) fsyncDir(parent);
  return report;
}

/**
 * Sweep what killed exports left in the target's folder, refuse an existing target (without force)
 * before any work, and make the temporary sibling.
 */
export function stageFolder(target: string, force: boolean): StagedFolder {
  const resolved = path.resolve(target);
  const parent = path.dirname(resolved);
  // before the existence check: a target a killed export left missing is restored, and then refused
  sweepFolderLeftovers(parent);
  if (fs.existsSync(resolved)) {
    if (!fs.statSync(resolved).isDirectory()) throw new ApiError('already_exists', `${resolved} exists and is a file; choose another export folder`);
    if (!force) throw new ApiError('already_exists', `the export folder ${resolved} already exists; choose another folder or replace it (CLI: --force)`);
  }
  try {
    fs.mkdirSync(parent, { recursive: true });
  } catch (err) {
    throw new ApiError('io_error', `cannot create the folder ${parent} for the export: ${(err as Error).message}`);
  }
  const token = newToken();
  const name = path.basename(resolved);
  const temp = path.join(parent, leftoverName(name, 'temp', token));
  try {
    fs.mkdirSync(temp);
  } catch (err) {
    throw new ApiError('io_error', `cannot write in ${parent}: ${(err as Error).message}`);
  }
  return { temp, target: resolved, aside: path.join(parent, leftoverName(name, 'aside', token)) };
}

/** Put the written folder in place; returns whether an existing folder was replaced. */
export function commitFolder(staged: StagedFolder, force: boolean): boolean {
  const { temp, target, aside } = staged;
  fsyncDir(temp);
  if (!fs.existsSync(target)) {
    fs.renameSync(temp, target);
    fsyncDir(path.dirname(target));
    return false;
  }
  if (!force) throw new ApiError('already_exists', `the export folder ${target} appeared while exporting; nothing was replaced`);
  // Killed from here on, the old folder survives as the aside and the next sweep puts it back
  // (target missing) or deletes it (the new one in place): there is never a moment with neither.
  fs.renameSync(target, aside);
  try {
    fs.renameSync(temp, target);
  } catch (err) {
    fs.renameSync(aside, target);
    throw err;
  }
  fsyncDir(path.dirname(target));
  fs.rmSync(aside, { recursive: true, force: true });
  return true;
}

export function discardFolder(staged: StagedFolder): void {
  fs.rmSync(staged.temp, { recursive: true, force: true });
}

function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function mtimeOf(file: string): number {
  try {
    return fs.lstatSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** So the renames survive a power cut; folders cannot be fsynced on Windows, which is fine there. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // not supported for folders on this platform
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
