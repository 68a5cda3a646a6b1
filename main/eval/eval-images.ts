/**
 * The evaluated images of a split with their predictions: a confusion-matrix cell (true and
 * predicted class), a row or column, or the mistakes, sorted for a gallery. Reads the run's stored
 * evaluation (computing it first when there is none or it is stale), so the images listed are
 * exactly the ones the matrix counts.
 */
import { ApiError } from '../contract/contract';
import type { EvalSplit, PredictedImage } from '../contract/calls-eval';
import { evaluateRun, splitImages } from './evaluate-run';
import { toPredictedImage } from './predicted-image';
import { readPredictions } from './prediction-store';
import type { PredictContext } from './predictions';
import { finishedRun } from './run-model';

export interface EvalImagesOptions {
  runId: number;
  split: EvalSplit;
  trueClass?: string;
  predictedClass?: string;
  mistakesOnly: boolean;
  order: 'confidence-desc' | 'confidence-asc' | 'path';
  offset: number;
  limit: number;
}

export async function evaluatedImages(ctx: PredictContext, options: EvalImagesOptions): Promise<{ total: number; items: PredictedImage[] }> {
  const evaluation = await evaluateRun(ctx, { runId: options.runId, split: options.split });
  for (const [field, name] of [['trueClass', options.trueClass], ['predictedClass', options.predictedClass]] as const) {
    if (name !== undefined && !evaluation.classes.includes(name)) {
      throw new ApiError('invalid_input', `${field}: "${name}" is not one of run ${options.runId}'s classes (${evaluation.classes.join(', ')})`);
    }
  }
  const { db } = ctx.handle;
  const { run } = finishedRun(db, ctx.handle.path, options.runId);
  const skipped = new Set(evaluation.skipped.map((s) => s.id));
  const images = splitImages(db, options.split).filter((image) => !skipped.has(image.id));
  const probs = readPredictions(db, run.id, images);
  let items = images.filter((image) => probs.has(image.id)).map((image) => toPredictedImage({ ...image, trueClass: image.className, probs: probs.get(image.id)! }, run.classes));
  if (options.trueClass !== undefined) items = items.filter((item) => item.trueClass === options.trueClass);
  if (options.predictedClass !== undefined) items = items.filter((item) => item.predictedClass === options.predictedClass);
  if (options.mistakesOnly) items = items.filter((item) => item.correct === false);
  items.sort(comparator(options.order));
  return { total: items.length, items: items.slice(options.offset, options.offset + options.limit) };
}

function comparator(order: EvalImagesOptions['order']): (a: PredictedImage, b: PredictedImage) => number {
  if (order === 'path') return (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.id - b.id);
  const sign = order === 'confidence-desc' ? -1 : 1;
  return (a, b) => sign * (a.confidence - b.confidence) || a.id - b.id;
}
