/**
 * Service handlers of browsing images (main/contract/calls-images.ts). Thin: the queries are in
 * main/project/queries.ts. The pixels behind the doors' media URLs come from Service.thumbnail and
 * Service.fullImage, outside the contract.
 */
import type { imageCalls } from '../contract/calls-images';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { getImageDetail, listImages } from '../project/queries';

export function imageHandlers(service: Service): HandlersOf<typeof imageCalls> {
  const db = (project: string) => service.projects.get(project).db;
  return {
    'images.list': ({ project, filter, offset, limit }) => listImages(db(project), filter, offset, limit),
    'images.get': ({ project, id }) => getImageDetail(db(project), id),
  };
}
