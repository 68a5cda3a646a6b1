/**
 * The files to predict: image files as given, folders searched recursively for images (by
 * extension, in path order). A path that does not exist is reported with the others, not fatal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hasImageExtension } from '../../dataset/inspect-image';

export interface FileList {
  /** absolute paths to predict, in the order given (folders: sorted) */
  files: string[];
  /** paths that could not be used, with why */
  problems: { path: string; error: string }[];
}

export function collectImageFiles(paths: readonly string[]): FileList {
  const files: string[] = [];
  const problems: FileList['problems'] = [];
  const seen = new Set<string>();
  const add = (file: string) => {
    if (!seen.has(file)) {
      seen.add(file);
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
      const found = walk(full, problems);
      if (found.length === 0) problems.push({ path: full, error: 'the folder holds no image files (.jpg, .png, .webp, .gif, .tif, .avif)' });
      found.forEach(add);
    } else {
      add(full);
    }
  }
  return { files, problems };
}

function walk(dir: string, problems: FileList['problems']): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    problems.push({ path: dir, error: `cannot list the folder: ${(err as Error).message}` });
    return [];
  }
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full, problems));
    else if (entry.isFile() && hasImageExtension(entry.name)) out.push(full);
  }
  return out;
}
