/**
 * Predictions of a run for a set of project images, through the predictions table: stored ones
 * whose content hash still matches are reused, the rest are predicted (in batches, stored batch by
 * batch, so a stopped app keeps what was done) and progress is reported as predict.progress.
 * A file gone from disk is skipped even when a stored prediction exists: the user deleted or moved
 * it, and results must not count images that are no longer there.
 */
import type { BackendName } from '../contract/calls-backend';
import type { ProviderName } from '../contract/calls-inference';
import type { SkippedImage } from '../contract/calls-data';
import type { PredictProgress } from '../contract/calls-eval';
import type { ProjectHandle } from '../project/registry';
import { MISSING_FILE_REASON } from './predict-images';
import { readPredictions, writePredictions } from './prediction-store';
import type { Predictor } from './predictor';
import type { ModelRef } from './run-model';
import { existsAt, imageFsPath } from '../dataset/file-name-bytes';

/** What the evaluation and assist calls need to predict: the project, who predicts, and where progress goes. */
export interface PredictContext {
  handle: ProjectHandle;
  predictor: Predictor;
  /** force a TF.js backend (predicting on TF.js); default: ONNX Runtime */
  backend?: BackendName;
  /** force an ONNX Runtime execution provider; default: the best that loads on real hardware */
  provider?: ProviderName;
  emit?: (progress: PredictProgress) => void;
}

export interface ProjectImage {
  id: number;
  path: string;
  /** the raw path when it is not UTF-8 (dataset/file-name-bytes.ts); absent or null: the path opens it */
  pathBytes?: Buffer | null;
  hash: string | null;
  /** the format its import recorded: the bytes are checked against it before decoding */
  format?: string | null;
}

export interface RunPredictions {
  /** probabilities per image id, in the run's output order */
  probs: Map<number, Float32Array>;
  skipped: SkippedImage[];
  /** what predicted them ('onnxruntime:<provider>' or the TF.js backend); null when none was needed */
  backend: string | null;
}

export async function runPredictions(
  ctx: PredictContext,
  run: { id: number; model: ModelRef },
  images: readonly ProjectImage[],
  purpose: PredictProgress['purpose'],
  options: { reuseStored?: boolean } = {},
): Promise<RunPredictions> {
  const runId = run.id;
  const { db } = ctx.handle;
  const skipped: SkippedImage[] = [];
  const present: ProjectImage[] = [];
  for (const image of images) {
    if (existsAt(imageFsPath(image))) present.push(image);
    else skipped.push({ id: image.id, path: image.path, reason: MISSING_FILE_REASON });
  }
  const probs = options.reuseStored === false ? new Map<number, Float32Array>() : readPredictions(db, runId, present);
  const toPredict = present.filter((image) => !probs.has(image.id));
  if (toPredict.length === 0) return { probs, skipped, backend: null };

  const hashes = new Map(toPredict.map((image) => [image.id, image.hash]));
  const progress = (done: number) => ctx.emit?.({ project: ctx.handle.path, runId, purpose, done, total: toPredict.length });
  progress(0);
  const predicted = await ctx.predictor.predictFiles({ model: run.model, backend: ctx.backend, provider: ctx.provider }, toPredict, {
    onBatch: (batch) => {
      for (const p of batch) probs.set(p.id, p.probs);
      const storable = batch.filter((p) => hashes.get(p.id)).map((p) => ({ imageId: p.id, hash: hashes.get(p.id)!, probs: p.probs }));
      writePredictions(db, runId, storable);
    },
    onProgress: (done) => progress(done),
  });
  skipped.push(...predicted.skipped);
  skipped.sort((a, b) => a.id - b.id);
  return { probs, skipped, backend: predicted.backend };
}
