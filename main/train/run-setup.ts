/**
 * Setting a run up, before its first step: check the data, build the model (from weights or from
 * scratch), prepare it for the mode, continue after the last intact checkpoint when resuming,
 * choose the batch, make the optimizer and the loss, then tell the caller the run has started.
 * What it returns is everything the epoch loop needs; a set-up that fails half-way disposes what
 * it made.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../contract/calls-train';
import { discardEpochsAfter, recordEpoch, runHistory } from '../project/runs';
import { findLatestCheckpoint, loadCheckpoint, type CheckpointState } from './checkpoint';
import { classWeights } from './data/sampling';
import { checkTrainable, type TrainableSummary } from './data/trainable';
import type { LossOptions } from './loss';
import { chooseBatchSize } from './memory';
import { engineBindingOn, engineStepBytesOn } from './engine-options';
import { trainingThreads } from '../backend/training-threads';
import { plannedTopStart } from './top-start';
import { buildTrainingModel, prepareForMode, type TrainingModel } from './model-setup';
import { createOptimizer, type NamedTensor, type TrainOptimizer } from './optimizer';
import type { RunContext } from './run-context';
import type { RunProgress } from './run-progress';
import type { RunReporting } from './run-reporting';

/** The counters a run carries from step to step, and through a checkpoint into its resume. */
export interface RunCounters {
  /** the batch size now: chosen at set-up, halved on out-of-memory */
  batch: number;
  /** optimizer steps since the run began */
  step: number;
  /** the epoch of the lowest validation loss so far */
  best: CheckpointState['best'];
  epochsWithoutImprovement: number;
}

export interface RunSetup {
  built: TrainingModel;
  optimizer: TrainOptimizer;
  /** the loss of every step; its class weights tensor belongs to the set-up */
  loss: LossOptions;
  /** 0, or the epoch after a resumed run's checkpoint */
  startEpoch: number;
  counters: RunCounters;
}

export async function setUpRun(ctx: RunContext, config: TrainConfig, reporting: RunReporting, progress: RunProgress): Promise<RunSetup> {
  const trainable = checkTrainable({ db: ctx.db }, { classes: config.classes });
  reporting.status('running', null, { backend: ctx.backend.name, checkpointDir: ctx.checkpointRoot });
  // nothing is chosen yet: no batch, no step
  progress.report({ phase: 'starting', epoch: 0 }, { batch: 1, step: 0 });
  const built = await buildTrainingModel(config);
  try {
    return await prepareRun(ctx, config, reporting, built, trainable);
  } catch (err) {
    built.model.dispose();
    throw err;
  }
}

export function disposeRunSetup(setup: RunSetup): void {
  setup.optimizer.dispose();
  setup.built.model.dispose();
  setup.loss.classWeights?.dispose();
}

async function prepareRun(ctx: RunContext, config: TrainConfig, reporting: RunReporting, built: TrainingModel, trainable: TrainableSummary): Promise<RunSetup> {
  ctx.control.throwIfCancelled();
  const notes = [...built.notes];
  const mode = prepareForMode(built.model, built.variant, config);
  notes.push(mode.description);
  const resumed = ctx.resume ? await resumeFromCheckpoint(ctx, reporting, built, notes) : null;
  const counters = resumed?.counters ?? { batch: chooseBatch(ctx, config, built, trainable.train, notes), step: 0, best: null, epochsWithoutImprovement: 0 };

  const optimizer = createOptimizer(config.optimizer, mode.variables, config.weightDecay);
  const counts = config.classes.map((name) => trainable.classes.find((c) => c.name === name)?.train ?? 0);
  const weights = config.imbalance === 'weights' ? tf.tensor1d(classWeights(counts)) : null;
  try {
    if (resumed?.optimizerState) {
      await optimizer.restore(resumed.optimizerState);
      tf.dispose(resumed.optimizerState.map((s) => s.tensor));
    }
    notes.push(trainingThreads(ctx.backend));
    for (const note of notes) reporting.note('info', note);
    // a new run's warnings were noted when it was created; the data may have changed since a stop
    if (ctx.resume) for (const warning of trainable.warnings) reporting.note('warning', warning);
    ctx.reporter.started({
      backend: ctx.backend.name,
      device: ctx.backend.device,
      batch: counters.batch,
      fromScratch: built.fromScratch,
      resumedFromEpoch: resumed?.epoch ?? null,
      notes,
      warnings: trainable.warnings,
    });
  } catch (err) {
    optimizer.dispose();
    weights?.dispose();
    throw err;
  }
  const loss = { classes: config.classes.length, labelSmoothing: config.labelSmoothing, classWeights: weights };
  return { built, optimizer, loss, startEpoch: resumed ? resumed.epoch + 1 : 0, counters };
}

interface Resumed {
  /** the epoch of the checkpoint */
  epoch: number;
  counters: RunCounters;
  optimizerState: NamedTensor[] | null;
}

/**
 * Load the last intact checkpoint into the model (damaged ones are skipped with a warning) and
 * bring the run's epoch records back to it. Null when no epoch had finished: the run starts over.
 */
async function resumeFromCheckpoint(ctx: RunContext, reporting: RunReporting, built: TrainingModel, notes: string[]): Promise<Resumed | null> {
  const found = findLatestCheckpoint(ctx.checkpointRoot, (dir, why) => reporting.note('warning', `checkpoint ${path.basename(dir)} is damaged and was skipped: ${why}`));
  if (!found) {
    discardEpochsAfter(ctx.db, ctx.runId, -1);
    notes.push('no epoch had finished: the run starts again from epoch 1');
    return null;
  }
  const { state } = found;
  const optimizerState = await loadCheckpoint(found.dir, state, built.model);
  // epochs recorded after the checkpoint are trained again; a record the kill lost is restored
  discardEpochsAfter(ctx.db, ctx.runId, state.epoch);
  if (!runHistory(ctx.db, ctx.runId).some((e) => e.epoch === state.epoch)) recordEpoch(ctx.db, ctx.runId, state.record);
  notes.push(`resumed from the checkpoint of epoch ${state.epoch + 1} (${path.basename(found.dir)})`);
  const counters = { batch: state.batch, step: state.step, best: state.best, epochsWithoutImprovement: state.epochsWithoutImprovement };
  return { epoch: state.epoch, counters, optimizerState };
}

/** The configured batch, else the largest the memory estimate allows (the reason goes in the notes). */
function chooseBatch(ctx: RunContext, config: TrainConfig, built: TrainingModel, trainImages: number, notes: string[]): number {
  if (config.batch !== null) return config.batch;
  const choice = chooseBatchSize({
    variant: built.variant,
    resolution: config.resolution,
    classes: config.classes.length,
    trainImages,
    memoryBytes: ctx.memoryBytes ?? ctx.backend.memoryBytes,
    memorySource: ctx.memoryBytes ? 'EFFITUNE_TRAIN_MEMORY_BYTES' : ctx.backend.memorySource,
    onGpu: ctx.backend.name !== 'cpu' && ctx.backend.name !== 'wasm' && ctx.backend.name !== 'tfjs-node',
    trainFrom: plannedTopStart(config, built.variant),
    engineBytes: engineStepBytesOn(config, built.variant, ctx.backend.name),
    engineBinding: engineBindingOn(config, built.variant, ctx.backend),
  });
  notes.push(choice.reason);
  return choice.batch;
}
