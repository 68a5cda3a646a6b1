/**
 * One training run from its stored configuration to its end: set it up (run-setup.ts: model,
 * mode, resume, batch, optimizer), train epoch by epoch (epoch-loop.ts) on what the mode trains
 * on — augmented image batches in top and full mode (image-training.ts), cached backbone features
 * in head mode (head-training.ts) — and keep the best epoch's model. A cancel or a failure at any
 * point ends the run with that status and its reason, keeping the last checkpoint.
 *
 * Runs in the trainer process (trainer-process.ts) and, for tests, in any process with a backend
 * started. Everything it writes goes to the project's database (run status, epochs, notes) and the
 * run's side folder (checkpoints); everything it says goes through the RunReporter.
 */
import { ApiError } from '../contract/contract';
import { TrainConfig } from '../contract/calls-train';
import { getRun, runHistory } from '../project/runs';
import { errorCodeOfFailure, fileSystemError } from '../project/storage-errors';
import { finalizeModel } from './checkpoint';
import { RunCancelled } from './control';
import { runEpochs, type TrainingData } from './epoch-loop';
import { embedLabeledImages, headTraining } from './head-training';
import { imageTraining } from './image-training';
import { isOutOfMemory } from './memory';
import type { RunContext, RunResult } from './run-context';
import { RunProgress } from './run-progress';
import { RunReporting } from './run-reporting';
import { disposeRunSetup, setUpRun, type RunSetup } from './run-setup';
import { TrainingSession } from './training-session';

export type { RunContext, RunReporter, RunResult } from './run-context';

export async function trainRun(ctx: RunContext): Promise<RunResult> {
  // the run's classes by their current names (a class renamed since the run began keeps its output)
  const run = getRun(ctx.db, ctx.runId);
  const config: TrainConfig = { ...TrainConfig.parse(run.config), classes: run.classes };
  const reporting = new RunReporting(ctx);
  const progress = new RunProgress(ctx.reporter, config);
  let setup: RunSetup | null = null;
  let data: TrainingData | null = null;
  let features: RunResult['features'] = null;
  try {
    setup = await setUpRun(ctx, config, reporting, progress);
    const session = new TrainingSession(ctx, config, setup, reporting, progress);
    if (config.mode === 'head') {
      const embedded = await embedLabeledImages(session);
      features = { computed: embedded.computed, cached: embedded.cached };
      data = headTraining(session, embedded);
    } else {
      data = await imageTraining(session);
    }
    const stop = await runEpochs(session, data, setup.startEpoch);
    // a resumed run may have used up its patience before it stopped
    const stoppedBefore = setup.startEpoch > 0 && session.patienceUsedUp() ? `stopped early: the validation loss had not improved for ${config.patience} epochs` : null;
    return finish(session, stop ?? stoppedBefore, features);
  } catch (err) {
    const started = setup !== null;
    if (err instanceof RunCancelled) {
      reporting.status('cancelled', err.reason);
      return { status: 'cancelled', reason: err.reason, started, modelDir: null, features };
    }
    const reason = failureReason(err);
    reporting.status('failed', reason);
    return { status: 'failed', reason, started, modelDir: null, features, failureCode: errorCodeOfFailure(err) };
  } finally {
    data?.dispose?.();
    if (setup) disposeRunSetup(setup);
  }
}

/** Keep the best epoch's model (the last epoch's without a validation split) and mark the run completed. */
function finish(session: TrainingSession, stoppedEarly: string | null, features: RunResult['features']): RunResult {
  const { ctx, config, counters } = session;
  const history = runHistory(ctx.db, ctx.runId);
  const last = history.at(-1);
  if (!last) throw new ApiError('internal', 'the run ended without a finished epoch');
  const keep = counters.best?.epoch ?? last.epoch;
  const modelDir = finalizeModel(ctx.checkpointRoot, keep);
  const kept = history.find((e) => e.epoch === keep)!;
  const which = counters.best ? `the model of epoch ${keep + 1}, the best validation loss (${kept.valLoss?.toFixed(4)}, accuracy ${formatPercent(kept.valAcc)})` : `the model of the last epoch (no validation split to choose by)`;
  const reason = `${stoppedEarly ?? `completed ${config.epochs} epoch${config.epochs === 1 ? '' : 's'}`}; kept ${which}`;
  session.reporting.status('completed', reason);
  return { status: 'completed', reason, started: true, modelDir, features };
}

function failureReason(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (isOutOfMemory(err)) return `out of memory even with batch 1: ${(err as Error).message}`;
  const disk = fileSystemError(err, 'go on training');
  if (disk) return disk.message;
  const message = err instanceof Error ? err.message : String(err);
  return `the trainer failed: ${message}`;
}

function formatPercent(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`;
}
