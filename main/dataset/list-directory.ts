/**
 * One folder's sub-folders and project files, for the folder and file pickers of browser mode
 * (Electron has native dialogs). Hidden entries are left out, and so are files other than projects.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../contract/contract';

export interface DirectoryListing {
  path: string;
  parent: string | null;
  entries: { name: string; path: string; isDirectory: boolean }[];
}

export async function listDirectory(dir: string): Promise<DirectoryListing> {
  const folder = path.resolve(dir);
  let dirents: fs.Dirent[];
  try {
    dirents = await fs.promises.readdir(folder, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ApiError('not_found', `folder ${folder} does not exist`);
    if (code === 'ENOTDIR') throw new ApiError('invalid_input', `${folder} is not a folder`);
    throw new ApiError('io_error', `cannot list folder ${folder}: ${(err as Error).message}`);
  }
  const entries: DirectoryListing['entries'] = [];
  for (const dirent of dirents) {
    if (dirent.name.startsWith('.')) continue;
    const entryPath = path.join(folder, dirent.name);
    const isDirectory = dirent.isDirectory() || (dirent.isSymbolicLink() && (await isFolder(entryPath)));
    if (isDirectory || dirent.name.toLowerCase().endsWith('.effitune')) entries.push({ name: dirent.name, path: entryPath, isDirectory });
  }
  entries.sort((a, b) => Number(b.isDirectory) - Number(a.isDirectory) || a.name.localeCompare(b.name));
  const parent = path.dirname(folder);
  return { path: folder, parent: parent === folder ? null : parent, entries };
}

async function isFolder(entryPath: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(entryPath)).isDirectory();
  } catch {
    return false;
  }
}
