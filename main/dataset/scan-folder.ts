/**
 * Recursive scan of an import folder for image files. Follows symbolic links but visits each real
 * folder once, so a link loop ends the descent with a reason instead of running forever. Hidden
 * files and folders (names starting with ".") are skipped. Problems with folders are reported in
 * words and never stop the scan.
 *
 * Names are read as bytes: a name that is not valid UTF-8 (possible on Linux) is found like any
 * other, opened by its raw bytes and shown by its escaped text form (file-name-bytes.ts: Latin-1
 * "café.png" reads caf\xE9.png). Should that text be the real name of another entry of the same
 * folder, the escaped one is reported instead, so one text never names two files. A top-level
 * folder whose name cannot be a class name (control or invisible text-direction characters) gives
 * its images no label, and says so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { classNameProblem } from '../contract/calls-labels';
import { cleanName } from './labels/class-names';
import { childPath, nameText, rootPath, type FoundPath, type FsPath } from './file-name-bytes';
import { hasImageExtension } from './inspect-image';

export interface FoundFile {
  /** the text form: stored as images.path, shown */
  path: string;
  /** what opens it: the path, or its raw bytes when a name in it is not UTF-8 */
  fsPath: FsPath;
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
  at: FoundPath;
  /** the folder's real path as a binary string (one character a byte), to recognise it when a link leads here again */
  real: string;
  className: string | null;
  /** the import root itself: its sub-folders name the classes */
  top: boolean;
}

export const NOT_UTF8_CLASS_REASON =
  'the folder name is not used as a class, so its images are imported unlabeled: the name is not valid UTF-8 text; rename the folder (for example with convmv) to make it a class, or label its images';

const SAME_TEXT_REASON = (what: 'file' | 'folder', text: string) =>
  `the ${what} name is not valid UTF-8 text and reads as "${text}", the name of another entry in the same folder; rename it (for example with convmv) and import again`;

export async function scanFolder(root: string, options: ScanOptions): Promise<void> {
  const rootReal = await realBinary(root);
  const scannedAs = new Map<string, string>([[rootReal, root]]);
  const stack: PendingFolder[] = [{ at: rootPath(root), real: rootReal, className: null, top: true }];

  while (stack.length > 0 && !options.signal?.aborted) {
    const folder = stack.pop()!;
    let entries: Entry[];
    try {
      entries = (await fs.promises.readdir(folder.at.fs, { withFileTypes: true, encoding: 'buffer' })).map((dirent) => toEntry(folder.at, dirent));
    } catch (err) {
      options.onProblem({ path: folder.at.text, reason: folderErrorReason(err) });
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // the texts that are real names here: an escaped name reading the same is refused
    const realNames = new Set(entries.filter((e) => e.utf8).map((e) => e.name));
    const subFolders: PendingFolder[] = [];
    for (const { name, utf8, at: entryPath, dirent: entry } of entries) {
      if (entry.name[0] === 0x2e) continue; // "."
      const rawName = entry.name.toString('latin1');
      if (!utf8 && realNames.has(name)) {
        const isFolder = entry.isDirectory() || (entry.isSymbolicLink() && (await leadsToFolder(entryPath.fs)));
        if (isFolder || hasImageExtension(name)) options.onProblem({ path: entryPath.text, reason: SAME_TEXT_REASON(isFolder ? 'folder' : 'file', name) });
        continue;
      }
      // the class of what is found below this entry, when it turns out to be a folder
      const classBelow = () => (folder.top ? folderClassName(entryPath.text, utf8 ? name : null, options) : folder.className);
      if (entry.isSymbolicLink()) {
        const target = await followLink(entryPath.fs);
        if (target.kind === 'folder') {
          const seenAs = scannedAs.get(target.real);
          if (seenAs !== undefined) {
            const loop = isInside(folder.real, target.real);
            options.onProblem({
              path: entryPath.text,
              reason: loop
                ? `symbolic link loop: it leads back to ${seenAs}, which contains it; not followed`
                : `symbolic link to a folder already scanned as ${seenAs}; scanned once`,
            });
            continue;
          }
          scannedAs.set(target.real, entryPath.text);
          subFolders.push({ at: entryPath, real: target.real, className: classBelow(), top: false });
        } else if (target.kind === 'loop') {
          options.onProblem({ path: entryPath.text, reason: 'symbolic link loop: the link leads back to itself; not followed' });
        } else if (hasImageExtension(name)) {
          // files and broken links alike: the import says what is wrong with each
          options.onFile({ path: entryPath.text, fsPath: entryPath.fs, className: folder.className });
        }
      } else if (entry.isDirectory()) {
        const real = joinBinary(folder.real, rawName);
        scannedAs.set(real, entryPath.text);
        subFolders.push({ at: entryPath, real, className: classBelow(), top: false });
      } else if (hasImageExtension(name)) {
        options.onFile({ path: entryPath.text, fsPath: entryPath.fs, className: folder.className });
      }
    }
    // pushed in reverse so the folders are visited in name order
    for (let i = subFolders.length - 1; i >= 0; i--) stack.push(subFolders[i]);
  }
}

interface Entry {
  /** the name's text form (escaped where its bytes are not UTF-8) */
  name: string;
  /** false when the name's bytes are not valid UTF-8 */
  utf8: boolean;
  at: FoundPath;
  dirent: fs.Dirent<Buffer>;
}

function toEntry(folder: FoundPath, dirent: fs.Dirent<Buffer>): Entry {
  return { name: nameText(dirent.name), utf8: isUtf8(dirent.name), at: childPath(folder, dirent.name), dirent };
}

/** A real path as a binary string: any bytes, compared and joined like text. */
async function realBinary(file: FsPath): Promise<string> {
  return (await fs.promises.realpath(file, { encoding: 'buffer' })).toString('latin1');
}

function joinBinary(folder: string, name: string): string {
  return folder.endsWith(path.sep) ? folder + name : folder + path.sep + name;
}

/**
 * The class a top-level folder gives its images: its name, when labels come from folders and the
 * name can be a class name; otherwise none (reported, the images are still imported). A name that
 * is not UTF-8 (null here) has no text to be a class: its escaped form has backslashes, which class
 * names refuse, and a guess at its encoding could merge two folders into one class.
 */
function folderClassName(folderPath: string, name: string | null, options: ScanOptions): string | null {
  if (!options.labelsFromFolders) return null;
  if (name === null) {
    options.onProblem({ path: folderPath, reason: NOT_UTF8_CLASS_REASON });
    return null;
  }
  const problem = classNameProblem(cleanName(name));
  if (problem === undefined) return name;
  options.onProblem({ path: folderPath, reason: `the folder name is not used as a class, so its images are imported unlabeled: ${problem}` });
  return null;
}

/** Whether a link leads to a folder. */
async function leadsToFolder(link: FsPath): Promise<boolean> {
  try {
    return (await fs.promises.stat(link)).isDirectory();
  } catch {
    return false;
  }
}

type LinkTarget = { kind: 'folder'; real: string } | { kind: 'loop' } | { kind: 'other' };

async function followLink(linkPath: FsPath): Promise<LinkTarget> {
  try {
    const stat = await fs.promises.stat(linkPath);
    if (!stat.isDirectory()) return { kind: 'other' };
    return { kind: 'folder', real: await realBinary(linkPath) };
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
