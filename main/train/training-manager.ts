/**
 * The runs this app is training: one trainer process each. Lives in the service process; the
 * train.* handlers are thin calls into it. It starts runs (after checking data and configuration,
 * so nothing spawns for a bad request), forwards the trainers' messages as service events,
 * pauses/resumes/cancels them, and when a trainer dies without saying goodbye (crash, SIGKILL,
 * out-of-memory abort) records the run as failed with how the process ended. The service itself
 * only ever reads and writes small records here, so its calls stay fast while a run trains.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type EventName, type EventPayload } from '../contract/contract';
import { FinalRunStatus, isFinalRunStatus, type RunRecord, type RunStatus } from '../contract/calls-data';
import type { ActiveRun, TrainerMessage, TrainOutcome, TrainProgress, TrainStarted } from '../contract/calls-train';
import type { BackendName } from '../contract/calls-backend';
import type { ProjectHandle, ProjectRegistry } from '../project/registry';
import { getRun, runHistory, runOwner, updateRunStatus } from '../project/runs';
import type { ParsedTrainOptions } from './config';
import { FINAL_MODEL_DIR, runFolderName, TRAINER_PID_FILE } from '../project/run-folders';
import { createTrainingRun } from './new-run';
import { addRunNote, runNotes } from './run-notes';
import { describeExit, type ProcessExit as TrainerExit } from '../workers/process-exit';
import { TrainerProcess } from './trainer-client';

export interface TrainingManagerOptions {
  projects: ProjectRegistry;
  emit: <E extends EventName>(event: E, payload: EventPayload<E>) => void;
  /** extra environment of the trainer processes (tests) */
  env?: Record<string, string>;
  /** how long a cancel waits for the trainer to stop by itself before killing it; default 60 s */
  cancelGraceMs?: number;
}

interface LiveRun {
  project: string;
  runId: number;
  process: TrainerProcess;
  status: RunStatus;
  progress: TrainProgress | null;
  /** what the trainer said when it started */
  info: Omit<TrainStarted, 'run'> | null;
  /** set by cancel: a trainer killed after the grace period is then recorded as cancelled, not crashed */
  cancelReason: string | null;
  /** resolves when the trainer process has exited and the run's end is recorded */
  ended: Promise<void>;
}

/** How a run is launched beyond its stored configuration. */
export interface LaunchOptions {
  /** end the run as cancelled after this many finished epochs (resume continues it) */
  stopAfterEpochs?: number;
}

export class TrainingManager {
  private readonly live = new Map<string, LiveRun>();
  /** what each run's trainer said failed it (io_error: a full disk), for train.wait's answer */
  private readonly failureCodes = new Map<string, string>();
  /** the trainer's peak resident memory of each run trained here, for train.wait's answer */
  private readonly peakMemory = new Map<string, number>();

  constructor(private readonly options: TrainingManagerOptions) {}

  /** Check, record and start a new run; resolves once it trains. */
  async start(project: string, options: ParsedTrainOptions, launch: LaunchOptions = {}): Promise<TrainStarted> {
    const handle = this.options.projects.get(project);
    const { run, warnings } = createTrainingRun(handle, options);
    const started = await this.launch(handle, run.id, false, null, launch);
    return { ...started, warnings: [...new Set([...warnings, ...started.warnings])] };
  }

  /** Unpause a live run, or continue a stopped one from its last checkpoint. */
  async resume(project: string, runId: number, backend: BackendName | undefined, launch: LaunchOptions = {}): Promise<TrainStarted> {
    const handle = this.options.projects.get(project);
    const live = this.live.get(key(handle.path, runId));
    if (live) {
      if (live.status !== 'paused') throw new ApiError('busy', `run ${runId} is ${live.status}, not paused: nothing to resume`);
      const changed = this.waitForStatus(live, ['running', ...FinalRunStatus.options]);
      live.process.resume();
      await changed;
      return { run: getRun(handle.db, runId), ...live.info!, batch: live.progress?.batch ?? live.info!.batch, notes: ['resumed after a pause'], warnings: [] };
    }
    const run = getRun(handle.db, runId);
    if (run.status === 'completed') throw new ApiError('invalid_input', `run ${runId} completed: there is nothing to resume (start a new run to train more)`);
    if (!isFinalRunStatus(run.status)) this.takeOverStale(handle, run);
    return this.launch(handle, runId, true, backend ?? null, launch);
  }

  async pause(project: string, runId: number): Promise<RunRecord> {
    const { handle, live } = this.requireLive(project, runId, 'pause');
    if (live.status === 'paused') return getRun(handle.db, runId);
    const changed = this.waitForStatus(live, ['paused', ...FinalRunStatus.options]);
    live.process.pause();
    await changed;
    return getRun(handle.db, runId);
  }

  /** Stop a run after its current step; a stale record (no live trainer) is marked cancelled at once. */
  async cancel(project: string, runId: number, reason = 'cancelled by the user'): Promise<RunRecord> {
    const handle = this.options.projects.get(project);
    const live = this.live.get(key(handle.path, runId));
    if (!live) {
      const run = getRun(handle.db, runId);
      if (isFinalRunStatus(run.status)) throw new ApiError('invalid_input', `run ${runId} is not training (it ${run.status === 'completed' ? 'completed' : `is ${run.status}`})`);
      this.takeOverStale(handle, run, 'cancelled', reason);
      return getRun(handle.db, runId);
    }
    live.cancelReason = reason;
    live.process.cancel(reason);
    const grace = this.options.cancelGraceMs ?? 60_000;
    const timer = setTimeout(() => {
      live.cancelReason = `${reason} (the trainer did not stop within ${Math.round(grace / 1000)} s and was killed)`;
      live.process.kill('SIGKILL');
    }, grace);
    try {
      await live.ended;
    } finally {
      clearTimeout(timer);
    }
    return getRun(handle.db, runId);
  }

  /** Wait for a run to end; a run that is not live is answered from its record at once. */
  async wait(project: string, runId: number, timeoutSeconds?: number): Promise<TrainOutcome> {
    const handle = this.options.projects.get(project);
    const live = this.live.get(key(handle.path, runId));
    if (live) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        if (timeoutSeconds !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000);
      });
      const result = await Promise.race([live.ended.then(() => 'ended' as const), timeout]);
      clearTimeout(timer);
      if (result === 'timeout') throw new ApiError('busy', `run ${runId} is still training after ${timeoutSeconds} s`);
    }
    const outcome = outcomeOf(handle, runId);
    const peak = this.peakMemory.get(key(handle.path, runId));
    if (peak !== undefined) outcome.peakMemoryBytes = peak;
    const failureCode = outcome.run.status === 'failed' ? this.failureCodes.get(key(handle.path, runId)) : undefined;
    return failureCode ? { ...outcome, failureCode } : outcome;
  }

  active(): ActiveRun[] {
    return [...this.live.values()].map((l) => ({ project: l.project, runId: l.runId, status: l.status, pid: l.process.pid, progress: l.progress }));
  }

  /** Cancel every live run (the app is closing); they keep their last checkpoints. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => this.cancel(l.project, l.runId, 'cancelled: the app closed').catch(() => undefined)));
  }

  // ---------- internals ----------

  private async launch(handle: ProjectHandle, runId: number, resume: boolean, backend: BackendName | null, launch: LaunchOptions = {}): Promise<TrainStarted> {
    const k = key(handle.path, runId);
    if (this.live.has(k)) throw new ApiError('busy', `run ${runId} is already training`);
    this.options.projects.sideFolder(handle.path, runFolderName(runId));
    const child = new TrainerProcess({ env: this.options.env });
    let said: 'done' | 'failed' | null = null;
    this.failureCodes.delete(k);
    this.peakMemory.delete(k);
    const live: LiveRun = { project: handle.path, runId, process: child, status: 'queued', progress: null, info: null, cancelReason: null, ended: Promise.resolve() };
    const base = { project: handle.path, runId };
    child.on('message', (message: TrainerMessage) => {
      switch (message.type) {
        case 'progress':
          live.progress = message.progress;
          this.options.emit('train.progress', message.progress);
          break;
        case 'epoch':
          this.options.emit('train.epoch', { ...base, epochs: message.epochs, record: message.record, isBest: message.isBest });
          break;
        case 'status':
          live.status = message.status;
          this.options.emit('train.status', { ...base, status: message.status, reason: message.reason });
          break;
        case 'note':
          this.options.emit('train.note', { ...base, note: message.note });
          break;
        case 'done':
          said = 'done';
          if (message.peakMemoryBytes !== undefined) this.peakMemory.set(k, message.peakMemoryBytes);
          break;
        case 'failed':
          said = 'failed';
          this.failureCodes.set(k, message.code);
          break;
        case 'started':
          live.info = message.info;
          break;
      }
    });
    live.ended = child.exited.then((exit) => {
      this.live.delete(k);
      if (!handle.db.open) return; // the service closed the project meanwhile; the trainer recorded its own end
      const run = said !== null ? getRun(handle.db, runId) : live.cancelReason !== null ? this.record(handle, runId, 'cancelled', live.cancelReason) : this.recordCrash(handle, runId, exit);
      this.options.emit('train.done', { ...base, status: run.status, reason: run.reason });
    });
    this.live.set(k, live);
    try {
      const info = await child.start({ project: handle.path, runId, resume, backend, ...(launch.stopAfterEpochs ? { stopAfterEpochs: launch.stopAfterEpochs } : {}) });
      return { run: getRun(handle.db, runId), ...info };
    } catch (err) {
      await live.ended;
      throw err;
    }
  }

  /** The trainer ended without a last word: record how, unless the run already has a final status. */
  private recordCrash(handle: ProjectHandle, runId: number, exit: TrainerExit): RunRecord {
    const run = getRun(handle.db, runId);
    if (isFinalRunStatus(run.status)) return run;
    return this.record(handle, runId, 'failed', `the trainer process ended unexpectedly (${describeExit(exit)}); the run can be resumed from its last finished epoch`);
  }

  /** End a run that has no final status yet; a final one keeps its record (and gets the reason as a note). */
  private record(handle: ProjectHandle, runId: number, status: RunStatus, reason: string): RunRecord {
    const run = getRun(handle.db, runId);
    if (isFinalRunStatus(run.status)) {
      if (run.status !== status) addRunNote(handle.db, runId, 'warning', reason);
      return run;
    }
    return updateRunStatus(handle.db, runId, status, { reason });
  }

  /**
   * A run recorded as running/paused/queued with no trainer here: if another Effitune process is
   * training it (the trainer or app its row names is alive; for a run from before owners were
   * recorded, its trainer's pid file names a live process), refuse; otherwise the record is stale
   * (the app stopped while it trained) and is closed as failed — or as `status` — so it can go on.
   */
  private takeOverStale(handle: ProjectHandle, run: RunRecord, status: 'failed' | 'cancelled' = 'failed', reason?: string): void {
    const recorded = runOwner(handle.db, run.id);
    if (recorded && !recorded.gone) {
      throw new ApiError('busy', `run ${run.id} is being trained by another Effitune process (trainer pid ${recorded.owner.trainer.pid} on ${recorded.owner.host}); use that app to steer it`);
    }
    const folder = run.checkpointDir ?? this.options.projects.sideFolder(handle.path, runFolderName(run.id));
    const owner = readPid(path.join(folder, TRAINER_PID_FILE));
    if (!recorded && owner !== null && owner !== process.pid && isAlive(owner)) {
      throw new ApiError('busy', `run ${run.id} is being trained by another Effitune process (trainer pid ${owner}); use that app to steer it`);
    }
    updateRunStatus(handle.db, run.id, status, { reason: reason ?? `the trainer process is gone (the app stopped while run ${run.id} was ${run.status})` });
  }

  private requireLive(project: string, runId: number, action: string): { handle: ProjectHandle; live: LiveRun } {
    const handle = this.options.projects.get(project);
    const live = this.live.get(key(handle.path, runId));
    if (!live) {
      const run = getRun(handle.db, runId);
      throw new ApiError('invalid_input', `cannot ${action} run ${runId}: it is not training in this app (it is ${run.status})`);
    }
    return { handle, live };
  }

  /** Resolves when the trainer reports one of these statuses (or ends). */
  private waitForStatus(live: LiveRun, statuses: RunStatus[]): Promise<void> {
    return new Promise((resolve) => {
      const onMessage = (message: TrainerMessage) => {
        if (message.type === 'status' && statuses.includes(message.status)) done();
      };
      const done = () => {
        live.process.off('message', onMessage);
        resolve();
      };
      live.process.on('message', onMessage);
      void live.ended.then(done);
    });
  }
}

/** A run's record, epochs, notes and the metrics of the epoch whose model it keeps. */
export function outcomeOf(handle: ProjectHandle, runId: number): TrainOutcome {
  const run = getRun(handle.db, runId);
  const epochs = runHistory(handle.db, runId);
  const keptEpoch = run.bestEpoch ?? epochs.at(-1)?.epoch ?? null;
  const kept = epochs.find((e) => e.epoch === keptEpoch) ?? null;
  const modelDir = run.status === 'completed' && run.checkpointDir ? path.join(run.checkpointDir, FINAL_MODEL_DIR) : null;
  return {
    run,
    epochs,
    notes: runNotes(handle.db, runId),
    final: kept ? { epoch: kept.epoch, trainLoss: kept.trainLoss, trainAcc: kept.trainAcc, valLoss: kept.valLoss, valAcc: kept.valAcc } : null,
    modelDir: modelDir && fs.existsSync(modelDir) ? modelDir : null,
  };
}

function key(project: string, runId: number): string {
  return `${project}#${runId}`;
}

function readPid(file: string): number | null {
  try {
    const pid = (JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
