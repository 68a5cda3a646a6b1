/**
 * Service handlers of evaluation and model-assisted labeling (main/contract/calls-eval.ts). Thin: the
 * work is in main/eval. The tensor work runs in one predictor process per service
 * (eval/predictor-client.ts), so a large model on a CPU backend never holds this process's event
 * loop; this process decodes nothing, it reads and stores predictions and computes the metrics.
 * Two identical eval.run calls at once share one computation.
 */
import type { CallArgs, CallOutput } from '../contract/contract';
import type { evalCalls } from '../contract/calls-eval';
import type { Service } from './service';
import { disagreements, suggestions } from '../eval/assist';
import { evaluatedImages } from '../eval/eval-images';
import { evaluateRun } from '../eval/evaluate-run';
import { predictImageFile } from '../eval/predict-file';
import type { PredictContext } from '../eval/predictions';
import { ProcessPredictor } from '../eval/predictor-client';
import type { BackendName } from '../contract/calls-backend';

type EvalCallName = keyof typeof evalCalls;
type EvalHandlers = { [N in EvalCallName]: (args: CallArgs<N>) => Promise<CallOutput<N>> | CallOutput<N> };

export function evalHandlers(service: Service): EvalHandlers {
  const predictor = new ProcessPredictor();
  service.events.once('close', () => predictor.close());
  const running = new Map<string, Promise<CallOutput<'eval.run'>>>();
  const context = (project: string, backend: BackendName | undefined): PredictContext => ({
    handle: service.projects.get(project),
    predictor,
    backend,
    emit: (progress) => service.emit('predict.progress', progress),
  });

  return {
    'eval.run': ({ project, runId, split, recompute, backend }) => {
      const ctx = context(project, backend);
      const key = JSON.stringify([ctx.handle.path, runId, split, recompute]);
      let evaluation = running.get(key);
      if (!evaluation) {
        evaluation = evaluateRun(ctx, { runId, split, recompute }).finally(() => running.delete(key));
        running.set(key, evaluation);
      }
      return evaluation;
    },
    'eval.images': ({ project, backend, ...options }) => evaluatedImages(context(project, backend), options),
    'eval.predictImage': ({ project, backend, ...options }) => predictImageFile(context(project, backend), options),
    'assist.suggestions': ({ project, backend, ...options }) => suggestions(context(project, backend), options),
    'assist.disagreements': ({ project, backend, ...options }) => disagreements(context(project, backend), options),
  };
}
