/**
 * Service handlers of the data calls (main/contract/calls-data.ts): the split, and the records of
 * training runs. Thin: the work is in main/dataset/split and main/project/runs.
 */
import type { dataCalls } from '../contract/calls-data';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { splitProject, splitSummary } from '../dataset/split';
import { ApiError } from '../contract/contract';
import { deleteRun, getRun, listRuns, runFolderOf, runHistory } from '../project/runs';

export function dataHandlers(service: Service): HandlersOf<typeof dataCalls> {
  return {
    'split.run': ({ project, ...options }) => {
      const handle = service.projects.get(project);
      const result = splitProject(handle, options);
      service.emit('project.changed', { project: handle.path });
      return result;
    },
    'split.get': ({ project }) => splitSummary(service.projects.get(project)),
    'runs.list': ({ project, status, limit }) => ({ runs: listRuns(service.projects.get(project).db, { status, limit }) }),
    'runs.get': ({ project, id }) => {
      const { db } = service.projects.get(project);
      return { run: getRun(db, id), epochs: runHistory(db, id) };
    },
    'runs.delete': ({ project, id }) => {
      const handle = service.projects.get(project);
      // a trainer of this app holds the run (its record may still say cancelled while it winds down)
      if (service.trainings.active().some((r) => r.project === handle.path && r.runId === id)) {
        throw new ApiError('busy', `run ${id} is training in this app: cancel it and wait for it to stop before deleting it`);
      }
      // the predictor may hold the run's model open; it lets go before the files go
      service.predictor.releaseUnder(runFolderOf(handle.path, id));
      const deleted = deleteRun(handle, id);
      service.emit('runs.deleted', { project: handle.path, runId: id });
      return deleted;
    },
  };
}
