/**
 * Service handlers of the PyTorch hand-off (main/contract/calls-handoff.ts). Thin: the work is in
 * main/handoff (export-bundle.ts writes a bundle, import-bundle.ts brings a trained one back).
 */
import type { handoffCalls } from '../contract/calls-handoff';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { exportBundle } from '../handoff/export-bundle';
import { importBundle } from '../handoff/import-bundle';

export function handoffHandlers(service: Service): HandlersOf<typeof handoffCalls> {
  return {
    'handoff.export': (args) =>
      exportBundle(service.projects.get(args.project), args, (p) => service.emit('handoff.progress', { project: args.project, jobId: args.jobId ?? null, ...p })),
    'handoff.import': (args) => importBundle(service.projects.get(args.project), args),
  };
}
