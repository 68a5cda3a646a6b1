/**
 * What the soak's trials share: the temp folder and EFFITUNE_HOME, the two projects, the state a
 * trial must know to judge the next (which labeling undo should take back, which export is on disk),
 * how long each operation takes when left alone (kills are timed against it), and the seeded random.
 */
export type OperationName = 'import' | 'label' | 'undo' | 'train' | 'export' | 'handoff';

/** What is timed for the kills: each operation, the hand-off's two commands apart. */
export type TimedCommand = Exclude<OperationName, 'handoff'> | 'handoffExport' | 'handoffImport';

/** The hand-off trials' state (ops/handoff.ts). */
export interface HandoffState {
  /** the target of the export trials, and the createdAt of the complete bundle in it (null: none) */
  bundleDir: string;
  bundleStamp: string | null;
  /** a bundle trained by its own train.py in set-up, which the import trials import (null: skipped) */
  trainedBundle: string | null;
  /** why the import trials are skipped (no Python with torch), null when they run */
  importSkipped: string | null;
  /** hand-off trials so far: export and import take turns */
  trials: number;
  /** ms from the moment the work visibly begins (temporary folder / write-ahead log) to the exit, undisturbed */
  windowMs: { export: number; import: number };
}

export interface Soak {
  dir: string;
  env: { cwd: string; home: string };
  random: () => number;
  /** the project that imports and labels are run on */
  labelProject: string;
  /** the project that trains and exports */
  trainProject: string;
  /** a completed run to export */
  runId: number | null;
  /** the export target folder, and the exportedAt of the complete export in it (null: none yet) */
  exportDir: string;
  exportStamp: string | null;
  /** the labeling that undo is expected to take back: labels before it, per path (null: nothing known to undo) */
  undoable: { before: Map<string, string | null> } | null;
  /** seconds an uninterrupted run of each operation took, last measured */
  seconds: Record<TimedCommand, number>;
  /** how many import batches were written (each new folder of fresh images) */
  batches: number;
  /** shared flags of every training run */
  trainFlags: string[];
  handoff: HandoffState;
}

/** What one trial found. A trial whose command finished before the kill counts no kill. */
export interface Outcome {
  killed: boolean;
  /** the kill came after the command had committed part of its work (so it really was cut mid-way) */
  midWork: boolean;
  /** broken states: failed integrity check, a partial edit or export, a project that does not open, work that cannot be completed */
  corrupt: string[];
  /** things committed before the kill that are gone after */
  lost: string[];
  /** recoveries performed (re-import, resume, sweep), for the figures */
  recovered: number;
  /** worth saying but neither corrupt nor lost (e.g. a harmless file left behind); printed, not counted */
  notes: string[];
}

export function outcome(): Outcome {
  return { killed: false, midWork: false, corrupt: [], lost: [], recovered: 0, notes: [] };
}

/** When to kill: somewhere between a quarter of the way and the end of an undisturbed run. */
export function killDelayMs(soak: Soak, op: TimedCommand): number {
  return Math.round((0.25 + 0.8 * soak.random()) * soak.seconds[op] * 1000);
}
