/**
 * Service handlers of the app and project calls (main/contract/calls-project.ts). Thin: projects
 * are opened, created and kept by the service's ProjectRegistry (main/project/registry.ts).
 */
import os from 'node:os';
import path from 'node:path';
import type { projectCalls } from '../contract/calls-project';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { projectStatus } from '../project/queries';
import { listDirectory } from '../dataset/list-directory';

export function projectHandlers(service: Service): HandlersOf<typeof projectCalls> {
  const { projects } = service;
  return {
    'app.info': () => ({ version: service.options.version ?? '0.0.0', dataDir: service.dataDir, platform: process.platform, mode: service.options.mode }),
    'project.create': ({ path: file, name }) => projects.create(file, name),
    'project.open': ({ path: file }) => projects.open(file),
    'project.recent': () => ({ projects: projects.recent() }),
    'project.rename': ({ project, name }) => projects.rename(project, name),
    'project.close': ({ project }) => {
      // the predictor's ONNX sessions and loaded model of this project go with it
      service.predictor.releaseUnder(`${path.resolve(project)}.d`);
      return { closed: projects.close(project) };
    },
    'project.status': ({ project }) => projectStatus(projects.get(project)),
    'fs.list': ({ path: dir }) => listDirectory(dir ?? os.homedir()),
  };
}
