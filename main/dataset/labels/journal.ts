/**
 * The persisted undo/redo journal (table edits). Every labeling operation is described as two steps,
 * redo (what it does) and undo (the exact prior state of everything it touches), and performed by
 * applying its redo step — so doing, undoing and redoing run the same code. Each runs in one
 * transaction with its edits row and its label_history rows: a crash loses nothing and the journal
 * never disagrees with the data. A new edit drops the undone ones (the redo branch), as editors do,
 * with their label_history rows (label-history.ts keeps the history bounded); the journal keeps the
 * newest JOURNAL_EDITS edits, so the oldest can no longer be undone (their history rows stay).
 */
import { ApiError } from '../../contract/contract';
import type { EditInfo } from '../../contract/calls-labels';
import type { Database } from '../../project/database';
import { allClasses, foldName, type ClassRow } from './class-names';
import { decodeStates, readStates, writeStates, type EncodedStates } from './image-state';
import { forgetDroppedEdits, writeHistory, type HistorySource, type LabelChange } from './label-history';

/** Edits kept for undo; each stores the prior state of every image it touched, so the journal is bounded. */
export const JOURNAL_EDITS = 50;

export interface Step {
  /** classes that must not exist: created with exactly this id, name, colour and position */
  create?: ClassRow[];
  /** classes that must exist: they take this name, colour and position */
  update?: ClassRow[];
  /** image rows that take exactly these states (after the classes above exist) */
  images?: EncodedStates;
  /** classes removed once the images above have left them */
  remove?: number[];
}

export interface EditPlan {
  kind: string;
  summary: string;
  redo: Step;
  undo: Step;
}

export interface Author {
  source: HistorySource;
  who: string;
}

interface EditRow {
  id: number;
  at: string;
  kind: string;
  summary: string;
  redo: string;
  undo: string;
  undone: number;
}

/** Apply a new edit (inside the caller's transaction) and record it; returns its journal entry. */
export function performEdit(db: Database, plan: EditPlan, by: Author): EditInfo {
  forgetDroppedEdits(db, 'SELECT id FROM edits WHERE undone = 1');
  db.prepare('DELETE FROM edits WHERE undone = 1').run();
  const at = new Date().toISOString();
  const id = Number(
    db.prepare('INSERT INTO edits (at, kind, summary, redo, undo) VALUES (?, ?, ?, ?, ?)').run(at, plan.kind, plan.summary, JSON.stringify(plan.redo), JSON.stringify(plan.undo)).lastInsertRowid,
  );
  applyStep(db, plan.redo, by, id, plan.summary);
  // the oldest edits leave the journal; their history rows stay (edit_id becomes NULL)
  db.prepare('DELETE FROM edits WHERE id NOT IN (SELECT id FROM edits ORDER BY id DESC LIMIT ?)').run(JOURNAL_EDITS);
  return { id, at, kind: plan.kind, summary: plan.summary, undone: false };
}

/** Undo the newest edit not undone yet; null when there is none. */
export function undoLast(db: Database, who: string): EditInfo | null {
  return db
    .transaction((): EditInfo | null => {
      const row = db.prepare('SELECT * FROM edits WHERE undone = 0 ORDER BY id DESC LIMIT 1').get() as EditRow | undefined;
      if (!row) return null;
      applyStep(db, JSON.parse(row.undo) as Step, { source: 'undo', who }, row.id, `undo ${row.summary}`);
      db.prepare('UPDATE edits SET undone = 1 WHERE id = ?').run(row.id);
      return { ...toInfo(row), undone: true };
    })
    .immediate();
}

/** Redo the oldest undone edit; null when there is none. */
export function redoNext(db: Database, who: string): EditInfo | null {
  return db
    .transaction((): EditInfo | null => {
      const row = db.prepare('SELECT * FROM edits WHERE undone = 1 ORDER BY id LIMIT 1').get() as EditRow | undefined;
      if (!row) return null;
      applyStep(db, JSON.parse(row.redo) as Step, { source: 'redo', who }, row.id, `redo ${row.summary}`);
      db.prepare('UPDATE edits SET undone = 0 WHERE id = ?').run(row.id);
      return { ...toInfo(row), undone: false };
    })
    .immediate();
}

export function listEdits(db: Database, limit: number) {
  const rows = db.prepare('SELECT id, at, kind, summary, undone FROM edits ORDER BY id DESC LIMIT ?').all(limit) as Omit<EditRow, 'redo' | 'undo'>[];
  const undo = db.prepare('SELECT summary FROM edits WHERE undone = 0 ORDER BY id DESC LIMIT 1').pluck().get() as string | undefined;
  const redo = db.prepare('SELECT summary FROM edits WHERE undone = 1 ORDER BY id LIMIT 1').pluck().get() as string | undefined;
  return { edits: rows.map(toInfo), canUndo: undo !== undefined, canRedo: redo !== undefined, undoSummary: undo ?? null, redoSummary: redo ?? null };
}

function toInfo(row: Omit<EditRow, 'redo' | 'undo'>): EditInfo {
  return { id: row.id, at: row.at, kind: row.kind, summary: row.summary, undone: row.undone === 1 };
}

/**
 * Classes first (so images can point at them), then images, then the removal of classes. Anything
 * changed outside the journal since (a folder import creates classes and labels images) that would
 * make the step inexact is refused in words rather than silently overwritten.
 */
function applyStep(db: Database, step: Step, by: Author, editId: number, what: string): void {
  const classes = allClasses(db);
  for (const c of step.create ?? []) {
    const taken = classes.find((k) => k.id === c.id);
    if (taken) throw new ApiError('already_exists', `cannot ${what}: class "${c.name}" cannot get its id ${c.id} back, class "${taken.name}" has it now`);
    checkFree(classes, c, what);
    db.prepare('INSERT INTO classes (id, name, color, position) VALUES (@id, @name, @color, @position)').run(c);
    classes.push(c);
  }
  for (const c of step.update ?? []) {
    const current = classes.find((k) => k.id === c.id);
    if (!current) throw new ApiError('not_found', `cannot ${what}: class "${c.name}" (id ${c.id}) no longer exists`);
    checkFree(classes, c, what);
    db.prepare('UPDATE classes SET name = @name, color = @color, position = @position WHERE id = @id').run(c);
    Object.assign(current, c);
  }
  if (step.images && step.images.ids.length > 0) {
    const target = decodeStates(step.images);
    const current = readStates(db, step.images.ids);
    const at = new Date().toISOString();
    writeStates(db, target, current);
    const changes: LabelChange[] = [];
    for (const [imageId, state] of target) {
      const from = current.get(imageId)?.class_id ?? null;
      if (current.has(imageId) && from !== state.class_id) changes.push({ imageId, from, to: state.class_id });
    }
    writeHistory(db, changes, new Map(classes.map((c) => [c.id, c.name])), by, editId, at);
  }
  if (step.remove && step.remove.length > 0) {
    const ids = JSON.stringify(step.remove);
    const left = db
      .prepare(`SELECT c.name, COUNT(*) AS n FROM images i JOIN classes c ON c.id = i.class_id WHERE i.class_id IN (SELECT value FROM json_each(?)) GROUP BY c.id`)
      .all(ids) as { name: string; n: number }[];
    if (left.length > 0) {
      const words = left.map((l) => `${l.n} image(s) of "${l.name}"`).join(', ');
      throw new ApiError('invalid_input', `cannot ${what}: ${words} were labeled outside this edit since (by a folder import); relabel them first`);
    }
    db.prepare('DELETE FROM classes WHERE id IN (SELECT value FROM json_each(?))').run(ids);
  }
}

function checkFree(classes: readonly ClassRow[], c: ClassRow, what: string): void {
  const key = foldName(c.name);
  const other = classes.find((k) => k.id !== c.id && foldName(k.name) === key);
  if (other) throw new ApiError('already_exists', `cannot ${what}: another class is named "${other.name}" now; rename it first`);
}
