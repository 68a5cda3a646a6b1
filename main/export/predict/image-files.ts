/**
 * The files to predict: image files as given, folders searched recursively for images (by
 * extension, in path order). A path that does not exist is reported with the others, not fatal.
 * Folders are read by the bytes of their names, so a file whose name is not UTF-8 is predicted too,
 * opened by those bytes and named by its escaped text form (dataset/file-name-bytes.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { hasImageExtension } from '../../dataset/inspect-image';
import { childPath, rootPath, type FoundPath, type FsPath } from '../../dataset/file-name-bytes';

export interface FileList {
  /** absolute paths to predict, in the order given (folders: sorted); raw bytes for a name that is not UTF-8 */
  files: FsPath[];
  /** paths that could not be used, with why */
  problems: { path: string; error: string }[];
}

export function collectImageFiles(paths: readonly string[]): FileList {
  const files: FsPath[] = [];
  const problems: FileList['problems'] = [];
  // by the bytes: two names can never be one file
  const seen = new Set<string>();
  const add = (file: FsPath) => {
    const key = typeof file === 'string' ? Buffer.from(file).toString('latin1') : file.toString('latin1');
    if (!seen.has(key)) {
      seen.add(key);
      files.push(file);
    }
  };
  for (const given of paths) {
    const full = path.resolve(given);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch {
      problems.push({ path: full, error: 'no such file or folder' });
      continue;
    }
    if (stat.isDirectory()) {
      const found = walk(rootPath(full), problems);
      if (found.length === 0) problems.push({ path: full, error: 'the folder holds no image files (.jpg, .png, .webp, .gif, .tif, .avif)' });
      found.forEach(add);
    } else {
      add(full);
    }
  }
  return { files, problems };
}

function walk(dir: FoundPath, problems: FileList['problems']): FsPath[] {
  let entries: { entry: fs.Dirent<Buffer>; at: FoundPath; name: string }[];
  try {
    entries = fs.readdirSync(dir.fs, { withFileTypes: true, encoding: 'buffer' }).map((entry) => {
      const at = childPath(dir, entry.name);
      return { entry, at, name: path.basename(at.text) };
    });
  } catch (err) {
    problems.push({ path: dir.text, error: `cannot list the folder: ${(err as Error).message}` });
    return [];
  }
  const out: FsPath[] = [];
  for (const { entry, at, name } of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.isDirectory()) out.push(...walk(at, problems));
    else if (entry.isFile() && hasImageExtension(name)) out.push(at.fs);
  }
  return out;
}
