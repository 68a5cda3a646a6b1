/**
 * Notes of a training run, kept with it in the project (table run_notes): a batch halved after
 * running out of memory, images skipped because their files are gone, decisions the trainer took.
 * The run record says how a run ended; the notes say what happened on the way.
 */
import type { TrainNote } from '../contract/calls-train';
import type { Database } from '../project/database';

export function addRunNote(db: Database, runId: number, kind: TrainNote['kind'], message: string): TrainNote {
  const note: TrainNote = { at: new Date().toISOString(), kind, message };
  db.prepare('INSERT INTO run_notes (run_id, at, kind, message) VALUES (?, ?, ?, ?)').run(runId, note.at, note.kind, note.message);
  return note;
}

export function runNotes(db: Database, runId: number): TrainNote[] {
  return db.prepare('SELECT at, kind, message FROM run_notes WHERE run_id = ? ORDER BY id').all(runId) as TrainNote[];
}
