/**
 * The labeled data set as plain folders, out/<class>/<file> (or out/<split>/<class>/<file>), as copies
 * or symbolic links to the originals, so the data is never locked in the project. Two files of one
 * class with the same name get "name-2.jpg", "name-3.jpg"; files gone from disk are listed as skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract/contract';
import type { Database } from '../../project/database';
import { labeledImageFiles } from './label-export';
import { existsAt } from '../file-name-bytes';

export interface ExportFoldersOptions {
  out: string;
  mode: 'copy' | 'link';
  bySplit: boolean;
  force: boolean;
}

export async function exportFolders(db: Database, options: ExportFoldersOptions): Promise<{ dir: string; images: number; classes: number; skipped: { path: string; reason: string }[] }> {
  const dir = path.resolve(options.out);
  prepareFolder(dir, options.force);
  const rows = labeledImageFiles(db);
  const skipped: { path: string; reason: string }[] = [];
  const classes = new Set<string>();
  const made = new Set<string>();
  let images = 0;
  for (const row of rows) {
    const folder = options.bySplit ? path.join(dir, row.split ?? 'unsplit', folderName(row.class)) : path.join(dir, folderName(row.class));
    if (!made.has(folder)) {
      fs.mkdirSync(folder, { recursive: true });
      made.add(folder);
    }
    try {
      // named by the text form: a name that is not UTF-8 comes out as its readable, escaped spelling
      const target = freeName(folder, path.basename(row.path));
      if (options.mode === 'link') await fs.promises.symlink(row.file, target);
      else await fs.promises.copyFile(row.file, target, fs.constants.COPYFILE_EXCL);
      images++;
      classes.add(row.class);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !existsAt(row.file)) skipped.push({ path: row.path, reason: 'the file no longer exists' });
      else if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS') throw new ApiError('io_error', `out: cannot write into ${dir}: ${(err as Error).message}`);
      else skipped.push({ path: row.path, reason: (err as Error).message });
    }
  }
  return { dir, images, classes: classes.size, skipped };
}

function prepareFolder(dir: string, force: boolean): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new ApiError('invalid_input', `out: ${dir} is a file, not a folder`);
    if (code !== 'ENOENT') throw new ApiError('io_error', `out: cannot read ${dir}: ${(err as Error).message}`);
    fs.mkdirSync(dir, { recursive: true });
    return;
  }
  if (entries.length > 0 && !force) throw new ApiError('already_exists', `out: ${dir} is not empty (${entries.length} entries); choose an empty folder or write into it anyway (force)`);
}

/** A class name as a folder name: "." and ".." and characters other systems refuse are replaced. */
function folderName(name: string): string {
  const safe = name.replace(/[<>:"|?*]/g, '_');
  return safe === '.' || safe === '..' ? `_${safe}` : safe;
}

function freeName(folder: string, base: string): string {
  const ext = path.extname(base);
  const stem = base.slice(0, base.length - ext.length);
  let candidate = path.join(folder, base);
  for (let n = 2; taken(candidate); n++) candidate = path.join(folder, `${stem}-${n}${ext}`);
  return candidate;
}

/** lstat, so a dangling link counts as taken too. */
function taken(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
