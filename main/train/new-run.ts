/**
 * Creating a run: check the data (data/trainable.ts), the configuration (config.ts) and that the
 * mode can learn from the weights it starts with (backbone-check.ts), then store the run as queued
 * with its resolved configuration and its validation counts per class (the majority baseline the
 * finished run is compared with). Nothing is built or decoded: a bad data set or option fails
 * here, before a trainer process starts.
 */
import type { RunRecord } from '../contract/calls-data';
import type { Database } from '../project/database';
import { createRun } from '../project/runs';
import { resolveTrainConfig, type ParsedTrainOptions, type ResolvedConfig } from './config';
import { checkTrainable, type TrainableSummary } from './data/trainable';
import { getVariant } from '../model/variants';
import { addRunNote } from './run-notes';
import { profileTrainingData } from './recipe-data';
import { refuseRandomBackbone } from './backbone-check';

export interface NewRun {
  run: RunRecord;
  warnings: string[];
}

export interface CheckedRun extends ResolvedConfig {
  trainable: TrainableSummary;
}

/** The checks of a new run, in the order train.start and train.estimate make them; throws ApiError naming the field. */
export function checkNewRun(handle: { db: Database }, options: ParsedTrainOptions): CheckedRun {
  // A misspelt model is the user's first mistake to hear about, before anything about the data.
  getVariant(options.model);
  const trainable = checkTrainable(handle);
  // the defaults left open are fitted to the project's images (recipe.ts); what the caller sets wins
  const resolved = resolveTrainConfig(options, trainable.classes, profileTrainingData(handle.db));
  refuseRandomBackbone(resolved.config, options.allowRandomBackbone);
  return { ...resolved, trainable };
}

export function createTrainingRun(handle: { db: Database }, options: ParsedTrainOptions): NewRun {
  const { config, variant, warnings, trainable } = checkNewRun(handle, options);
  const all = [...trainable.warnings, ...warnings];
  const valCounts = config.classes.map((name) => trainable.classes.find((c) => c.name === name)?.val ?? 0);
  const run = createRun(handle.db, { config, variant: variant.id, resolution: config.resolution, classes: config.classes, backend: config.backend, valCounts });
  for (const warning of all) addRunNote(handle.db, run.id, 'warning', warning);
  for (const reason of config.recipe ?? []) addRunNote(handle.db, run.id, 'info', `recipe: ${reason}`);
  return { run, warnings: all };
}
