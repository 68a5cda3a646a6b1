/**
 * Creating a run: check the data (data/trainable.ts) and the configuration (config.ts), then store
 * the run as queued with its resolved configuration. Nothing is built or decoded: a bad data set or
 * option fails here, before a trainer process starts.
 */
import type { RunRecord } from '../contract/calls-data';
import type { Database } from '../project/database';
import { createRun } from '../project/runs';
import { resolveTrainConfig, type ParsedTrainOptions } from './config';
import { checkTrainable } from './data/trainable';
import { getVariant } from '../model/variants';
import { addRunNote } from './run-notes';

export interface NewRun {
  run: RunRecord;
  warnings: string[];
}

export function createTrainingRun(handle: { db: Database }, options: ParsedTrainOptions): NewRun {
  // A misspelt model is the user's first mistake to hear about, before anything about the data.
  getVariant(options.model);
  const trainable = checkTrainable(handle);
  const { config, variant, warnings } = resolveTrainConfig(options, trainable.classes);
  const all = [...trainable.warnings, ...warnings];
  const run = createRun(handle.db, { config, variant: variant.id, resolution: config.resolution, classes: config.classes, backend: config.backend });
  for (const warning of all) addRunNote(handle.db, run.id, 'warning', warning);
  return { run, warnings: all };
}
