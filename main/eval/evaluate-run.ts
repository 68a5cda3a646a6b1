/**
 * Evaluation of a finished run on a split: the split's labeled images (not excluded), their
 * predictions (predictions.ts), and the metrics (metrics.ts), stored in the evaluations table with
 * a digest of what was evaluated (data_key). Asking again gives the stored evaluation unless an
 * image was added, removed, re-labeled, moved to another split, changed on disk or deleted.
 *
 * Classes are the run's (the model's outputs) in the project's class order (classes.position, then
 * id); a class the run knows but the project has since renamed or deleted keeps its place after
 * them, in the run's order. Images of a class the run never trained on cannot be scored and are
 * skipped with a reason, like missing and unreadable files.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { SkippedImage } from '../contract/calls-data';
import { Evaluation, type EvalSplit } from '../contract/calls-eval';
import type { Database } from '../project/database';
import { computeMetrics, type ScoredImage } from './metrics';
import { runPredictions, type PredictContext, type ProjectImage } from './predictions';
import { finishedRun } from './run-model';
import { existsAt, imageFsPath, PATH_BYTES } from '../dataset/file-name-bytes';

/** Bump when the stored result's meaning changes, so older stored evaluations are recomputed (2: averages count undefined as 0). */
const DATA_KEY_VERSION = 2;

export interface RunClasses {
  /** the run's class names in the model's output order */
  outputs: string[];
  /** the same names in the project's class order: the rows and columns of the matrix */
  ordered: string[];
  /** output index → index in `ordered` */
  toOrdered: number[];
}

/** The project's class names, ordered as the user ordered them. */
export function projectClassOrder(db: Database): string[] {
  return (db.prepare('SELECT name FROM classes ORDER BY position, id').all() as { name: string }[]).map((r) => r.name);
}

export function runClasses(db: Database, outputs: string[]): RunClasses {
  const known = new Set(outputs);
  const project = projectClassOrder(db).filter((name) => known.has(name));
  const inProject = new Set(project);
  const ordered = [...project, ...outputs.filter((name) => !inProject.has(name))];
  const index = new Map(ordered.map((name, i) => [name, i]));
  return { outputs, ordered, toOrdered: outputs.map((name) => index.get(name)!) };
}

/** Probabilities reordered from the model's output order to the matrix order. */
export function reorder(probs: Float32Array, classes: RunClasses): Float32Array {
  const out = new Float32Array(probs.length);
  for (let i = 0; i < probs.length; i++) out[classes.toOrdered[i]] = probs[i];
  return out;
}

export interface SplitImage extends ProjectImage {
  className: string;
}

/** Labeled, usable, not excluded images of a split, by id. */
export function splitImages(db: Database, split: EvalSplit): SplitImage[] {
  return db
    .prepare(
      `SELECT i.id, i.path, ${PATH_BYTES}, i.hash, i.format, c.name AS className FROM images i JOIN classes c ON c.id = i.class_id
       WHERE i.status = 'ok' AND i.split = ? AND i.excluded = 0 ORDER BY i.id`,
    )
    .all(split) as SplitImage[];
}

export interface EvaluateOptions {
  runId: number;
  split: EvalSplit;
  recompute?: boolean;
  /** predict every image again instead of reusing stored predictions (implies recompute) */
  predictAgain?: boolean;
}

export async function evaluateRun(ctx: PredictContext, options: EvaluateOptions): Promise<Evaluation> {
  const { db } = ctx.handle;
  const { run, model } = finishedRun(db, ctx.handle.path, options.runId);
  const classes = runClasses(db, run.classes);
  const images = splitImages(db, options.split);
  const dataKey = evaluationDataKey(classes, images);
  if (!options.recompute && !options.predictAgain) {
    const stored = readEvaluation(db, options.runId, options.split, dataKey);
    // the project file may have moved since: name it as it is opened now
    if (stored) return { ...stored, project: ctx.handle.path };
  }

  const started = performance.now();
  const outputIndex = new Map(classes.outputs.map((name, i) => [name, i]));
  const skipped: SkippedImage[] = [];
  const scorable: SplitImage[] = [];
  for (const image of images) {
    if (outputIndex.has(image.className)) scorable.push(image);
    else skipped.push({ id: image.id, path: image.path, reason: `its class "${image.className}" is not one of run ${run.id}'s classes (${run.classes.join(', ')})` });
  }
  const predictions = await runPredictions(ctx, { id: run.id, model }, scorable, 'eval', { reuseStored: !options.predictAgain });
  skipped.push(...predictions.skipped);
  skipped.sort((a, b) => a.id - b.id);

  const orderedIndex = new Map(classes.ordered.map((name, i) => [name, i]));
  const scored: ScoredImage[] = [];
  for (const image of scorable) {
    const probs = predictions.probs.get(image.id);
    if (probs) scored.push({ truth: orderedIndex.get(image.className)!, probs: reorder(probs, classes) });
  }
  const metrics = computeMetrics(scored, classes.ordered);
  const at = new Date().toISOString();
  const evaluation: Evaluation = {
    project: ctx.handle.path,
    runId: run.id,
    split: options.split,
    classes: classes.ordered,
    images: metrics.images,
    accuracy: metrics.accuracy,
    loss: metrics.loss,
    topK: metrics.topK,
    perClass: metrics.perClass,
    macro: metrics.macro,
    weighted: metrics.weighted,
    confusion: metrics.confusion,
    skipped,
    backend: predictions.backend,
    computedAt: at,
    cached: false,
    seconds: (performance.now() - started) / 1000,
  };
  db.prepare('INSERT OR REPLACE INTO evaluations (run_id, split, data_key, at, result) VALUES (?, ?, ?, ?, ?)').run(run.id, options.split, dataKey, at, JSON.stringify(evaluation));
  return evaluation;
}

/**
 * Digest of everything the evaluation depends on besides the model: the classes and, per image,
 * its id, content hash, label and whether its file is there (a deleted file changes the result).
 */
export function evaluationDataKey(classes: RunClasses, images: readonly SplitImage[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ v: DATA_KEY_VERSION, outputs: classes.outputs, ordered: classes.ordered }));
  for (const image of images) hash.update(`\n${image.id}\t${image.hash}\t${image.className}\t${existsAt(imageFsPath(image)) ? 1 : 0}`);
  return hash.digest('hex');
}

function readEvaluation(db: Database, runId: number, split: EvalSplit, dataKey: string): Evaluation | null {
  const row = db.prepare('SELECT data_key, result FROM evaluations WHERE run_id = ? AND split = ?').get(runId, split) as { data_key: string; result: string } | undefined;
  if (!row || row.data_key !== dataKey) return null;
  // a result that no longer fits the contract (written by another version) is recomputed, not an error
  const parsed = Evaluation.safeParse(JSON.parse(row.result));
  return parsed.success ? { ...parsed.data, cached: true, seconds: 0 } : null;
}
