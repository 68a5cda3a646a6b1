/**
 * The model of a finished training run: <project>.d/runs/<id>/model (the best epoch's model, see
 * train/checkpoint.ts), its classes in output order and its input resolution; and a cache of the
 * last loaded model for the process that predicts (loading B0 takes about a second, so "try an
 * image" and later batches reuse it).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../contract/contract';
import type { RunRecord } from '../contract/calls-data';
import { loadModelFolder, MODEL_JSON } from '../model/manager/model-folder';
import type { Database } from '../project/database';
import { getRun } from '../project/runs';
import { FINAL_MODEL_DIR, runFolderName } from '../project/run-folders';

/** What a predicting process needs to know about a run's model. */
export interface ModelRef {
  dir: string;
  resolution: number;
  /** number of classes (model outputs) */
  classes: number;
}

export interface RunModel extends ModelRef {
  model: tfl.LayersModel;
  /** false when the last layer gives logits: predictions then get a softmax */
  softmaxInside: boolean;
}

/** A finished run and its model; errors in words for a run that is not finished or has lost its model. */
export function finishedRun(db: Database, projectPath: string, runId: number): { run: RunRecord; model: ModelRef } {
  const run = getRun(db, runId);
  if (run.status !== 'completed') {
    const why = run.reason ? ` (${run.reason})` : '';
    throw new ApiError('invalid_input', `run ${runId} is ${run.status}${why}, not finished: only a completed run has a model to evaluate`);
  }
  const root = run.checkpointDir ?? path.join(`${path.resolve(projectPath)}.d`, runFolderName(runId));
  const dir = path.join(root, FINAL_MODEL_DIR);
  if (!fs.existsSync(path.join(dir, MODEL_JSON))) throw new ApiError('not_found', `the model of run ${runId} is missing: ${dir} has no ${MODEL_JSON} (was the project's .d folder moved or deleted?)`);
  return { run, model: { dir, resolution: run.resolution, classes: run.classes.length } };
}

interface CacheEntry {
  key: string;
  model: Promise<RunModel>;
  /** calls using the model now: a replaced entry is disposed only when the last one is done */
  users: number;
  replaced: boolean;
}

/** Keeps the last loaded model; a changed model.json (mtime), folder or backend loads again. */
export class RunModelCache {
  private entry: CacheEntry | null = null;

  /** Run `work` with the model; it stays valid until `work` settles. */
  async use<T>(ref: ModelRef, work: (model: RunModel) => Promise<T>): Promise<T> {
    const key = [ref.dir, fs.statSync(path.join(ref.dir, MODEL_JSON)).mtimeMs, tf.getBackend()].join('|');
    if (this.entry?.key !== key) {
      this.retire();
      this.entry = { key, model: loadRunModel(ref), users: 0, replaced: false };
    }
    const entry = this.entry;
    entry.users++;
    try {
      return await work(await entry.model);
    } catch (err) {
      // a failed load is not kept: the next call tries again
      if (this.entry === entry) entry.model.catch(() => this.retire());
      throw err;
    } finally {
      entry.users--;
      if (entry.replaced && entry.users === 0) disposeEntry(entry);
    }
  }

  dispose(): void {
    this.retire();
  }

  private retire(): void {
    const old = this.entry;
    this.entry = null;
    if (!old) return;
    old.replaced = true;
    if (old.users === 0) disposeEntry(old);
  }
}

function disposeEntry(entry: CacheEntry): void {
  entry.model.then(
    (m) => m.model.dispose(),
    () => undefined,
  );
}

async function loadRunModel(ref: ModelRef): Promise<RunModel> {
  const { model } = await loadModelFolder(ref.dir);
  const [, height, width, channels] = model.inputs[0].shape;
  const outputs = model.outputs[0].shape[1];
  if (height !== ref.resolution || width !== ref.resolution || channels !== 3 || outputs !== ref.classes) {
    model.dispose();
    throw new ApiError('invalid_input', `the model in ${ref.dir} takes [${model.inputs[0].shape.join(', ')}] and gives ${outputs} classes, but its run trained ${ref.resolution}×${ref.resolution} RGB images of ${ref.classes} classes`);
  }
  const last = model.layers[model.layers.length - 1].getConfig() as { activation?: string };
  return { ...ref, model, softmaxInside: last.activation === 'softmax' };
}
