/**
 * The rows of a search in the project: the search (its plan, status, owner and elapsed time) and
 * its candidates. Each write is one statement or one transaction. A search recorded as running
 * whose driving process is gone (killed, crashed) reads as stopped, resumable.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { ApiError } from '../contract/contract';
import { SearchPlan, type Candidate, type CandidateState, type SearchStatus } from '../contract/calls-scaling';
import type { Database } from '../project/database';
import { ownerIsGone, startMark } from '../project/run-owner';
import { flopsGrowthPerPhi } from '../model/variants';
import type { CandidateSpec } from './grid';

export interface SearchRow {
  id: number;
  createdAt: string;
  updatedAt: string;
  status: SearchStatus;
  reason: string | null;
  plan: SearchPlan;
  splitKey: string;
  elapsedSeconds: number;
  /** a running search whose driving process is gone */
  orphaned: boolean;
}

interface RawSearch {
  id: number;
  created_at: string;
  updated_at: string;
  status: SearchStatus;
  reason: string | null;
  plan: string;
  split_key: string;
  owner_pid: number | null;
  owner_start: string | null;
  owner_host: string | null;
  elapsed_seconds: number;
}

const now = () => new Date().toISOString();

export function createSearch(db: Database, plan: SearchPlan, splitKey: string, candidates: readonly CandidateSpec[]): number {
  return db.transaction(() => {
    const at = now();
    const id = Number(
      db
        .prepare(`INSERT INTO scaling_searches (created_at, updated_at, status, plan, split_key, owner_pid, owner_start, owner_host) VALUES (?, ?, 'running', ?, ?, ?, ?, ?)`)
        .run(at, at, JSON.stringify(plan), splitKey, process.pid, startMark(process.pid), os.hostname()).lastInsertRowid,
    );
    candidates.forEach((c, position) => insertCandidate(db, id, position, c, plan.seed, null));
    return id;
  })();
}

export function insertCandidate(db: Database, searchId: number, position: number, c: Omit<CandidateSpec, 'role'> & { role: Candidate['role'] }, seed: number, repeatOf: number | null): number {
  return Number(
    db
      .prepare(
        `INSERT INTO scaling_candidates (search_id, position, role, alpha, beta, gamma, phi, model, seed, repeat_of, state, flops, params, resolution, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
      )
      .run(searchId, position, c.role, c.alpha, c.beta, c.gamma, c.phi, c.model, seed, repeatOf, c.flops, c.params, c.resolution, now()).lastInsertRowid,
  );
}

export function getSearch(db: Database, id: number): SearchRow {
  const raw = db.prepare('SELECT * FROM scaling_searches WHERE id = ?').get(id) as RawSearch | undefined;
  if (!raw) throw new ApiError('not_found', `search ${id} does not exist in this project (effitune scale list shows the searches)`);
  return toRow(raw);
}

export function listSearches(db: Database): SearchRow[] {
  return (db.prepare('SELECT * FROM scaling_searches ORDER BY id DESC').all() as RawSearch[]).map(toRow);
}

function toRow(raw: RawSearch): SearchRow {
  const orphaned =
    raw.status === 'running' &&
    (raw.owner_pid === null ||
      ownerIsGone({ host: raw.owner_host ?? os.hostname(), trainer: { pid: raw.owner_pid, start: raw.owner_start }, app: null, heartbeatAt: raw.updated_at }));
  return {
    id: raw.id,
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
    status: orphaned ? 'stopped' : raw.status,
    reason: orphaned ? 'interrupted: the process driving it ended (killed or closed); resume continues with its finished candidates' : raw.reason,
    plan: SearchPlan.parse(JSON.parse(raw.plan)),
    splitKey: raw.split_key,
    elapsedSeconds: raw.elapsed_seconds,
    orphaned,
  };
}

/** This process takes over driving the search. */
export function claimSearch(db: Database, id: number, plan?: SearchPlan): void {
  const set = plan ? ', plan = ?' : '';
  const args: unknown[] = [now(), process.pid, startMark(process.pid), os.hostname()];
  if (plan) args.push(JSON.stringify(plan));
  db.prepare(`UPDATE scaling_searches SET status = 'running', reason = NULL, updated_at = ?, owner_pid = ?, owner_start = ?, owner_host = ?${set} WHERE id = ?`).run(...args, id);
}

export function endSearch(db: Database, id: number, status: Exclude<SearchStatus, 'running'>, reason: string): void {
  db.prepare('UPDATE scaling_searches SET status = ?, reason = ?, updated_at = ?, owner_pid = NULL, owner_start = NULL, owner_host = NULL WHERE id = ?').run(status, reason, now(), id);
}

export function addElapsed(db: Database, id: number, seconds: number): void {
  db.prepare('UPDATE scaling_searches SET elapsed_seconds = elapsed_seconds + ?, updated_at = ? WHERE id = ?').run(seconds, now(), id);
}

interface RawCandidate {
  id: number;
  position: number;
  role: Candidate['role'];
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
  model: string;
  seed: number;
  repeat_of: number | null;
  run_id: number | null;
  state: CandidateState;
  epochs_done: number;
  flops: number;
  params: number;
  resolution: number;
  val_acc: number | null;
  val_loss: number | null;
  seconds_per_image: number | null;
  peak_memory_bytes: number | null;
  reason: string | null;
}

export function listCandidates(db: Database, searchId: number): Candidate[] {
  const rows = db.prepare('SELECT * FROM scaling_candidates WHERE search_id = ? ORDER BY position').all(searchId) as RawCandidate[];
  return rows.map((r) => ({
    id: r.id,
    position: r.position,
    role: r.role,
    alpha: r.alpha,
    beta: r.beta,
    gamma: r.gamma,
    constraint: flopsGrowthPerPhi(r.alpha, r.beta, r.gamma),
    phi: r.phi,
    model: r.model,
    seed: r.seed,
    repeatOf: r.repeat_of,
    runId: r.run_id,
    state: r.state,
    epochsDone: r.epochs_done,
    flops: r.flops,
    params: r.params,
    resolution: r.resolution,
    valAcc: r.val_acc,
    valLoss: r.val_loss,
    secondsPerImage: r.seconds_per_image,
    peakMemoryBytes: r.peak_memory_bytes,
    reason: r.reason,
  }));
}

export function getCandidate(db: Database, searchId: number, id: number): Candidate {
  const found = listCandidates(db, searchId).find((c) => c.id === id);
  if (!found) throw new ApiError('not_found', `candidate ${id} is not in search ${searchId}`);
  return found;
}

export interface CandidateUpdate {
  state?: CandidateState;
  runId?: number | null;
  epochsDone?: number;
  valAcc?: number | null;
  valLoss?: number | null;
  secondsPerImage?: number | null;
  peakMemoryBytes?: number | null;
  reason?: string | null;
}

const COLUMNS: Record<keyof CandidateUpdate, string> = {
  state: 'state',
  runId: 'run_id',
  epochsDone: 'epochs_done',
  valAcc: 'val_acc',
  valLoss: 'val_loss',
  secondsPerImage: 'seconds_per_image',
  peakMemoryBytes: 'peak_memory_bytes',
  reason: 'reason',
};

export function updateCandidate(db: Database, id: number, change: CandidateUpdate): void {
  const keys = (Object.keys(change) as (keyof CandidateUpdate)[]).filter((k) => change[k] !== undefined);
  if (keys.length === 0) return;
  const sets = keys.map((k) => `${COLUMNS[k]} = ?`).join(', ');
  db.prepare(`UPDATE scaling_candidates SET ${sets}, updated_at = ? WHERE id = ?`).run(...keys.map((k) => change[k] as unknown), now(), id);
}

/** Which images are in the train and validation splits now: a search resumes only on the same ones. */
export function splitKeyOf(db: Database): string {
  const rows = db
    .prepare(
      `SELECT i.hash, i.split, c.name FROM images i JOIN classes c ON c.id = i.class_id
       WHERE i.status = 'ok' AND i.excluded = 0 AND i.split IN ('train', 'val') ORDER BY i.hash, i.split, c.name`,
    )
    .raw()
    .all() as [string, string, string][];
  const hash = createHash('sha256');
  for (const row of rows) hash.update(`${row.join('\u0000')}\n`);
  return `${rows.length}:${hash.digest('hex').slice(0, 16)}`;
}
