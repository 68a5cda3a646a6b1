/**
 * The labeling state of image rows (label, who/when/source, split, exclusion) as the undo journal
 * keeps it: read before an edit, written back exactly on undo. A set of states is stored compactly
 * as ids plus a dictionary of distinct states, because an edit of 10,000 images mostly repeats a
 * handful of states (one class, one timestamp).
 */
import type { Database } from '../../project/database';

export interface ImageState {
  class_id: number | null;
  label_source: string | null;
  labeled_at: string | null;
  labeled_by: string | null;
  split: string | null;
  split_source: string | null;
  excluded: number;
}

type StateTuple = [number | null, string | null, string | null, string | null, string | null, string | null, number];

/** JSON form: `of[i]` indexes `states` for `ids[i]`; `of` is left out when there is one state. */
export interface EncodedStates {
  ids: number[];
  states: StateTuple[];
  of?: number[];
}

const COLUMNS = 'class_id, label_source, labeled_at, labeled_by, split, split_source, excluded';

/** Current states of the given images (ids not in the project are left out). */
export function readStates(db: Database, ids: readonly number[]): Map<number, ImageState> {
  const rows = db.prepare(`SELECT id, ${COLUMNS} FROM images WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as (ImageState & { id: number })[];
  return new Map(rows.map(({ id, ...state }) => [id, state]));
}

const STATE_KEYS = ['class_id', 'label_source', 'labeled_at', 'labeled_by', 'split', 'split_source', 'excluded'] as const;

/**
 * Write the states. With the current states given, only the columns that differ are set: an
 * UPDATE that names an indexed column (class_id, split, excluded) rewrites its index entries even
 * when the value stays, so setting less keeps big edits near the cost of a plain UPDATE.
 */
export function writeStates(db: Database, states: Map<number, ImageState>, current?: Map<number, ImageState>): void {
  const statements = new Map<string, ReturnType<Database['prepare']>>();
  for (const [id, state] of states) {
    const now = current?.get(id);
    const keys = now ? STATE_KEYS.filter((k) => now[k] !== state[k]) : STATE_KEYS;
    if (keys.length === 0) continue;
    const signature = keys.join(',');
    let update = statements.get(signature);
    if (!update) {
      update = db.prepare(`UPDATE images SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`);
      statements.set(signature, update);
    }
    const params: Record<string, unknown> = { id };
    for (const k of keys) params[k] = state[k];
    update.run(params);
  }
}

export function encodeStates(states: Map<number, ImageState>): EncodedStates {
  const index = new Map<string, number>();
  const tuples: StateTuple[] = [];
  const ids: number[] = [];
  const of: number[] = [];
  for (const [id, s] of states) {
    const tuple: StateTuple = [s.class_id, s.label_source, s.labeled_at, s.labeled_by, s.split, s.split_source, s.excluded];
    // cheaper than JSON.stringify for 10,000 rows; null is told apart from '' and from 'null'
    const key = tuple.map((v) => (v === null ? '\u0000' : `${typeof v}:${v}`)).join('\u0001');
    let at = index.get(key);
    if (at === undefined) {
      at = tuples.push(tuple) - 1;
      index.set(key, at);
    }
    ids.push(id);
    of.push(at);
  }
  return tuples.length === 1 ? { ids, states: tuples } : { ids, states: tuples, of };
}

export function decodeStates(encoded: EncodedStates): Map<number, ImageState> {
  const states = new Map<number, ImageState>();
  encoded.ids.forEach((id, i) => {
    const [class_id, label_source, labeled_at, labeled_by, split, split_source, excluded] = encoded.states[encoded.of?.[i] ?? 0];
    states.set(id, { class_id, label_source, labeled_at, labeled_by, split, split_source, excluded });
  });
  return states;
}

/** The states after an edit: each image's current state with `change` applied. */
export function changedStates(before: Map<number, ImageState>, change: (state: ImageState) => Partial<ImageState>): Map<number, ImageState> {
  const after = new Map<number, ImageState>();
  for (const [id, state] of before) after.set(id, { ...state, ...change(state) });
  return after;
}
