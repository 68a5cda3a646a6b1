/**
 * Service handlers of evaluation and model-assisted labeling (main/contract/calls-eval.ts). Thin: the
 * work is in main/eval. The tensor work runs in the service's predictor process
 * (eval/predictor-client.ts), so a large model on a CPU backend never holds this process's event
 * loop; this process decodes nothing, it reads and stores predictions and computes the metrics.
 * Two identical eval.run calls at once share one computation (the job registry's `shared`).
 */
import type { evalCalls } from '../contract/calls-eval';
import type { BackendName } from '../contract/calls-backend';
import type { ProviderName } from '../contract/calls-inference';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import { disagreements, suggestions } from '../eval/assist';
import { evaluatedImages } from '../eval/eval-images';
import { evaluateRun } from '../eval/evaluate-run';
import { predictImageFile } from '../eval/predict-file';
import type { PredictContext } from '../eval/predictions';

export function evalHandlers(service: Service): HandlersOf<typeof evalCalls> {
  const context = (project: string, backend: BackendName | undefined, provider: ProviderName | undefined): PredictContext => ({
    handle: service.projects.get(project),
    predictor: service.predictor,
    backend,
    provider,
    emit: (progress) => service.emit('predict.progress', progress),
  });

  return {
    'eval.run': ({ project, runId, split, recompute, predictAgain, backend, provider }) => {
      const ctx = context(project, backend, provider);
      const key = JSON.stringify(['eval.run', ctx.handle.path, runId, split, recompute, predictAgain, backend, provider]);
      return service.jobs.shared(key, () => evaluateRun(ctx, { runId, split, recompute, predictAgain }));
    },
    'eval.images': ({ project, backend, provider, ...options }) => evaluatedImages(context(project, backend, provider), options),
    'eval.predictImage': ({ project, backend, provider, ...options }) => predictImageFile(context(project, backend, provider), options),
    'assist.suggestions': ({ project, backend, provider, ...options }) => suggestions(context(project, backend, provider), options),
    'assist.disagreements': ({ project, backend, provider, ...options }) => disagreements(context(project, backend, provider), options),
  };
}
