/**
 * Service handlers of the training calls (main/contract/calls-train.ts). Thin: the runs this service
 * trains are kept by a TrainingManager (main/train/training-manager.ts), one per service, which
 * starts a trainer process per run and turns its messages into train.* events. Closing the service
 * cancels its runs (each keeps its last finished epoch's checkpoint). train.estimate has an Estimator
 * per service (main/train/estimate.ts), which measures in a worker process and keeps what it measured.
 */
import type { CallArgs, CallOutput } from '../contract/contract';
import type { trainCalls } from '../contract/calls-train';
import type { Service } from './service';
import { TrainingManager } from '../train/training-manager';
import { Estimator } from '../train/estimate';
import { getRun } from '../project/runs';
import { runNotes } from '../train/run-notes';

type TrainCallName = keyof typeof trainCalls;
type TrainHandlers = { [N in TrainCallName]: (args: CallArgs<N>) => Promise<CallOutput<N>> | CallOutput<N> };

const managers = new WeakMap<Service, TrainingManager>();
const estimators = new WeakMap<Service, Estimator>();

/** The service's estimator (made on first use); its measurements last as long as the service. */
function estimator(service: Service): Estimator {
  let found = estimators.get(service);
  if (!found) {
    const created = new Estimator({ projects: service.projects });
    estimators.set(service, created);
    service.events.once('close', () => created.close());
    found = created;
  }
  return found;
}

/** The service's training manager (made on first use). */
export function trainingManager(service: Service): TrainingManager {
  let manager = managers.get(service);
  if (!manager) {
    manager = new TrainingManager({ projects: service.projects, emit: (event, payload) => service.emit(event, payload) });
    managers.set(service, manager);
    service.events.once('close', () => void manager!.shutdown());
  }
  return manager;
}

export function trainHandlers(service: Service): TrainHandlers {
  const manager = () => trainingManager(service);
  return {
    'train.start': ({ project, ...options }) => manager().start(project, options),
    'train.estimate': ({ project, ...options }) => estimator(service).estimate(project, options),
    'train.pause': async ({ project, runId }) => ({ run: await manager().pause(project, runId) }),
    'train.resume': ({ project, runId, backend }) => manager().resume(project, runId, backend),
    'train.cancel': async ({ project, runId }) => ({ run: await manager().cancel(project, runId) }),
    'train.wait': ({ project, runId, timeoutSeconds }) => manager().wait(project, runId, timeoutSeconds),
    'train.active': () => ({ runs: manager().active() }),
    'train.notes': ({ project, runId }) => {
      const { db } = service.projects.get(project);
      getRun(db, runId);
      return { notes: runNotes(db, runId) };
    },
  };
}
