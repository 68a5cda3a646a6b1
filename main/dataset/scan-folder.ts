/**
 * Recursive scan of an import folder for image files. Follows symbolic links but visits each real
 * folder once, so a link loop ends the descent with a reason instead of running forever. Hidden
 * files and folders (names starting with ".") are skipped. Problems with folders are reported in
 * words and never stop the scan.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hasImageExtension } from './inspect-image';

export interface FoundFile {
  path: string;
  /** the first sub-folder under the import root when labels come from folders; null for loose images */
  className: string | null;
}

export interface ScanProblem {
  path: string;
  reason: string;
}

export interface ScanOptions {
  labelsFromFolders: boolean;
  signal?: AbortSignal;
  onFile: (file: FoundFile) => void;
  onProblem: (problem: ScanProblem) => void;
}

interface PendingFolder {
  path: string;
  /** the folder's real path, to recognise it when a link leads here again */
  real: string;
  className: string | null;
}

export async function scanFolder(root: string, options: ScanOptions): Promise<void> {
  const rootReal = await fs.promises.realpath(root);
  const scannedAs = new Map<string, string>([[rootReal, root]]);
  const stack: PendingFolder[] = [{ path: root, real: rootReal, className: null }];

  while (stack.length > 0 && !options.signal?.aborted) {
    const folder = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(folder.path, { withFileTypes: true });
    } catch (err) {
      options.onProblem({ path: folder.path, reason: folderErrorReason(err) });
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subFolders: PendingFolder[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const entryPath = path.join(folder.path, entry.name);
      const className = folder.className ?? (options.labelsFromFolders ? entry.name : null);
      if (entry.isSymbolicLink()) {
        const target = await followLink(entryPath);
        if (target.kind === 'folder') {
          const seenAs = scannedAs.get(target.real);
          if (seenAs !== undefined) {
            const loop = isInside(folder.real, target.real);
            options.onProblem({
              path: entryPath,
              reason: loop
                ? `symbolic link loop: it leads back to ${seenAs}, which contains it; not followed`
                : `symbolic link to a folder already scanned as ${seenAs}; scanned once`,
            });
            continue;
          }
          scannedAs.set(target.real, entryPath);
          subFolders.push({ path: entryPath, real: target.real, className });
        } else if (target.kind === 'loop') {
          options.onProblem({ path: entryPath, reason: 'symbolic link loop: the link leads back to itself; not followed' });
        } else if (hasImageExtension(entry.name)) {
          // files and broken links alike: the import says what is wrong with each
          options.onFile({ path: entryPath, className: folder.className });
        }
      } else if (entry.isDirectory()) {
        const real = path.join(folder.real, entry.name);
        scannedAs.set(real, entryPath);
        subFolders.push({ path: entryPath, real, className });
      } else if (hasImageExtension(entry.name)) {
        options.onFile({ path: entryPath, className: folder.className });
      }
    }
    // pushed in reverse so the folders are visited in name order
    for (let i = subFolders.length - 1; i >= 0; i--) stack.push(subFolders[i]);
  }
}

type LinkTarget = { kind: 'folder'; real: string } | { kind: 'loop' } | { kind: 'other' };

async function followLink(linkPath: string): Promise<LinkTarget> {
  try {
    const stat = await fs.promises.stat(linkPath);
    if (!stat.isDirectory()) return { kind: 'other' };
    return { kind: 'folder', real: await fs.promises.realpath(linkPath) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return { kind: 'loop' };
    return { kind: 'other' };
  }
}

function isInside(child: string, ancestor: string): boolean {
  return child === ancestor || child.startsWith(ancestor.endsWith(path.sep) ? ancestor : ancestor + path.sep);
}

function folderErrorReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'the folder vanished during the import';
    case 'EACCES':
    case 'EPERM':
      return 'the folder cannot be read: permission denied';
    default:
      return `the folder cannot be read: ${e.message}`;
  }
}
