/**
 * Service handlers of the model calls (main/contract/calls-models.ts). Thin: the work is in
 * main/model/manager. Modules that load TensorFlow.js are imported on first use, so calls of
 * other areas (and CLI commands without models) start without it. A download is a job of the
 * service's job registry (./jobs.ts): its id can cancel it and names its weights.progress events.
 */
import type { modelCalls } from '../contract/calls-models';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { catalogueWithStatus } from '../model/manager/catalogue';

export function modelHandlers(service: Service): HandlersOf<typeof modelCalls> {
  const store = service.weights;
  return {
    'models.list': async ({ batch }) => (await import('../model/manager/figures')).listVariantFigures(batch, store),
    'models.describe': async (args) => (await import('../model/manager/figures')).describeOneVariant(args, store),
    'models.predict': async (args) => (await import('../eval/predict-model-folder')).predictWithModelFolder(args),
    'weights.list': () => {
      const weights = store.list();
      return { dir: store.dir, weights, catalogue: catalogueWithStatus(store.catalogue, weights) };
    },
    'weights.download': ({ variant, includeTop, jobId }) =>
      service.jobs.run('download', jobId, (job) =>
        store.download(variant, includeTop, {
          signal: job.signal,
          onProgress: ({ file, ...p }) => job.progress({ jobId: job.id, variant: file.variant, includeTop: file.includeTop, fileName: file.fileName, url: file.url, ...p }),
        }),
      ),
    'weights.cancel': ({ jobId }) => ({ cancelled: service.jobs.cancel('download', jobId) }),
    'weights.importFile': ({ file, variant, timmModel }) => store.importFile(file, { variant, timmModel }),
    'weights.convert': async (args) => (await import('../export/convert-weights')).convertWeightsToModelFolder(args),
  };
}
