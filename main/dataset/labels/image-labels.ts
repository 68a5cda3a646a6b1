/**
 * Labeling a selection of images (set or clear the class, by hand or by accepting a model's
 * suggestion) and excluding images from training; each call is one undoable edit.
 */
import { ApiError } from '../../contract/contract';
import type { ClassRef, EditInfo } from '../../contract/calls-labels';
import type { Database } from '../../project/database';
import { allClasses, classByName, findClass, type ClassRow } from './class-names';
import { newClassRow } from './classes';
import { changedStates, encodeStates, readStates, type ImageState } from './image-state';
import { performEdit, type Step } from './journal';
import { capImageHistory } from './label-history';
import { runAuthor } from './who';

export interface SetLabelsInput {
  imageIds: readonly number[];
  /** null clears the label */
  class: ClassRef | null;
  source: 'user' | 'model';
  runId?: number;
  /** a class named that does not exist is created in the same edit */
  createClass?: boolean;
}

export function setLabels(db: Database, input: SetLabelsInput, who: string): { edit: EditInfo | null; changed: number } {
  return db
    .transaction(() => {
      const states = statesOf(db, input.imageIds);
      const classes = allClasses(db);
      let created: ClassRow | undefined;
      let target: ClassRow | null = null;
      if (input.class !== null) {
        const existing = typeof input.class === 'string' && input.createClass ? classByName(classes, input.class) : undefined;
        if (typeof input.class === 'string' && input.createClass && !existing) target = created = newClassRow(db, classes, input.class);
        else target = existing ?? findClass(classes, input.class);
      }
      const targetId = target?.id ?? null;
      const before = new Map([...states].filter(([, s]) => s.class_id !== targetId));
      if (before.size === 0 && !created) return { edit: null, changed: 0 };

      const author = input.source === 'model' ? (input.runId !== undefined ? runAuthor(input.runId) : 'model') : who;
      const at = new Date().toISOString();
      const after = changedStates(before, () => ({ class_id: targetId, label_source: 'user', labeled_at: at, labeled_by: author }));
      const n = `${before.size} image${before.size === 1 ? '' : 's'}`;
      const summary =
        target === null ? `unlabel ${n}` : input.source === 'model' ? `accept the suggestion "${target.name}" for ${n}${input.runId !== undefined ? ` (run ${input.runId})` : ''}` : `label ${n} as "${target.name}"`;
      const redo: Step = { images: encodeStates(after) };
      const undo: Step = { images: encodeStates(before) };
      if (created) {
        redo.create = [created];
        undo.remove = [created.id];
      }
      const edit = performEdit(db, { kind: 'labels.set', summary, redo, undo }, { source: input.source, who: author });
      return { edit, changed: before.size };
    })
    .immediate();
}

export function excludeImages(db: Database, imageIds: readonly number[], excluded: boolean, who: string): { edit: EditInfo | null; changed: number } {
  return db
    .transaction(() => {
      const flag = excluded ? 1 : 0;
      const before = new Map([...statesOf(db, imageIds)].filter(([, s]) => s.excluded !== flag));
      if (before.size === 0) return { edit: null, changed: 0 };
      const after = changedStates(before, () => ({ excluded: flag }));
      const n = `${before.size} image${before.size === 1 ? '' : 's'}`;
      const summary = excluded ? `exclude ${n} from training` : `include ${n} in training again`;
      const edit = performEdit(db, { kind: 'labels.exclude', summary, redo: { images: encodeStates(after) }, undo: { images: encodeStates(before) } }, { source: 'user', who });
      return { edit, changed: before.size };
    })
    .immediate();
}

/**
 * The user looked at these images and keeps their labels: one label_history row each with the same
 * class before and after (the only kind of row that has it), so "likely label errors" stops listing
 * them until their label changes. Not an undoable edit: nothing about the images changes.
 */
export function confirmLabels(db: Database, imageIds: readonly number[], who: string): { confirmed: number } {
  return db
    .transaction(() => {
      const states = statesOf(db, imageIds);
      const names = new Map(allClasses(db).map((c) => [c.id, c.name]));
      const at = new Date().toISOString();
      const insert = db.prepare("INSERT INTO label_history (image_id, at, from_class, to_class, source, who) VALUES (?, ?, ?, ?, 'user', ?)");
      let confirmed = 0;
      for (const [id, state] of states) {
        if (state.class_id === null) continue;
        const name = names.get(state.class_id) ?? null;
        insert.run(id, at, name, name, who);
        confirmed++;
      }
      capImageHistory(db, [...states.keys()]);
      return { confirmed };
    })
    .immediate();
}

/** The states of the selected images; an id not in the project is an error naming it. */
export function statesOf(db: Database, imageIds: readonly number[]): Map<number, ImageState> {
  const ids = [...new Set(imageIds)];
  const states = readStates(db, ids);
  if (states.size !== ids.length) {
    const unknown = ids.filter((id) => !states.has(id));
    throw new ApiError('not_found', `imageIds: there is no image with id ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ` (and ${unknown.length - 10} more)` : ''} in this project`, { unknown });
  }
  return states;
}
