/**
 * Service handlers of the compound-scaling lab (main/contract/calls-scaling.ts). Thin: searches are
 * driven by the service's ScalingLab (main/scaling/search-runner.ts), which trains their candidates
 * through the service's TrainingManager; families and the φ explorer read the project.
 */
import type { scalingCalls } from '../contract/calls-scaling';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { chooseFamily, listFamilies } from '../scaling/families';
import { explore } from '../scaling/explore';

export function scalingHandlers(service: Service): HandlersOf<typeof scalingCalls> {
  const { scaling } = service;
  return {
    'scale.start': ({ project, ...options }) => scaling.start(project, options),
    'scale.resume': ({ project, searchId, budgetMinutes }) => scaling.resume(project, searchId, budgetMinutes),
    'scale.cancel': ({ project, searchId }) => scaling.cancel(project, searchId),
    'scale.get': ({ project, searchId }) => scaling.get(project, searchId),
    'scale.wait': ({ project, searchId, timeoutSeconds }) => scaling.wait(project, searchId, timeoutSeconds),
    'scale.list': ({ project }) => ({ searches: scaling.list(project) }),
    'scale.choose': ({ project, searchId, candidateId, name }) => {
      const handle = service.projects.get(project);
      return { family: chooseFamily(handle.db, handle.path, searchId, candidateId, name) };
    },
    'scale.families': ({ project }) => ({ families: listFamilies(service.projects.get(project).db) }),
    'scale.explore': (args) => explore(args, args.project ? service.projects.get(args.project).db : null),
  };
}
