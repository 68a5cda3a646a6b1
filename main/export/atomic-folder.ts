/**
 * A folder written whole or not at all: everything goes into a temporary sibling (same file system,
 * so the final rename is atomic), then one rename puts it in place. An existing folder is only
 * replaced when asked: renamed aside, the new one renamed in, the old one deleted; if the second
 * rename fails the old folder is put back. Any failure removes the temporary folder.
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
}

/** Refuse an existing target (without force) before any work, and make the temporary sibling. */
export function stageFolder(target: string, force: boolean): StagedFolder {
  const resolved = path.resolve(target);
  if (fs.existsSync(resolved)) {
    if (!fs.statSync(resolved).isDirectory()) throw new ApiError('already_exists', `${resolved} exists and is a file; choose another export folder`);
    if (!force) throw new ApiError('already_exists', `the export folder ${resolved} already exists; choose another folder or replace it (CLI: --force)`);
  }
  const parent = path.dirname(resolved);
  try {
    fs.mkdirSync(parent, { recursive: true });
  } catch (err) {
    throw new ApiError('io_error', `cannot create the folder ${parent} for the export: ${(err as Error).message}`);
  }
  const temp = path.join(parent, `.${path.basename(resolved)}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    fs.mkdirSync(temp);
  } catch (err) {
    throw new ApiError('io_error', `cannot write in ${parent}: ${(err as Error).message}`);
  }
  return { temp, target: resolved };
}

/** Put the written folder in place; returns whether an existing folder was replaced. */
export function commitFolder(staged: StagedFolder, force: boolean): boolean {
  const { temp, target } = staged;
  fsyncDir(temp);
  if (!fs.existsSync(target)) {
    fs.renameSync(temp, target);
    fsyncDir(path.dirname(target));
    return false;
  }
  if (!force) throw new ApiError('already_exists', `the export folder ${target} appeared while exporting; nothing was replaced`);
  const aside = `${temp}.old`;
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

/** So the renames survive a power cut; folders cannot be fsynced on Windows, which is fine there. */
function fsyncDir(dir: string): void {
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
