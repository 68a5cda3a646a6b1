/**
 * Recursive scan of an import folder for image files. Follows symbolic links but visits each real
 * folder once, so a link loop ends the descent with a reason instead of running forever. Hidden
 * files and folders (names starting with ".") are skipped. Problems with folders are reported in
 * words and never stop the scan.
 *
 * Names are read as bytes: a name that is not valid UTF-8 (possible on Linux) has no JavaScript
 * string that opens it, and the project stores paths as text, so such a file or folder is reported
 * with the reason and a rename to do, never mistaken for a file that vanished. A top-level folder
 * whose name cannot be a class name (control or invisible text-direction characters) gives its
 * images no label, and says so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { classNameProblem } from '../contract/calls-labels';
import { cleanName } from './labels/class-names';
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
  /** the import root itself: its sub-folders name the classes */
  top: boolean;
}

export const NOT_UTF8_REASON = 'the file name is not valid UTF-8 text, so it cannot be stored or opened by name; rename it (for example with convmv) and import again';
const NOT_UTF8_FOLDER_REASON = 'the folder name is not valid UTF-8 text, so nothing in it can be opened by name; rename it (for example with convmv) and import again';

export async function scanFolder(root: string, options: ScanOptions): Promise<void> {
  const rootReal = await fs.promises.realpath(root);
  const scannedAs = new Map<string, string>([[rootReal, root]]);
  const stack: PendingFolder[] = [{ path: root, real: rootReal, className: null, top: true }];

  while (stack.length > 0 && !options.signal?.aborted) {
    const folder = stack.pop()!;
    let entries: Entry[];
    try {
      entries = (await fs.promises.readdir(folder.path, { withFileTypes: true, encoding: 'buffer' })).map(toEntry);
    } catch (err) {
      options.onProblem({ path: folder.path, reason: folderErrorReason(err) });
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subFolders: PendingFolder[] = [];
    for (const { name, utf8, dirent: entry } of entries) {
      if (name.startsWith('.')) continue;
      // shown with U+FFFD where the bytes are not UTF-8, so the user can find the file
      const entryPath = path.join(folder.path, name);
      if (!utf8) {
        const isFolder = entry.isDirectory() || (entry.isSymbolicLink() && (await leadsToFolder(Buffer.concat([Buffer.from(folder.path + path.sep), entry.name]))));
        if (isFolder) options.onProblem({ path: entryPath, reason: NOT_UTF8_FOLDER_REASON });
        else if (hasImageExtension(name)) options.onProblem({ path: entryPath, reason: NOT_UTF8_REASON });
        continue;
      }
      // the class of what is found below this entry, when it turns out to be a folder
      const classBelow = () => (folder.top ? folderClassName(entryPath, name, options) : folder.className);
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
          subFolders.push({ path: entryPath, real: target.real, className: classBelow(), top: false });
        } else if (target.kind === 'loop') {
          options.onProblem({ path: entryPath, reason: 'symbolic link loop: the link leads back to itself; not followed' });
        } else if (hasImageExtension(name)) {
          // files and broken links alike: the import says what is wrong with each
          options.onFile({ path: entryPath, className: folder.className });
        }
      } else if (entry.isDirectory()) {
        const real = path.join(folder.real, name);
        scannedAs.set(real, entryPath);
        subFolders.push({ path: entryPath, real, className: classBelow(), top: false });
      } else if (hasImageExtension(name)) {
        options.onFile({ path: entryPath, className: folder.className });
      }
    }
    // pushed in reverse so the folders are visited in name order
    for (let i = subFolders.length - 1; i >= 0; i--) stack.push(subFolders[i]);
  }
}

interface Entry {
  name: string;
  /** false when the name's bytes are not valid UTF-8 (name then holds U+FFFD in their place) */
  utf8: boolean;
  dirent: fs.Dirent<Buffer>;
}

function toEntry(dirent: fs.Dirent<Buffer>): Entry {
  return { name: dirent.name.toString('utf8'), utf8: isUtf8(dirent.name), dirent };
}

/**
 * The class a top-level folder gives its images: its name, when labels come from folders and the
 * name can be a class name; otherwise none (reported, the images are still imported).
 */
function folderClassName(folderPath: string, name: string, options: ScanOptions): string | null {
  if (!options.labelsFromFolders) return null;
  const problem = classNameProblem(cleanName(name));
  if (problem === undefined) return name;
  options.onProblem({ path: folderPath, reason: `the folder name is not used as a class, so its images are imported unlabeled: ${problem}` });
  return null;
}

/** Whether a link (named by its raw bytes) leads to a folder. */
async function leadsToFolder(rawPath: Buffer): Promise<boolean> {
  try {
    return (await fs.promises.stat(rawPath)).isDirectory();
  } catch {
    return false;
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
