/**
 * Records of training runs: one row per run (configuration, backend, model, status and why it
 * ended, best epoch) and one row per finished epoch. The trainer writes them, the UI and CLI read
 * them. Every write is one transaction, so a trainer killed mid-write leaves a consistent record.
 * A run read back says whether its kept model beats guessing (RunBaseline); a finished run can be
 * deleted with its folder. A run whose trainer and app were both killed (or crashed together) would
 * stay "running" for ever: its trainer records who owns it (claimRun, heartbeatRun), and reading
 * it closes it as failed, resumable from its last finished epoch, once its owners are gone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiError } from '../contract/contract';
import { isFinalRunStatus, RunStatus, type EpochRecord, type RunBaseline, type RunRecord } from '../contract/calls-data';
import type { Database } from './database';
import { runFolderName } from './run-folders';
import { markOfThisProcess, ownerIsGone, type RunOwner } from './run-owner';

export interface NewRun {
  /** the training configuration; stored as JSON and handed back unchanged by getRun */
  config: Record<string, unknown>;
  variant: string;
  resolution: number;
  /** class names in the order of the model outputs */
  classes: string[];
  backend?: string | null;
  checkpointDir?: string | null;
  /** default 'queued' */
  status?: RunStatus;
  /** validation images per class, in the order of `classes`: the majority-class baseline of the run */
  valCounts?: number[] | null;
}

export interface StatusChange {
  reason?: string | null;
  backend?: string;
  checkpointDir?: string;
}

export interface EpochInput {
  epoch: number;
  /** NaN or ±Infinity are stored as null (a diverged loss is a fact worth keeping, not an error) */
  trainLoss: number | null;
  trainAcc: number | null;
  valLoss: number | null;
  valAcc: number | null;
  imagesPerSecond: number;
  seconds: number;
  lr: number;
  batch: number;
  /** default: now */
  at?: string;
}

/**
 * Which status may follow which. A failed or cancelled run may run again (`train --resume`);
 * a completed run is final.
 */
const NEXT_STATUS: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'failed', 'cancelled'],
  running: ['paused', 'completed', 'failed', 'cancelled'],
  paused: ['running', 'failed', 'cancelled'],
  failed: ['running'],
  cancelled: ['running'],
  completed: [],
};

export function createRun(db: Database, run: NewRun): RunRecord {
  if (!run.variant.trim()) throw new ApiError('invalid_input', 'a run needs a model variant');
  if (!Number.isInteger(run.resolution) || run.resolution < 1) throw new ApiError('invalid_input', `run resolution must be a positive whole number of pixels, not ${run.resolution}`);
  if (run.classes.length === 0) throw new ApiError('invalid_input', 'a run needs at least one class');
  if (run.valCounts && run.valCounts.length !== run.classes.length) throw new ApiError('invalid_input', `valCounts: ${run.valCounts.length} counts for ${run.classes.length} classes`);
  const status = run.status ?? 'queued';
  const now = new Date().toISOString();
  const id = db
    .transaction(() => {
      // never the id of a deleted run again: its folder, labels "by run <id>" and the UI's memory name that run
      const next = Math.max(Number(db.prepare('SELECT COALESCE(MAX(id), 0) FROM runs').pluck().get()), deletedRunIdFloor(db)) + 1;
      clearStrayRunFolder(db, next);
      db.prepare(
        `INSERT INTO runs (id, created_at, updated_at, status, config, backend, variant, resolution, classes, class_ids, val_counts, checkpoint_dir, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        next,
        now,
        now,
        RunStatus.parse(status),
        JSON.stringify(run.config),
        run.backend ?? null,
        run.variant,
        run.resolution,
        JSON.stringify(run.classes),
        JSON.stringify(classIdsOf(db, run.classes)),
        run.valCounts ? JSON.stringify(run.valCounts) : null,
        run.checkpointDir ?? null,
        isFinalRunStatus(status) ? now : null,
      );
      return next;
    })
    .immediate();
  return getRun(db, id);
}

/**
 * A folder for an id no run has had: what a process killed between renaming a run's folder into
 * place and committing the run left (handoff import). No run owns it (deleted runs' ids are never
 * given out again), so it goes before the id is given out, and the new run starts with an empty folder.
 */
function clearStrayRunFolder(db: Database, id: number): void {
  if (db.memory) return;
  const folder = runFolderOf(db.name, id);
  if (fs.existsSync(folder)) fs.rmSync(folder, { recursive: true, force: true });
}

/** The folder of a run's checkpoints and model beside the project file: <project>.d/runs/<id>. */
export function runFolderOf(projectPath: string, runId: number): string {
  return path.join(`${path.resolve(projectPath)}.d`, runFolderName(runId));
}

export interface DeletedRun {
  id: number;
  folder: string;
  folderExisted: boolean;
}

/**
 * Delete a run for good: its row (epochs, notes, predictions, evaluations and export records go
 * with it, by the schema's cascades) and its folder. A run that is not final (queued, running,
 * paused) is refused as busy: a trainer may be writing it. Packages exported outside the project's
 * folder are the user's and stay.
 */
export function deleteRun(handle: { db: Database; path: string }, id: number): DeletedRun {
  const { db } = handle;
  closeAbandonedRuns(db, id);
  db.transaction(() => {
    const status = statusOf(db, id);
    if (!isFinalRunStatus(status)) {
      throw new ApiError('busy', `run ${id} is ${status}: cancel it${status === 'queued' ? '' : ' (or let it finish)'} before deleting it`);
    }
    db.prepare('DELETE FROM runs WHERE id = ?').run(id);
    db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(DELETED_RUN_ID_FLOOR, String(Math.max(id, deletedRunIdFloor(db))));
  }).immediate();
  const folder = runFolderOf(handle.path, id);
  const folderExisted = fs.existsSync(folder);
  try {
    fs.rmSync(folder, { recursive: true, force: true });
  } catch (err) {
    throw new ApiError('io_error', `run ${id} is deleted from the project, but its folder ${folder} could not be removed (${(err as Error).message}); delete the folder by hand`);
  }
  return { id, folder, folderExisted };
}

/**
 * Move a run to a new status, checking that the step makes sense (a completed run never runs again).
 * Entering a final status stamps finished_at; running again clears it and the old reason.
 */
export function updateRunStatus(db: Database, id: number, status: RunStatus, change: StatusChange = {}): RunRecord {
  return db
    .transaction(() => {
      const current = statusOf(db, id);
      if (!NEXT_STATUS[current].includes(status)) {
        const allowed = NEXT_STATUS[current];
        const hint = allowed.length ? `from ${current} it can become ${allowed.join(', ')}` : `a ${current} run is final`;
        throw new ApiError('invalid_input', `run ${id} cannot go from ${current} to ${status}: ${hint}`);
      }
      const now = new Date().toISOString();
      db.prepare(
        `UPDATE runs SET status = ?, updated_at = ?, reason = ?, finished_at = ?,
           backend = COALESCE(?, backend), checkpoint_dir = COALESCE(?, checkpoint_dir)
         WHERE id = ?`,
      ).run(status, now, change.reason ?? null, isFinalRunStatus(status) ? now : null, change.backend ?? null, change.checkpointDir ?? null, id);
      return getRun(db, id);
    })
    .immediate();
}

/**
 * Record one finished epoch and keep the run's best epoch (lowest validation loss, earliest on a tie)
 * up to date, in one transaction. Recording an epoch again (a resumed run repeating it) replaces it.
 * Returns whether this epoch is now the best one, so the trainer knows to keep its checkpoint.
 */
export function recordEpoch(db: Database, runId: number, input: EpochInput): { isBest: boolean; run: RunRecord } {
  if (!Number.isInteger(input.epoch) || input.epoch < 0) throw new ApiError('invalid_input', `epoch must be a whole number ≥ 0, not ${input.epoch}`);
  if (!Number.isInteger(input.batch) || input.batch < 1) throw new ApiError('invalid_input', `epoch ${input.epoch}: batch must be a whole number ≥ 1, not ${input.batch}`);
  for (const field of ['imagesPerSecond', 'seconds', 'lr'] as const) {
    if (!Number.isFinite(input[field])) throw new ApiError('invalid_input', `epoch ${input.epoch}: ${field} must be a finite number, not ${input[field]}`);
  }
  return db
    .transaction(() => {
      statusOf(db, runId);
      db.prepare(
        `INSERT OR REPLACE INTO epochs (run_id, epoch, train_loss, train_acc, val_loss, val_acc, images_per_second, seconds, lr, batch, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        runId,
        input.epoch,
        finiteOrNull(input.trainLoss),
        finiteOrNull(input.trainAcc),
        finiteOrNull(input.valLoss),
        finiteOrNull(input.valAcc),
        input.imagesPerSecond,
        input.seconds,
        input.lr,
        input.batch,
        input.at ?? new Date().toISOString(),
      );
      const best = updateBest(db, runId);
      return { isBest: best === input.epoch, run: getRun(db, runId) };
    })
    .immediate();
}

/**
 * Forget the epochs after `epoch` (a run resumed from an earlier checkpoint will record them again);
 * returns how many were removed.
 */
export function discardEpochsAfter(db: Database, runId: number, epoch: number): number {
  return db
    .transaction(() => {
      statusOf(db, runId);
      const removed = db.prepare('DELETE FROM epochs WHERE run_id = ? AND epoch > ?').run(runId, epoch).changes;
      updateBest(db, runId);
      return removed;
    })
    .immediate();
}

export function getRun(db: Database, id: number): RunRecord {
  closeAbandonedRuns(db, id);
  const row = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.id = ?`).get(id) as RunRow | undefined;
  if (!row) throw new ApiError('not_found', `there is no training run ${id} in this project`);
  return toRun(db, row);
}

/** meta key: the highest id of a deleted run (ids are not reused) */
const DELETED_RUN_ID_FLOOR = 'deleted_run_id_floor';

function deletedRunIdFloor(db: Database): number {
  const value = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(DELETED_RUN_ID_FLOOR) as string | undefined;
  return Number(value ?? 0) || 0;
}

/** Runs newest first, optionally of one status. */
export function listRuns(db: Database, options: { status?: RunStatus; limit?: number } = {}): RunRecord[] {
  const limit = options.limit ?? 100;
  closeAbandonedRuns(db);
  const rows = (
    options.status
      ? db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.status = ? ORDER BY r.id DESC LIMIT ?`).all(options.status, limit)
      : db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r ORDER BY r.id DESC LIMIT ?`).all(limit)
  ) as RunRow[];
  return rows.map((row) => toRun(db, row));
}

/** The epochs of a run in order. */
export function runHistory(db: Database, runId: number): EpochRecord[] {
  statusOf(db, runId);
  const rows = db.prepare(`SELECT ${EPOCH_COLUMNS} FROM epochs WHERE run_id = ? ORDER BY epoch`).all(runId) as EpochRow[];
  return rows.map(toEpoch);
}

// ---------- who trains a run ----------

/**
 * The calling process, a trainer, takes the run: it, its parent (the app that started it) and a
 * first heartbeat are recorded, so a reader can tell a live run from one whose processes are gone.
 */
export function claimRun(db: Database, id: number): void {
  const { host, trainer, app } = markOfThisProcess();
  db.transaction(() => {
    statusOf(db, id);
    db.prepare(`UPDATE runs SET trainer_host = ?, trainer_pid = ?, trainer_start = ?, app_pid = ?, app_start = ?, heartbeat_at = ? WHERE id = ?`).run(
      host,
      trainer.pid,
      trainer.start,
      app?.pid ?? null,
      app?.start ?? null,
      new Date().toISOString(),
      id,
    );
  }).immediate();
}

/** The trainer says it is alive; false when the run is no longer this process's (another trainer took it). */
export function heartbeatRun(db: Database, id: number): boolean {
  return db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ? AND trainer_pid = ? AND trainer_host = ?').run(new Date().toISOString(), id, process.pid, os.hostname()).changes > 0;
}

/** Who trains a run that is not final, and whether they are gone; null when no trainer recorded itself. */
export function runOwner(db: Database, id: number): { owner: RunOwner; gone: boolean } | null {
  const row = db.prepare(`SELECT status, ${OWNER_COLUMNS} FROM runs WHERE id = ?`).get(id) as OwnerRow | undefined;
  if (!row || isFinalRunStatus(row.status) || row.trainer_pid === null) return null;
  const owner = ownerOf(row);
  return { owner, gone: ownerIsGone(owner) };
}

interface OwnerRow {
  id: number;
  status: RunStatus;
  trainer_host: string | null;
  trainer_pid: number | null;
  trainer_start: string | null;
  app_pid: number | null;
  app_start: string | null;
  heartbeat_at: string | null;
}

const OWNER_COLUMNS = 'id, trainer_host, trainer_pid, trainer_start, app_pid, app_start, heartbeat_at';

function ownerOf(row: OwnerRow): RunOwner {
  return {
    host: row.trainer_host ?? '',
    trainer: { pid: row.trainer_pid!, start: row.trainer_start },
    app: row.app_pid === null ? null : { pid: row.app_pid, start: row.app_start },
    heartbeatAt: row.heartbeat_at,
  };
}

/**
 * Close the runs (one, or all) left queued, running or paused by a trainer that is gone together
 * with its app: failed, with the epoch a resume continues from. Decided again under the write lock,
 * so a run another process has just resumed is never closed. Skipped inside a caller's transaction
 * (a trainer writing its own run) and on a project that cannot be written (the run then reads as it
 * is stored).
 */
function closeAbandonedRuns(db: Database, id?: number): void {
  if (db.inTransaction || db.readonly) return;
  const open = `SELECT status, ${OWNER_COLUMNS} FROM runs WHERE status IN ('queued', 'running', 'paused') AND trainer_pid IS NOT NULL`;
  const candidates = (id === undefined ? db.prepare(open).all() : db.prepare(`${open} AND id = ?`).all(id)) as OwnerRow[];
  for (const candidate of candidates) {
    if (!ownerIsGone(ownerOf(candidate))) continue;
    try {
      db.transaction(() => {
        const row = db.prepare(`${open} AND id = ?`).get(candidate.id) as OwnerRow | undefined;
        if (!row || !ownerIsGone(ownerOf(row))) return;
        const last = db.prepare('SELECT MAX(epoch) FROM epochs WHERE run_id = ?').pluck().get(row.id) as number | null;
        const reason = `the trainer stopped without finishing (killed or crashed); resume to continue from epoch ${(last ?? -1) + 2}`;
        const now = new Date().toISOString();
        db.prepare(`UPDATE runs SET status = 'failed', reason = ?, updated_at = ?, finished_at = ? WHERE id = ?`).run(reason, now, now, row.id);
        // the reason goes when the run trains again; the note keeps what happened (train/run-notes.ts reads it)
        db.prepare(`INSERT INTO run_notes (run_id, at, kind, message) VALUES (?, ?, 'warning', ?)`).run(
          row.id,
          now,
          `${reason} (it was ${row.status}; trainer pid ${row.trainer_pid}${row.app_pid === null ? '' : `, app pid ${row.app_pid}`} on ${row.trainer_host})`,
        );
      }).immediate();
    } catch (err) {
      // busy or read-only: the run reads as stored, and the next reader closes it
      const code = (err as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_READONLY')) throw err;
    }
  }
}

// ---------- rows ----------

interface RunRow {
  id: number;
  created_at: string;
  updated_at: string;
  status: RunStatus;
  reason: string | null;
  config: string;
  backend: string | null;
  variant: string;
  resolution: number;
  classes: string;
  class_ids: string | null;
  best_epoch: number | null;
  best_val_loss: number | null;
  checkpoint_dir: string | null;
  finished_at: string | null;
  val_counts: string | null;
  epoch_count: number;
}

interface EpochRow {
  epoch: number;
  train_loss: number | null;
  train_acc: number | null;
  val_loss: number | null;
  val_acc: number | null;
  images_per_second: number;
  seconds: number;
  lr: number;
  batch: number;
  at: string;
}

const EPOCH_COLUMNS = 'epoch, train_loss, train_acc, val_loss, val_acc, images_per_second, seconds, lr, batch, at';
const RUN_COLUMNS = `r.id, r.created_at, r.updated_at, r.status, r.reason, r.config, r.backend, r.variant, r.resolution, r.classes, r.class_ids,
  r.best_epoch, r.best_val_loss, r.checkpoint_dir, r.finished_at, r.val_counts, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id) AS epoch_count`;

/** The ids of the classes named so now (null for a name no class has). */
function classIdsOf(db: Database, names: readonly string[]): (number | null)[] {
  const byName = new Map((db.prepare('SELECT id, name FROM classes').all() as { id: number; name: string }[]).map((c) => [c.name, c.id]));
  return names.map((name) => byName.get(name) ?? null);
}

/**
 * A run's classes by their current names: a class renamed since the run keeps its place under its
 * new name. A class deleted or merged away keeps the name it had, marked when a current class of
 * the run now has that name (names of a run stay unique).
 */
function currentClassNames(db: Database, row: RunRow): string[] {
  const stored = parseJson(row.classes, `classes of run ${row.id}`) as string[];
  const ids = row.class_ids ? (parseJson(row.class_ids, `class ids of run ${row.id}`) as (number | null)[]) : [];
  if (ids.length !== stored.length) return stored;
  const names = new Map((db.prepare('SELECT id, name FROM classes').all() as { id: number; name: string }[]).map((c) => [c.id, c.name]));
  const current = ids.map((id) => (id === null ? undefined : names.get(id)));
  const taken = new Set(current.filter((n): n is string => n !== undefined));
  return stored.map((name, i) => current[i] ?? (taken.has(name) ? `${name} (removed class)` : name));
}

function toRun(db: Database, row: RunRow): RunRecord {
  const lastEpoch = row.epoch_count > 0 ? toEpoch(db.prepare(`SELECT ${EPOCH_COLUMNS} FROM epochs WHERE run_id = ? ORDER BY epoch DESC LIMIT 1`).get(row.id) as EpochRow) : null;
  const kept =
    row.best_epoch === null || row.best_epoch === lastEpoch?.epoch
      ? lastEpoch
      : toEpoch(db.prepare(`SELECT ${EPOCH_COLUMNS} FROM epochs WHERE run_id = ? AND epoch = ?`).get(row.id, row.best_epoch) as EpochRow);
  const classes = currentClassNames(db, row);
  return {
    id: row.id,
    createdAt: row.created_at,
    status: row.status,
    reason: row.reason,
    config: parseJson(row.config, `configuration of run ${row.id}`) as Record<string, unknown>,
    backend: row.backend,
    variant: row.variant,
    resolution: row.resolution,
    classes,
    bestEpoch: row.best_epoch,
    bestValLoss: row.best_val_loss,
    checkpointDir: row.checkpoint_dir,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    epochCount: row.epoch_count,
    lastEpoch,
    baseline: baselineOf(kept?.valAcc ?? null, classes, parseValCounts(row)),
  };
}

/** Accuracies this close count as equal: 0.3333 of 3 classes is chance, not above it. */
const ACCURACY_TOLERANCE = 1e-9;

/** The kept model's validation accuracy against chance and against always answering the largest validation class. */
export function baselineOf(valAcc: number | null, classes: readonly string[], valCounts: readonly number[] | null): RunBaseline | null {
  if (valAcc === null || classes.length === 0) return null;
  const chance = 1 / classes.length;
  const total = valCounts?.reduce((a, b) => a + b, 0) ?? 0;
  const largest = valCounts && total > 0 ? valCounts.indexOf(Math.max(...valCounts)) : -1;
  const majority = largest >= 0 ? valCounts![largest] / total : null;
  const majorityClass = largest >= 0 ? classes[largest] : null;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  let warning: string | null = null;
  if (valAcc <= chance + ACCURACY_TOLERANCE) {
    warning = `validation accuracy ${pct(valAcc)} is not above chance (${pct(chance)} with ${classes.length} classes): the model has not learned to tell the classes apart`;
  } else if (majority !== null && valAcc <= majority + ACCURACY_TOLERANCE) {
    warning = `validation accuracy ${pct(valAcc)} is not above always answering "${majorityClass}" (${pct(majority)} of the validation images): the model has not learned to tell the classes apart`;
  }
  return { valAcc, chance, majority, majorityClass, aboveBaseline: warning === null, warning };
}

/** The stored validation counts, when they fit the run's classes. */
function parseValCounts(row: RunRow): number[] | null {
  if (row.val_counts === null) return null;
  const counts = parseJson(row.val_counts, `validation counts of run ${row.id}`);
  const classes = (parseJson(row.classes, `classes of run ${row.id}`) as unknown[]).length;
  return Array.isArray(counts) && counts.length === classes && counts.every((n) => typeof n === 'number') ? (counts as number[]) : null;
}

function toEpoch(row: EpochRow): EpochRecord {
  return {
    epoch: row.epoch,
    trainLoss: row.train_loss,
    trainAcc: row.train_acc,
    valLoss: row.val_loss,
    valAcc: row.val_acc,
    imagesPerSecond: row.images_per_second,
    seconds: row.seconds,
    lr: row.lr,
    batch: row.batch,
    at: row.at,
  };
}

function statusOf(db: Database, id: number): RunStatus {
  const row = db.prepare('SELECT status FROM runs WHERE id = ?').get(id) as { status: RunStatus } | undefined;
  if (!row) throw new ApiError('not_found', `there is no training run ${id} in this project`);
  return row.status;
}

/** Recompute the best epoch from the history; returns it (null when no epoch has a validation loss). */
function updateBest(db: Database, runId: number): number | null {
  const best = db.prepare('SELECT epoch, val_loss FROM epochs WHERE run_id = ? AND val_loss IS NOT NULL ORDER BY val_loss, epoch LIMIT 1').get(runId) as
    | { epoch: number; val_loss: number }
    | undefined;
  db.prepare('UPDATE runs SET best_epoch = ?, best_val_loss = ?, updated_at = ? WHERE id = ?').run(best?.epoch ?? null, best?.val_loss ?? null, new Date().toISOString(), runId);
  return best?.epoch ?? null;
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('internal', `the stored ${what} is not valid JSON`);
  }
}
