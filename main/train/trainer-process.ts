/**
 * Entry of the trainer process: one process per run, started by TrainerProcess (trainer-client.ts)
 * through the service's process launcher (process-launcher.ts): child_process.fork under Node
 * (`node --import tsx`), Electron's utilityProcess under Electron (the entry built into
 * out/electron/trainer.js). Either way it talks through worker-channel.ts.
 *
 * The process opens the project itself (its own SQLite connection, WAL, so the app's reads never
 * wait), selects the backend, runs the training loop (train-run.ts) and reports over IPC with the
 * messages of main/contract/calls-train.ts. It never lets an error escape without a record: any failure
 * marks the run failed with the reason, tells the service, and exits.
 * If the app that started it goes away (the IPC channel closes), the run is cancelled at the next
 * step, keeping its last checkpoint. It records itself and that app as the run's owners, with a
 * heartbeat (project/run-owner.ts), so a run whose trainer and app were killed together reads as
 * failed and resumable instead of running for ever.
 */
import path from 'node:path';
import fs from 'node:fs';
import { ApiError } from '../contract/contract';
import { errorCodeOfFailure } from '../project/storage-errors';
import { TrainerCommand, TrainConfig, type TrainerMessage } from '../contract/calls-train';
import { selectBackend } from '../backend/select-backend';
import { openDatabase, type Database } from '../project/database';
import { claimRun, getRun, heartbeatRun, updateRunStatus } from '../project/runs';
import { HEARTBEAT_MS } from '../project/run-owner';
import { RunControl } from './control';
import { FaultPlan, memoryOverride } from './memory';
import { TRAINER_PID_FILE } from '../project/run-folders';
import { trainRun } from './train-run';
import { workerChannel } from '../workers/worker-channel';

const channel = {
  send: (message: TrainerMessage) => workerChannel.send(message),
  onCommand: (listener: (command: unknown) => void) => workerChannel.onMessage(listener),
};

const control = new RunControl();
let db: Database | null = null;
let runId: number | null = null;
let pidFile: string | null = null;
let started = false;
/** the loop has said 'started' (the run trains): a later failure is not a failure to start */
let reportedStart = false;
let heartbeat: NodeJS.Timeout | null = null;

// Ctrl-C in a terminal reaches the whole process group: the CLI decides what it means (cancel).
process.on('SIGINT', () => undefined);
process.on('disconnect', () => {
  control.cancel('cancelled: the app that started the training closed');
  if (!started) process.exit(0);
});
process.on('uncaughtException', (err) => void fail(err, 'uncaught'));
process.on('unhandledRejection', (err) => void fail(err, 'unhandled'));

channel.onCommand((raw) => {
  const parsed = TrainerCommand.safeParse(raw);
  if (!parsed.success) return;
  const command = parsed.data;
  switch (command.type) {
    case 'start':
      if (!started) {
        started = true;
        void run(command).catch((err) => fail(err, 'run'));
      }
      break;
    case 'pause':
      control.pause();
      break;
    case 'resume':
      control.resume();
      break;
    case 'cancel':
      control.cancel(command.reason);
      break;
  }
});

async function run(command: Extract<TrainerCommand, { type: 'start' }>): Promise<void> {
  runId = command.runId;
  db = openDatabase(command.project, { create: false });
  const run = getRun(db, command.runId);
  const config = TrainConfig.parse(run.config);
  const root = run.checkpointDir ?? path.join(`${path.resolve(command.project)}.d`, 'runs', String(command.runId));
  fs.mkdirSync(root, { recursive: true });
  pidFile = path.join(root, TRAINER_PID_FILE);
  fs.writeFileSync(pidFile, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
  claimRun(db, command.runId);
  heartbeat = setInterval(() => {
    try {
      if (db && !heartbeatRun(db, command.runId) && heartbeat) clearInterval(heartbeat);
    } catch {
      // the project is busy for a moment: the next beat will do
    }
  }, HEARTBEAT_MS).unref();

  let backend;
  try {
    // decoding threads: sharp's pool feeds the data pipeline (see data/pipeline.ts)
    backend = (await selectBackend({ force: command.backend ?? config.backend ?? undefined, purpose: 'train' })).active;
  } catch (err) {
    return fail(err, 'backend');
  }
  const faults = new FaultPlan(process.env.EFFITUNE_TRAIN_FAULT);
  const result = await trainRun({
    db,
    runId: command.runId,
    checkpointRoot: root,
    backend,
    resume: command.resume,
    control,
    faults,
    memoryBytes: memoryOverride(),
    stopAfterEpochs: command.stopAfterEpochs,
    reporter: {
      started: (info) => {
        reportedStart = true;
        void channel.send({ type: 'started', info });
      },
      progress: (progress) => void channel.send({ type: 'progress', progress: { ...progress, project: command.project, runId: command.runId } }),
      epoch: (record, isBest, epochs) => void channel.send({ type: 'epoch', record, isBest, epochs }),
      status: (status, reason) => void channel.send({ type: 'status', status, reason }),
      note: (note) => void channel.send({ type: 'note', note }),
    },
  });
  if (result.status === 'failed') await channel.send({ type: 'failed', message: result.reason, code: result.failureCode ?? 'internal', beforeStart: !reportedStart });
  // maxRSS is in kibibytes: the peak of this whole process (model, batches, backend buffers on CPU)
  else await channel.send({ type: 'done', status: result.status, reason: result.reason, peakMemoryBytes: process.resourceUsage().maxRSS * 1024 });
  finish(0);
}

async function fail(err: unknown, where: string): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  // a full or failing disk is io_error, like everywhere else (CLI exit 4), not a crash
  const code = errorCodeOfFailure(err);
  const reason = err instanceof ApiError ? message : `the trainer failed (${where}): ${message}`;
  if (db && runId !== null) {
    try {
      updateRunStatus(db, runId, 'failed', { reason });
    } catch {
      // already final: keep that record
    }
  }
  await channel.send({ type: 'failed', message: reason, code, beforeStart: !reportedStart });
  finish(1);
}

function finish(code: number): void {
  if (heartbeat) clearInterval(heartbeat);
  if (pidFile) fs.rmSync(pidFile, { force: true });
  db?.close();
  process.exit(code);
}
