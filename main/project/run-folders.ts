/**
 * Where a run's files live inside the project's side folder, and the names of the files every
 * room agrees on (the trainer writes them; evaluation, export and the service read them).
 */
import path from 'node:path';

/** The run's side folder: <project>.d/runs/<id> (registry.sideFolder makes it). */
export function runFolderName(runId: number): string {
  return path.join('runs', String(runId));
}

/**
 * Written in the run's folder while a trainer works on it ({pid, startedAt}): lets another app
 * instance tell a run that trains elsewhere from a stale record left by a stopped app.
 */
export const TRAINER_PID_FILE = 'trainer.json';

/** The finished run's model folder inside the run's folder (checkpoint.ts renames the best epoch to it). */
export const FINAL_MODEL_DIR = 'model';
