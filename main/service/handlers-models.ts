/**
 * Service handlers of the model calls (main/contract/calls-models.ts). Thin: the work is in
 * main/model/manager. Modules that load TensorFlow.js are imported on first use, so calls of
 * other areas (and CLI commands without models) start without it.
 */
import { ApiError, type CallArgs, type CallOutput } from '../contract/contract';
import type { modelCalls } from '../contract/calls-models';
import type { Service } from './service';
import { catalogueWithStatus } from '../model/manager/catalogue';

type ModelCallName = keyof typeof modelCalls;
type ModelHandlers = { [N in ModelCallName]: (args: CallArgs<N>) => Promise<CallOutput<N>> | CallOutput<N> };

export function modelHandlers(service: Service): ModelHandlers {
  const store = service.weights;
  return {
    'models.list': async ({ batch }) => (await import('../model/manager/figures')).listVariantFigures(batch, store),
    'models.describe': async (args) => (await import('../model/manager/figures')).describeOneVariant(args, store),
    'models.predict': async (args) => (await import('../eval/predict-model-folder')).predictWithModelFolder(args),
    'weights.list': () => {
      const weights = store.list();
      return { dir: store.dir, weights, catalogue: catalogueWithStatus(store.catalogue, weights) };
    },
    'weights.download': (args) => runDownload(service, args),
    'weights.cancel': ({ jobId }) => {
      const controller = service.downloads.get(jobId);
      controller?.abort();
      return { cancelled: Boolean(controller) };
    },
    'weights.importFile': ({ file, variant, timmModel }) => store.importFile(file, { variant, timmModel }),
    'weights.convert': async (args) => (await import('../export/convert-weights')).convertWeightsToModelFolder(args),
  };
}

async function runDownload(service: Service, args: CallArgs<'weights.download'>): Promise<CallOutput<'weights.download'>> {
  const jobId = args.jobId ?? `download-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  if (service.downloads.has(jobId)) throw new ApiError('busy', `a download with job id "${jobId}" is already running`);
  const controller = new AbortController();
  service.downloads.set(jobId, controller);
  try {
    return await service.weights.download(args.variant, args.includeTop, {
      signal: controller.signal,
      onProgress: ({ file, ...p }) => service.emit('weights.progress', { jobId, variant: file.variant, includeTop: file.includeTop, fileName: file.fileName, url: file.url, ...p }),
    });
  } finally {
    service.downloads.delete(jobId);
  }
}
