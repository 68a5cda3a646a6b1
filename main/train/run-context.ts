/**
 * The caller's side of a training run (trainRun, train-run.ts): what it is given — the project, the
 * run, the backend, the pause/cancel control and where to report — and what it gives back. The
 * trainer process fills the context from its IPC channel; tests fill it in-process.
 */
import type { ErrorCode } from '../contract/contract';
import type { EpochRecord, FinalRunStatus, RunStatus } from '../contract/calls-data';
import type { TrainNote, TrainProgress, TrainStarted } from '../contract/calls-train';
import type { ActiveBackend } from '../backend/tfjs-backend';
import type { Database } from '../project/database';
import type { RunControl } from './control';
import type { FaultPlan } from './memory';

export interface RunReporter {
  started(info: Omit<TrainStarted, 'run'>): void;
  progress(progress: Omit<TrainProgress, 'project' | 'runId'>): void;
  epoch(record: EpochRecord, isBest: boolean, epochs: number): void;
  status(status: RunStatus, reason: string | null): void;
  note(note: TrainNote): void;
}

export interface RunContext {
  db: Database;
  runId: number;
  /** the run's side folder, <project>.d/runs/<id> */
  checkpointRoot: string;
  backend: ActiveBackend;
  /** continue from the last checkpoint (train.resume of a stopped run) */
  resume: boolean;
  control: RunControl;
  reporter: RunReporter;
  faults?: FaultPlan;
  /** replaces the backend's memory size when choosing the batch (EFFITUNE_TRAIN_MEMORY_BYTES) */
  memoryBytes?: number | null;
  /** end the run as cancelled once this many epochs are finished (scaling lab's successive halving) */
  stopAfterEpochs?: number;
}

export interface RunResult {
  status: FinalRunStatus;
  reason: string;
  /** whether the run got as far as training (false: it failed while setting up) */
  started: boolean;
  modelDir: string | null;
  /** head mode: features computed now and taken from the cache */
  features: { computed: number; cached: number } | null;
  /** a failed run: the ApiError code of what failed it (io_error: the disk is full or failing) */
  failureCode?: ErrorCode;
}
