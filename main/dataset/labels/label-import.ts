/**
 * Labels from a file: CSV with a header row (path,class or hash,class; other columns ignored, so an
 * exported file imports back) or JSON ([{path|hash, class}]). Paths are absolute, or relative to one
 * of the project's imported folders (or to the file's own folder). An empty class clears the label.
 * Unknown classes are created (unless createClasses is off); unknown images and bad rows are
 * reported with their line, not fatal. The whole file is one undoable edit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract/contract';
import { ClassName, visibleName, type EditInfo, type LabelImportResult } from '../../contract/calls-labels';
import type { Database } from '../../project/database';
import { allClasses, classByName, type ClassRow } from './class-names';
import { newClassRow } from './classes';
import { encodeStates, readStates, type ImageState } from './image-state';
import { performEdit } from './journal';
import { CsvSyntaxError, parseCsv, unguardCsvCell } from './csv';
import { labelFileFormat, type LabelFileFormat } from './label-file-format';

export interface LabelImportOptions {
  file: string;
  format?: LabelFileFormat;
  createClasses: boolean;
}

/** One row of the file: which image (by path or hash) gets which class (null: no label). */
interface LabelRow {
  line: number;
  path?: string;
  hash?: string;
  className: string | null;
}

export function importLabels(db: Database, options: LabelImportOptions, who: string): LabelImportResult {
  const started = performance.now();
  const file = path.resolve(options.file);
  const format = labelFileFormat(file, options.format);
  const text = readText(file);
  const errors: { line: number; message: string }[] = [];
  const { rows, total } = format === 'csv' ? csvRows(text, file, errors) : jsonRows(text, file, errors);

  return db
    .transaction((): LabelImportResult => {
      const find = imageFinder(db, path.dirname(file));
      const classes = allClasses(db);
      const created: ClassRow[] = [];
      const unknown: { line: number; key: string }[] = [];
      const wanted = new Map<number, { classId: number | null; line: number }>();
      for (const row of rows) {
        const imageId = find(row);
        if (Array.isArray(imageId)) {
          errors.push({ line: row.line, message: `line ${row.line}: ${row.path} is in several imported folders (${imageId.join(', ')}); give the full path` });
          continue;
        }
        if (imageId === undefined) {
          unknown.push({ line: row.line, key: row.path ?? row.hash ?? '' });
          continue;
        }
        let classId: number | null = null;
        if (row.className !== null) {
          let target = classByName(classes, row.className);
          if (!target) {
            if (!options.createClasses) {
              errors.push({ line: row.line, message: `line ${row.line}: there is no class "${row.className}" (creating classes is off)` });
              continue;
            }
            target = newClassRow(db, classes, row.className);
            classes.push(target);
            created.push(target);
          }
          classId = target.id;
        }
        const earlier = wanted.get(imageId);
        if (earlier && earlier.classId !== classId) {
          const name = earlier.classId === null ? 'no class' : `class "${classes.find((c) => c.id === earlier.classId)!.name}"`;
          errors.push({ line: row.line, message: `line ${row.line}: this image is already on line ${earlier.line} with ${name}; the first line is kept` });
        } else if (!earlier) wanted.set(imageId, { classId, line: row.line });
      }

      const current = readStates(db, [...wanted.keys()]);
      const before = new Map<number, ImageState>();
      const after = new Map<number, ImageState>();
      const at = new Date().toISOString();
      for (const [id, { classId }] of wanted) {
        const state = current.get(id)!;
        if (state.class_id === classId) continue;
        before.set(id, state);
        after.set(id, { ...state, class_id: classId, label_source: 'user', labeled_at: at, labeled_by: who });
      }
      // classes named only by rows that changed nothing are still created: the file asked for them
      let edit: EditInfo | null = null;
      if (before.size > 0 || created.length > 0) {
        const summary = `import ${before.size} label${before.size === 1 ? '' : 's'} from ${path.basename(file)}${created.length > 0 ? ` (${created.length} new class${created.length === 1 ? '' : 'es'})` : ''}`;
        edit = performEdit(
          db,
          {
            kind: 'labels.import',
            summary,
            redo: { create: created, images: encodeStates(after) },
            undo: { images: encodeStates(before), remove: created.map((c) => c.id) },
          },
          { source: format, who },
        );
      }
      return {
        rows: total,
        labeled: before.size,
        unchanged: wanted.size - before.size,
        createdClasses: created.map((c) => c.name),
        unknown,
        errors: errors.sort((a, b) => a.line - b.line),
        edit,
        seconds: (performance.now() - started) / 1000,
      };
    })
    .immediate();
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ApiError('not_found', `file: ${file} does not exist`);
    if (code === 'EISDIR') throw new ApiError('invalid_input', `file: ${file} is a folder, not a label file`);
    throw new ApiError('io_error', `file: cannot read ${file}: ${(err as Error).message}`);
  }
}

function csvRows(text: string, file: string, errors: { line: number; message: string }[]): { rows: LabelRow[]; total: number } {
  let records;
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new ApiError('invalid_input', `${file}: ${err.message}`);
    throw err;
  }
  if (records.length === 0) throw new ApiError('invalid_input', `${file} is empty: a label file starts with a header row such as "path,class" or "hash,class"`);
  const header = records[0].fields.map((f) => f.trim().toLowerCase());
  const pathAt = header.indexOf('path');
  const hashAt = header.indexOf('hash');
  const classAt = header.indexOf('class') >= 0 ? header.indexOf('class') : header.indexOf('label');
  if ((pathAt < 0 && hashAt < 0) || classAt < 0) {
    throw new ApiError(
      'invalid_input',
      `${file}: the first line must be a header naming the columns, e.g. "path,class" or "hash,class"; it is "${records[0].fields.join(',').slice(0, 200)}"`,
    );
  }
  const rows: LabelRow[] = [];
  for (const { line, fields } of records.slice(1)) {
    const key = { path: cell(fields, pathAt), hash: cell(fields, hashAt) };
    if (!key.path && !key.hash) {
      errors.push({ line, message: `line ${line}: no ${pathAt >= 0 ? 'path' : 'hash'} in column ${(pathAt >= 0 ? pathAt : hashAt) + 1}` });
      continue;
    }
    if (classAt >= fields.length) {
      errors.push({ line, message: `line ${line}: no class column (column ${classAt + 1}); an empty class is written "path," to clear a label` });
      continue;
    }
    addRow(rows, errors, line, key, unguardCsvCell(fields[classAt].trim()));
  }
  return { rows, total: records.length - 1 };
}

function jsonRows(text: string, file: string, errors: { line: number; message: string }[]): { rows: LabelRow[]; total: number } {
  let data: unknown;
  try {
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new ApiError('invalid_input', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw new ApiError('invalid_input', `${file}: expected a JSON array of {"path" or "hash", "class"} objects`);
  const rows: LabelRow[] = [];
  // "line" of a JSON entry is its position in the array, from 1
  data.forEach((entry: unknown, index) => {
    const line = index + 1;
    const item = (entry ?? {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
    const key = { path: text(item.path), hash: text(item.hash) };
    const className = item.class ?? item.label ?? null;
    if (typeof entry !== 'object' || entry === null || (!key.path && !key.hash)) errors.push({ line, message: `entry ${line}: needs a "path" or a "hash"` });
    else if (className !== null && typeof className !== 'string') errors.push({ line, message: `entry ${line}: "class" must be a string (or null to clear the label)` });
    else addRow(rows, errors, line, key, className ?? '');
  });
  return { rows, total: data.length };
}

function addRow(rows: LabelRow[], errors: { line: number; message: string }[], line: number, key: { path?: string; hash?: string }, rawClass: string): void {
  if (rawClass.trim() === '') {
    rows.push({ line, ...key, className: null });
    return;
  }
  const parsed = ClassName.safeParse(rawClass);
  if (parsed.success) {
    rows.push({ line, ...key, className: parsed.data.normalize('NFC') });
    return;
  }
  // the name is shown with its invisible characters spelled out, and only once
  const problem = parsed.error.issues[0].message;
  errors.push({ line, message: problem.startsWith('class name "') ? `line ${line}: ${problem}` : `line ${line}: class "${visibleName(rawClass)}": ${problem}` });
}

/** A key cell, trimmed, without the formula guard our CSV writer puts before = + - @. */
function cell(fields: string[], at: number): string | undefined {
  const value = at >= 0 && fields[at] !== undefined ? unguardCsvCell(fields[at].trim()) : undefined;
  return value ? value : undefined;
}

/**
 * Finds an image by path (absolute, or under an imported folder, or beside the file), then by hash.
 * A relative path found under several folders is ambiguous: the folders are returned instead.
 */
function imageFinder(db: Database, fileFolder: string): (row: LabelRow) => number | string[] | undefined {
  const byPath = new Map<string, number>();
  const byHash = new Map<string, number>();
  for (const r of db.prepare('SELECT id, path, hash, status FROM images').all() as { id: number; path: string; hash: string | null; status: string }[]) {
    byPath.set(r.path, r.id);
    if (r.hash && (r.status === 'ok' || !byHash.has(r.hash))) byHash.set(r.hash, r.id);
  }
  const folders = [...(db.prepare('SELECT folder FROM sources ORDER BY id').pluck().all() as string[]), fileFolder];
  return (row) => {
    if (row.path) {
      const candidates = path.isAbsolute(row.path) ? [path.resolve(row.path)] : [...new Set(folders.map((f) => path.resolve(f, row.path!)))];
      const found = candidates.filter((c) => byPath.has(c));
      if (found.length === 1) return byPath.get(found[0]);
      if (found.length > 1) return found.map((f) => path.dirname(f));
    }
    return row.hash ? byHash.get(row.hash) : undefined;
  };
}
