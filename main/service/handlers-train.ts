/**
 * Service handlers of the training calls (main/contract/calls-train.ts). Thin: the runs are kept by
 * the service's TrainingManager (main/train/training-manager.ts), which starts a trainer process
 * per run and turns its messages into train.* events; closing the service cancels its runs (each
 * keeps its last finished epoch's checkpoint). train.estimate goes to the service's Estimator
 * (main/train/estimate.ts), which measures in a worker process and keeps what it measured; it is
 * asked only after the checks of a new run (new-run.ts) pass.
 */
import type { trainCalls } from '../contract/calls-train';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { getRun } from '../project/runs';
import { checkNewRun } from '../train/new-run';
import { runNotes } from '../train/run-notes';

export function trainHandlers(service: Service): HandlersOf<typeof trainCalls> {
  const { trainings, estimator } = service;
  return {
    'train.start': ({ project, ...options }) => trainings.start(project, options),
    // refused exactly as train.start would refuse it (the estimator makes the run's own checks first)
    'train.estimate': ({ project, ...options }) => estimator.estimate(project, options),
    'train.plan': ({ project, ...options }) => {
      const { config, recipe, warnings, trainable } = checkNewRun(service.projects.get(project), options);
      return { config, recipe, warnings: [...trainable.warnings, ...warnings] };
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
