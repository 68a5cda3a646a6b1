/**
 * Model-assisted labeling with a finished run: a suggested class for every unlabeled image, least
 * confident first by default (labeling those teaches the next run the most: uncertainty sampling,
 * ties broken by the smaller top-1/top-2 margin), and labeled images whose label differs from a
 * confident prediction (likely label errors), most confident first. Predictions are stored per
 * image (predictions.ts), so paging through the lists predicts nothing again.
 */
import type { AssistList } from '../contract/calls-eval';
import { margin, toPredictedImage } from './predicted-image';
import { runPredictions, type PredictContext } from './predictions';
import { finishedRun } from './run-model';

export interface Page {
  offset: number;
  limit: number;
}

/** Unlabeled usable images (status ok, file present at the last import, not excluded), by id. */
const UNLABELED = `SELECT id, path, path_bytes AS pathBytes, hash, format FROM images WHERE status = 'ok' AND missing = 0 AND excluded = 0 AND class_id IS NULL ORDER BY id`;
/**
 * Labeled usable images with their class, by id, except those whose label the user confirmed since
 * it last changed (labels.confirm: the newest history row has the same class before and after).
 */
const LABELED = `SELECT i.id, i.path, i.path_bytes AS pathBytes, i.hash, i.format, c.name AS className FROM images i JOIN classes c ON c.id = i.class_id
  WHERE i.status = 'ok' AND i.missing = 0 AND i.excluded = 0
    AND COALESCE((SELECT h.from_class IS h.to_class FROM label_history h WHERE h.image_id = i.id ORDER BY h.id DESC LIMIT 1), 0) = 0
  ORDER BY i.id`;

export async function suggestions(ctx: PredictContext, options: Page & { runId: number; order: 'uncertain' | 'confident' }): Promise<AssistList> {
  const { db } = ctx.handle;
  const { run, model } = finishedRun(db, ctx.handle.path, options.runId);
  const images = db.prepare(UNLABELED).all() as { id: number; path: string; pathBytes: Buffer | null; hash: string | null }[];
  const predictions = await runPredictions(ctx, { id: run.id, model }, images, 'assist');
  const scored = images
    .filter((image) => predictions.probs.has(image.id))
    .map((image) => {
      const probs = predictions.probs.get(image.id)!;
      return { item: toPredictedImage({ ...image, trueClass: null, probs }, run.classes), margin: margin(probs) };
    });
  const sign = options.order === 'uncertain' ? 1 : -1;
  scored.sort((a, b) => sign * (a.item.confidence - b.item.confidence) || sign * (a.margin - b.margin) || a.item.id - b.item.id);
  return { total: scored.length, items: scored.slice(options.offset, options.offset + options.limit).map((s) => s.item), skipped: predictions.skipped };
}

export async function disagreements(ctx: PredictContext, options: Page & { runId: number; minConfidence: number }): Promise<AssistList> {
  const { db } = ctx.handle;
  const { run, model } = finishedRun(db, ctx.handle.path, options.runId);
  const known = new Set(run.classes);
  // a label the run never trained on cannot disagree with it: the model has no output for it
  const images = (db.prepare(LABELED).all() as { id: number; path: string; pathBytes: Buffer | null; hash: string | null; className: string }[]).filter((image) => known.has(image.className));
  const predictions = await runPredictions(ctx, { id: run.id, model }, images, 'assist');
  const items = images
    .filter((image) => predictions.probs.has(image.id))
    .map((image) => toPredictedImage({ ...image, trueClass: image.className, probs: predictions.probs.get(image.id)! }, run.classes))
    .filter((item) => item.correct === false && item.confidence >= options.minConfidence)
    .sort((a, b) => b.confidence - a.confidence || a.id - b.id);
  return { total: items.length, items: items.slice(options.offset, options.offset + options.limit), skipped: predictions.skipped };
}
