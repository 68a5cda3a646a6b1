/**
 * Labels out of the project: every labeled usable image (status ok, not excluded) with its path,
 * content hash, class and split, as CSV (a header row, quoted where needed) or JSON. The file is
 * written beside its final name and renamed, so a crash never leaves half a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract/contract';
import type { Database } from '../../project/database';
import { formatCsvRow } from './csv';
import { imageFsPath, PATH_BYTES, type FsPath } from '../file-name-bytes';
import { labelFileFormat, type LabelFileFormat } from './label-file-format';

export interface LabeledImageRow {
  /** the text form (dataset/file-name-bytes.ts): what the files show, and what labels.import matches */
  path: string;
  hash: string | null;
  class: string;
  split: string | null;
}

/** Labeled usable images, in class order then path. */
export function labeledImageRows(db: Database): LabeledImageRow[] {
  return labeledImageFiles(db).map(({ path, hash, class: className, split }) => ({ path, hash, class: className, split }));
}

/** labeledImageRows with what opens each file (raw bytes for a name that is not UTF-8). */
export function labeledImageFiles(db: Database): (LabeledImageRow & { file: FsPath })[] {
  const rows = db
    .prepare(
      `SELECT i.path, ${PATH_BYTES}, i.hash, c.name AS class, i.split FROM images i JOIN classes c ON c.id = i.class_id
       WHERE i.status = 'ok' AND i.excluded = 0 ORDER BY c.position, c.id, i.path`,
    )
    .all() as (LabeledImageRow & { pathBytes: Buffer | null })[];
  return rows.map(({ pathBytes, ...row }) => ({ ...row, file: imageFsPath({ path: row.path, pathBytes }) }));
}

export function exportLabels(db: Database, options: { file: string; format?: LabelFileFormat; force: boolean }): { file: string; rows: number } {
  const file = path.resolve(options.file);
  const format = labelFileFormat(file, options.format);
  if (!options.force && fs.existsSync(file)) throw new ApiError('already_exists', `file: ${file} already exists; choose another name or overwrite it (force)`);
  if (!isDirectory(path.dirname(file))) throw new ApiError('not_found', `file: the folder ${path.dirname(file)} does not exist`);
  const rows = labeledImageRows(db);
  const text =
    format === 'json'
      ? `${JSON.stringify(rows, null, 1)}\n`
      : [formatCsvRow(['path', 'hash', 'class', 'split']), ...rows.map((r) => formatCsvRow([r.path, r.hash, r.class, r.split]))].join('\n') + '\n';
  const partial = `${file}.partial-${process.pid}`;
  try {
    fs.writeFileSync(partial, text, 'utf8');
    fs.renameSync(partial, file);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw new ApiError('io_error', `file: cannot write ${file}: ${(err as Error).message}`);
  }
  return { file, rows: rows.length };
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
