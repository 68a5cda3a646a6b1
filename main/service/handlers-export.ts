/**
 * Service handlers of export and prediction (main/contract/calls-export.ts). Thin: the work is in
 * main/export (export-run.ts writes an export, predict/ runs one on image files).
 */
import type { exportCalls } from '../contract/calls-export';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { exportRun } from '../export/export-run';
import { listExports } from '../export/exports-table';
import { predictFiles } from '../export/predict/predict-files';
import { getRun } from '../project/runs';

export function exportHandlers(service: Service): HandlersOf<typeof exportCalls> {
  return {
    'export.run': (args) => exportRun(service.projects.get(args.project), args, { onProgress: (p) => service.emit('export.progress', p) }),
    'export.list': ({ project, runId }) => {
      const { db } = service.projects.get(project);
      if (runId !== undefined) getRun(db, runId);
      return { exports: listExports(db, runId) };
    },
    'predict.files': (args) => predictFiles(args),
  };
}
