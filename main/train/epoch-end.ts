/**
 * The end of an epoch: keep track of the best epoch and of patience, record the epoch, write its
 * checkpoint (model, optimizer state and the counters, all a resume needs), keep only the
 * checkpoints of this epoch and of the best one, and say whether to stop early.
 */
import { ApiError } from '../contract/contract';
import * as tf from '@tensorflow/tfjs-core';
import type { EpochRecord } from '../contract/calls-data';
import { recordEpoch } from '../project/runs';
import { pruneCheckpoints, writeCheckpoint } from './checkpoint';
import type { NamedTensor } from './optimizer';
import { rateWithinEpoch } from './epoch-schedule';
import type { EpochTotals } from './run-progress';
import type { TrainingSession } from './training-session';

/** Mean loss and accuracy over the validation split. */
export interface Validation {
  loss: number;
  acc: number;
}

/** Returns why to stop early, or null. `began`: the run's active clock (control.activeNow) at the start of the epoch, so a pause is not counted. */
export async function endEpoch(session: TrainingSession, epoch: number, totals: EpochTotals, validated: Validation | null, began: number, optimizerState?: () => Promise<NamedTensor[]>): Promise<string | null> {
  const { ctx, config, counters } = session;
  // a diverged run (EFFITUNE_TRAIN_FAULT nan@…) validates to NaN too, as its weights would
  const validation = validated && ctx.faults ? { ...validated, loss: ctx.faults.lossAfter(counters.step - 1, validated.loss) } : validated;
  session.report({ phase: 'checkpointing', epoch });
  const improved = validation !== null && Number.isFinite(validation.loss) && (counters.best === null || validation.loss < counters.best.valLoss);
  if (improved) {
    counters.best = { epoch, valLoss: validation.loss };
    counters.epochsWithoutImprovement = 0;
  } else if (validation !== null && epoch >= config.warmupEpochs) {
    // while the learning rate still rises the validation loss swings: warm-up epochs do not count towards patience
    counters.epochsWithoutImprovement++;
  }
  const record: EpochRecord = {
    epoch,
    trainLoss: totals.images > 0 ? totals.loss / totals.images : null,
    trainAcc: totals.images > 0 ? totals.correct / totals.images : null,
    valLoss: validation?.loss ?? null,
    valAcc: validation?.acc ?? null,
    // totals.seconds is training time without pauses (epoch-loop.ts reads the active clock)
    imagesPerSecond: totals.seconds > 0 ? totals.images / totals.seconds : 0,
    seconds: (ctx.control.activeNow() - began) / 1000,
    // the rate in the middle of the epoch (it changes every step)
    lr: rateWithinEpoch(config, epoch, 1, 2),
    batch: counters.batch,
    at: new Date().toISOString(),
  };
  await writeEpochCheckpoint(session, record, optimizerState);
  record.seconds = (ctx.control.activeNow() - began) / 1000;
  const { isBest } = recordEpoch(ctx.db, ctx.runId, record);
  session.progress.epochEnded(record.seconds);
  pruneCheckpoints(ctx.checkpointRoot, new Set([epoch, ...(counters.best ? [counters.best.epoch] : [])]));
  ctx.reporter.epoch(record, isBest, config.epochs);

  if (record.trainLoss !== null && !Number.isFinite(record.trainLoss)) {
    // a diverged run: its weights are no longer numbers, and every further epoch would be lost time
    const avoid = `a lower learning rate than ${config.lr}${config.precision === 'mixed' ? ', or precision fp32 (a float16 activation may have overflowed),' : ''} avoids it`;
    const why = `the training loss is ${record.trainLoss} after epoch ${epoch + 1} (the training diverged); ${avoid}`;
    // with no epoch whose model validated to a finite loss, there is nothing worth keeping
    if (!counters.best) throw new ApiError('invalid_input', `${why}: no epoch's model is worth keeping`);
    return `stopped after epoch ${epoch + 1}: ${why.replace(/ after epoch \d+/, '')}`;
  }
  if (validation !== null && session.patienceUsedUp() && epoch < config.epochs - 1) {
    return `stopped early after epoch ${epoch + 1}: the validation loss has not improved for ${config.patience} epochs`;
  }
  return null;
}

async function writeEpochCheckpoint(session: TrainingSession, record: EpochRecord, fromElsewhere?: () => Promise<NamedTensor[]>): Promise<void> {
  const { ctx, config, setup, counters } = session;
  const { epoch } = record;
  const optimizerState = fromElsewhere ? await fromElsewhere() : await setup.optimizer.state();
  try {
    await writeCheckpoint(ctx.checkpointRoot, {
      model: setup.built.model,
      labels: config.classes,
      metadata: { variant: config.model, resolution: config.resolution, runId: ctx.runId, epoch, mode: config.mode },
      optimizer: { name: config.optimizer, state: optimizerState },
      state: { runId: ctx.runId, epoch, batch: counters.batch, step: counters.step, seed: config.seed, best: counters.best, epochsWithoutImprovement: counters.epochsWithoutImprovement, record },
    });
  } finally {
    // the iteration counter is a fresh scalar; the moments are the optimizer's own variables (an engine's are all fresh)
    tf.dispose(optimizerState.filter((s) => fromElsewhere !== undefined || s.name === 'iter').map((s) => s.tensor));
  }
}
