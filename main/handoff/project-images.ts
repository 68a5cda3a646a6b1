/**
 * What of a project a bundle carries and checks against: its identity (name, creation stamp, file)
 * and its usable labeled images of the run's classes by split, as the trainer's pipeline selects
 * them (status ok, not excluded, file present), with paths relative to their common folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../project/database';
import type { BundleImage, ProjectIdentity } from './bundle-manifest';

export function projectIdentity(handle: { db: Database; path: string }): ProjectIdentity {
  const meta = new Map((handle.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
  return { name: meta.get('name') ?? path.basename(handle.path), createdAt: meta.get('created_at') ?? '', file: path.resolve(handle.path) };
}

export interface ProjectImage {
  path: string;
  hash: string;
  className: string;
  split: 'train' | 'val' | 'test';
}

/** Labeled images of these splits whose file is there, ordered by class then hash (the pipeline's order). */
export function labeledImages(db: Database, splits: readonly ProjectImage['split'][]): { images: ProjectImage[]; missing: number } {
  const rows = db
    .prepare(
      `SELECT i.path, i.hash, c.name AS className, i.split FROM images i JOIN classes c ON c.id = i.class_id
       WHERE i.status = 'ok' AND i.excluded = 0 AND i.split IN (SELECT value FROM json_each(?))
       ORDER BY c.name, i.hash`,
    )
    .all(JSON.stringify(splits)) as ProjectImage[];
  const images = rows.filter((r) => isFile(r.path));
  return { images, missing: rows.length - images.length };
}

/** Every usable image's hash → its class and split now, for checking a bundle against the project. */
export function imagesByHash(db: Database): Map<string, { className: string | null; split: string | null }> {
  const rows = db
    .prepare(`SELECT i.hash, c.name AS className, i.split FROM images i LEFT JOIN classes c ON c.id = i.class_id WHERE i.status = 'ok' AND i.hash IS NOT NULL`)
    .all() as { hash: string; className: string | null; split: string | null }[];
  return new Map(rows.map((r) => [r.hash, { className: r.className, split: r.split }]));
}

/** The deepest folder holding every file: the bundle's data root. */
export function commonFolder(files: readonly string[]): string {
  if (files.length === 0) return path.parse(process.cwd()).root;
  let parts = path.dirname(path.resolve(files[0])).split(path.sep);
  for (const file of files) {
    const other = path.dirname(path.resolve(file)).split(path.sep);
    let n = 0;
    while (n < parts.length && n < other.length && parts[n] === other[n]) n++;
    parts = parts.slice(0, n);
  }
  return parts.join(path.sep) || path.sep;
}

/** Manifest rows: paths relative to `root` with '/' separators (train.py joins them on any system). */
export function bundleImages(images: readonly ProjectImage[], root: string, classes: readonly string[]): BundleImage[] {
  const labels = new Map(classes.map((name, i) => [name, i]));
  return images
    .filter((image) => labels.has(image.className))
    .map((image) => ({ path: path.relative(root, image.path).split(path.sep).join('/'), hash: image.hash, label: labels.get(image.className)!, split: image.split }));
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
