/**
 * Service handlers of the training calls (main/contract/calls-train.ts). Thin: the runs are kept by
 * the service's TrainingManager (main/train/training-manager.ts), which starts a trainer process
 * per run and turns its messages into train.* events; closing the service cancels its runs (each
 * keeps its last finished epoch's checkpoint). train.estimate goes to the service's Estimator
 * (main/train/estimate.ts), which measures in a worker process and keeps what it measured; it is
 * asked only after the checks of a new run (new-run.ts) pass.
 */
import type { BackendName } from '../contract/calls-backend';
import type { TrainConfig, TrainPlan, trainCalls } from '../contract/calls-train';
import { getVariant } from '../model/variants';
import { stepBytes } from '../train/estimate';
import { MAX_AUTO_BATCH } from '../train/memory';
import { stepsEngineFor } from '../train/steps-engine';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { getRun } from '../project/runs';
import { checkNewRun } from '../train/new-run';
import { runNotes } from '../train/run-notes';

/** train.plan's stepMemory: a step of `config` on `backend` at its batch (the default when auto), as the run's batch choice counts it. */
function stepMemoryOf(config: TrainConfig, backend: BackendName | null): TrainPlan['stepMemory'] {
  if (!backend) return null;
  const batch = config.batch ?? MAX_AUTO_BATCH;
  const engine = stepsEngineFor(config, backend);
  return { backend, batch, bytes: stepBytes(config, getVariant(config.model), backend, batch), engine };
}

export function trainHandlers(service: Service): HandlersOf<typeof trainCalls> {
  const { trainings, estimator } = service;
  return {
    'train.start': ({ project, ...options }) => trainings.start(project, options),
    // refused exactly as train.start would refuse it (the estimator makes the run's own checks first)
    'train.estimate': ({ project, ...options }) => estimator.estimate(project, options),
    'train.plan': ({ project, memoryOn, ...options }) => {
      const { config, recipe, warnings, trainable } = checkNewRun(service.projects.get(project), options);
      return { config, recipe, warnings: [...trainable.warnings, ...warnings], stepMemory: stepMemoryOf(config, config.backend ?? memoryOn ?? null) };
    },
    'train.estimateCancel': () => ({ cancelled: estimator.cancel() }),
    'train.pause': async ({ project, runId }) => ({ run: await trainings.pause(project, runId) }),
    'train.resume': ({ project, runId, backend }) => trainings.resume(project, runId, backend),
    'train.cancel': async ({ project, runId }) => ({ run: await trainings.cancel(project, runId) }),
    'train.wait': ({ project, runId, timeoutSeconds }) => trainings.wait(project, runId, timeoutSeconds),
    'train.active': () => ({ runs: trainings.active() }),
    'train.notes': ({ project, runId }) => {
      const { db } = service.projects.get(project);
      getRun(db, runId);
      return { notes: runNotes(db, runId) };
    },
  };
}
