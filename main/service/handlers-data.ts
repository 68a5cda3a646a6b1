/**
 * Service handlers of the data calls (main/contract/calls-data.ts): the split, and the records of
 * training runs. Thin: the work is in main/dataset/split and main/project/runs.
 */
import type { dataCalls } from '../contract/calls-data';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { splitProject, splitSummary } from '../dataset/split';
import { getRun, listRuns, runHistory } from '../project/runs';

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
  };
}
