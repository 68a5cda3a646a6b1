/**
 * Splits set by hand: moving images between train, validation and test (split_source 'user', so a
 * later split.run keeps them where they are), and the lock of the test split (meta 'test_lock'):
 * while locked nothing enters or leaves test, so results stay comparable across runs.
 */
import { ApiError, type SplitName } from '../../contract/contract';
import type { EditInfo } from '../../contract/calls-labels';
import type { Database } from '../../project/database';
import { changedStates, encodeStates } from './image-state';
import { statesOf } from './image-labels';
import { performEdit } from './journal';

const LOCK_KEY = 'test_lock';

export function isTestLocked(db: Database): boolean {
  return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(LOCK_KEY) === '1';
}

export function setTestLocked(db: Database, locked: boolean): { locked: boolean } {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(LOCK_KEY, locked ? '1' : '0');
  return { locked };
}

export const LOCKED_MESSAGE = 'the test split is locked, so no image may enter or leave it; unlock it first (split.lock with locked: false)';

/** Move images to a split by hand; null gives them back to the automatic split (the next split.run deals them). */
export function moveToSplit(db: Database, imageIds: readonly number[], split: SplitName | null, who: string): { edit: EditInfo | null; changed: number } {
  return db
    .transaction(() => {
      const source = split === null ? null : 'user';
      const before = new Map([...statesOf(db, imageIds)].filter(([, s]) => s.split !== split || s.split_source !== source));
      if (before.size === 0) return { edit: null, changed: 0 };
      if (isTestLocked(db)) {
        const touchingTest = [...before.values()].filter((s) => s.split !== split && (s.split === 'test' || split === 'test')).length;
        if (touchingTest > 0) throw new ApiError('invalid_input', `cannot move ${touchingTest} image(s) ${split === 'test' ? 'into' : 'out of'} the test split: ${LOCKED_MESSAGE}`);
      }
      const after = changedStates(before, () => ({ split, split_source: source }));
      const n = `${before.size} image${before.size === 1 ? '' : 's'}`;
      const summary = split === null ? `return ${n} to the automatic split` : `move ${n} to ${split === 'val' ? 'validation' : split}`;
      const edit = performEdit(db, { kind: 'split.move', summary, redo: { images: encodeStates(after) }, undo: { images: encodeStates(before) } }, { source: 'user', who });
      return { edit, changed: before.size };
    })
    .immediate();
}
