/**
 * What of a project a bundle carries and checks against: its identity (name, creation stamp, file)
 * and its usable labeled images of the run's classes by split, as the trainer's pipeline selects
 * them (status ok, not excluded, file present), with paths relative to their common folder.
 * A name that is not UTF-8 goes into the bundle as Python spells it (surrogateescape, see
 * dataset/file-name-bytes.ts pythonPathText), so train.py opens the same bytes.
 */
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import type { Database } from '../project/database';
import type { BundleImage, ProjectIdentity } from './bundle-manifest';
import { imageFsPath, isFileAt, PATH_BYTES, pythonPathText, type FsPath } from '../dataset/file-name-bytes';

export function projectIdentity(handle: { db: Database; path: string }): ProjectIdentity {
  const meta = new Map((handle.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
  return { name: meta.get('name') ?? path.basename(handle.path), createdAt: meta.get('created_at') ?? '', file: path.resolve(handle.path) };
}

export interface ProjectImage {
  path: string;
  /** what opens it (raw bytes for a name that is not UTF-8) */
  file: FsPath;
  hash: string;
  className: string;
  split: 'train' | 'val' | 'test';
}

/** Labeled images of these splits whose file is there, ordered by class then hash (the pipeline's order). */
export function labeledImages(db: Database, splits: readonly ProjectImage['split'][]): { images: ProjectImage[]; missing: number } {
  const rows = db
    .prepare(
      `SELECT i.path, ${PATH_BYTES}, i.hash, c.name AS className, i.split FROM images i JOIN classes c ON c.id = i.class_id
       WHERE i.status = 'ok' AND i.excluded = 0 AND i.split IN (SELECT value FROM json_each(?))
       ORDER BY c.name, i.hash`,
    )
    .all(JSON.stringify(splits)) as (Omit<ProjectImage, 'file'> & { pathBytes: Buffer | null })[];
  const images = rows.map(({ pathBytes, ...row }) => ({ ...row, file: imageFsPath({ path: row.path, pathBytes }) })).filter((r) => isFileAt(r.file));
  return { images, missing: rows.length - images.length };
}

/** Every usable image's hash → its class and split now, for checking a bundle against the project. */
export function imagesByHash(db: Database): Map<string, { className: string | null; split: string | null }> {
  const rows = db
    .prepare(`SELECT i.hash, c.name AS className, i.split FROM images i LEFT JOIN classes c ON c.id = i.class_id WHERE i.status = 'ok' AND i.hash IS NOT NULL`)
    .all() as { hash: string; className: string | null; split: string | null }[];
  return new Map(rows.map((r) => [r.hash, { className: r.className, split: r.split }]));
}

/**
 * The deepest folder holding every file: the bundle's data root. Compared by the bytes of the
 * names, and never inside a folder whose name is not UTF-8: the root is text in the manifest.
 */
export function commonFolder(files: readonly FsPath[]): string {
  if (files.length === 0) return path.parse(process.cwd()).root;
  // binary strings (one character a byte), so names compare and split as bytes
  const folderOf = (file: FsPath) => path.dirname(typeof file === 'string' ? Buffer.from(path.resolve(file)).toString('latin1') : file.toString('latin1')).split(path.sep);
  let parts = folderOf(files[0]);
  for (const file of files) {
    const other = folderOf(file);
    let n = 0;
    while (n < parts.length && n < other.length && parts[n] === other[n]) n++;
    parts = parts.slice(0, n);
  }
  const text = parts.findIndex((part) => !isUtf8(Buffer.from(part, 'latin1')));
  if (text >= 0) parts = parts.slice(0, text);
  return Buffer.from(parts.join(path.sep), 'latin1').toString('utf8') || path.sep;
}

/** Manifest rows: paths relative to `root` with '/' separators (train.py joins them on any system). */
export function bundleImages(images: readonly ProjectImage[], root: string, classes: readonly string[]): BundleImage[] {
  const labels = new Map(classes.map((name, i) => [name, i]));
  return images
    .filter((image) => labels.has(image.className))
    .map((image) => ({ path: relativeText(root, image.file).split(path.sep).join('/'), hash: image.hash, label: labels.get(image.className)!, split: image.split }));
}

/** The path of `file` under `root` as Python reads it (surrogateescape for bytes that are not UTF-8). */
function relativeText(root: string, file: FsPath): string {
  if (typeof file === 'string') return path.relative(root, file);
  const prefix = Buffer.from(root.endsWith(path.sep) ? root : root + path.sep);
  return pythonPathText(file.subarray(prefix.length));
}
