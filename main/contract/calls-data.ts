/**
 * Contract of the data side of training: the train/validation/test split, the augmentation settings
 * the data pipeline understands, and the records of training runs (runs and their epochs).
 * The trainer's own calls (start, pause, ...) live in their own table; they reuse these shapes.
 */
import { z } from 'zod';
import { call, ProjectPath } from './define';

// ---------- split ----------

const Fraction = z.number({ error: 'must be a number' }).min(0, 'must be at least 0').lt(1, 'must be below 1 (it is a fraction of each class)');

export const SplitSeed = z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be at least 0').max(4_294_967_295, 'must be at most 4294967295');

export const SplitFractions = z.object({ train: z.number(), val: z.number(), test: z.number() });

/** What the last split used; kept in the project so the next split (new images) can use the same. */
export const SplitParams = z.object({
  val: z.number(),
  test: z.number(),
  seed: z.number().int(),
  splitAt: z.string().describe('when the split last ran'),
  testDealtAt: z.string().nullable().describe('when the current test split was dealt (first split or a reset); null while no image is in test'),
  testLocked: z.boolean().describe('re-splitting keeps every test image in test unless resetTest is asked for'),
});
export type SplitParams = z.infer<typeof SplitParams>;

export const SplitClassCounts = z.object({
  id: z.number().int(),
  name: z.string(),
  total: z.number().int().describe('usable labeled images of the class (status ok, file present)'),
  train: z.number().int(),
  val: z.number().int(),
  test: z.number().int(),
  unsplit: z.number().int(),
  fractions: SplitFractions.describe('share of the class in each split (0 when the class is empty)'),
});
export type SplitClassCounts = z.infer<typeof SplitClassCounts>;

export const SplitSummary = z.object({
  params: SplitParams.nullable().describe('null before the first split'),
  classes: z.array(SplitClassCounts),
  totals: z.object({ images: z.number().int(), train: z.number().int(), val: z.number().int(), test: z.number().int(), unsplit: z.number().int() }),
  unlabeled: z.number().int().describe('usable images without a class: never split'),
  locked: z.boolean().describe('the test split is locked by the user (split.lock): nothing enters or leaves it'),
  warnings: z.array(z.string()).describe('classes too small to train on, in words'),
});
export type SplitSummary = z.infer<typeof SplitSummary>;

export const SplitResult = SplitSummary.extend({
  assigned: z.number().int().describe('images that had no split and got one'),
  moved: z.number().int().describe('images moved from one split to another'),
  reshuffled: z.boolean().describe('train and validation were dealt again (fractions or seed changed, or asked for)'),
  testReset: z.boolean(),
  notes: z.array(z.string()),
});
export type SplitResult = z.infer<typeof SplitResult>;

export const SplitInput = z
  .object({
    project: ProjectPath,
    val: Fraction.optional().describe('validation fraction of each class; default: the last split\'s, else 0.15'),
    test: Fraction.optional().describe("test fraction of each class; default: the last split's, else 0.15"),
    seed: SplitSeed.optional().describe("default: the last split's, else 1"),
    resetTest: z.boolean().default(false).describe('deal the test split again (it is otherwise kept across re-splits)'),
    reshuffle: z.boolean().optional().describe('deal train/validation again; default: only when val or seed changed'),
  })
  .refine((v) => v.val === undefined || v.test === undefined || v.val + v.test < 1, {
    path: ['val'],
    message: 'val + test must be below 1 so that each class keeps images to train on',
  });

// ---------- augmentation ----------

/** Training augmentation; evaluation never augments. Defaults suit fine-tuning on a few hundred images per class. */
export const Augmentation = z
  .object({
    randomCrop: z.boolean().default(true).describe('random resized crop; off: shorter side to the resolution, centre crop'),
    scaleMin: z.number().gt(0).max(1).default(0.08).describe('smallest crop area as a fraction of the image (0.25 keeps more context on small data)'),
    scaleMax: z.number().gt(0).max(1).default(1),
    ratioMin: z.number().gt(0).default(3 / 4).describe('crop aspect ratio (width / height) range'),
    ratioMax: z.number().gt(0).default(4 / 3),
    flip: z.boolean().default(true).describe('horizontal flip with probability 1/2'),
    rotationDegrees: z.number().min(0).max(180).default(10).describe('uniform rotation in ± degrees; borders are mirrored'),
    brightness: z.number().min(0).max(1).default(0.2).describe('factor drawn from [1 - x, 1 + x]'),
    contrast: z.number().min(0).max(1).default(0.2),
    saturation: z.number().min(0).max(1).default(0.2),
  })
  .refine((a) => a.scaleMin <= a.scaleMax, { path: ['scaleMin'], message: 'must not be above scaleMax' })
  .refine((a) => a.ratioMin <= a.ratioMax, { path: ['ratioMin'], message: 'must not be above ratioMax' });
export type Augmentation = z.output<typeof Augmentation>;

// ---------- skipped images ----------

/** An image left out of training, evaluation or prediction, and why (missing file, unreadable, class unknown to the run). */
export const SkippedImage = z.object({ id: z.number().int(), path: z.string(), reason: z.string() });
export type SkippedImage = z.infer<typeof SkippedImage>;

// ---------- runs ----------

export const RunStatus = z.enum(['queued', 'running', 'paused', 'completed', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatus>;

/**
 * The statuses in which a run has ended: no trainer works on it and it has a finished_at. A failed
 * or cancelled run may still run again (train --resume); only a completed one never does.
 */
export const FinalRunStatus = RunStatus.extract(['completed', 'failed', 'cancelled']);
export type FinalRunStatus = z.infer<typeof FinalRunStatus>;

export function isFinalRunStatus(status: RunStatus): status is FinalRunStatus {
  return FinalRunStatus.safeParse(status).success;
}

export const EpochRecord = z.object({
  epoch: z.number().int(),
  trainLoss: z.number().nullable().describe('null when the loss was not a finite number'),
  trainAcc: z.number().nullable(),
  valLoss: z.number().nullable().describe('null without a validation split'),
  valAcc: z.number().nullable(),
  imagesPerSecond: z.number(),
  seconds: z.number(),
  lr: z.number(),
  batch: z.number().int(),
  at: z.string(),
});
export type EpochRecord = z.infer<typeof EpochRecord>;

/**
 * How the model a run keeps compares with guessing: a run whose validation accuracy is not above
 * chance (1 / classes) or not above always answering the largest validation class has learned
 * nothing that helps, whatever its status says.
 */
export const RunBaseline = z.object({
  valAcc: z.number().describe('validation accuracy of the epoch whose model the run keeps (the best validation loss, else the last epoch)'),
  chance: z.number().describe('1 / classes: guessing at random'),
  majority: z.number().nullable().describe("share of the largest class in the run's validation split: always answering that class; null when unknown"),
  majorityClass: z.string().nullable(),
  aboveBaseline: z.boolean().describe('valAcc is above chance and above the majority share'),
  warning: z.string().nullable().describe('when not above: what the model scores against guessing, in words'),
});
export type RunBaseline = z.infer<typeof RunBaseline>;

export const RunRecord = z.object({
  id: z.number().int(),
  createdAt: z.string(),
  status: RunStatus,
  reason: z.string().nullable().describe('why the run ended or paused, in words'),
  config: z.record(z.string(), z.unknown()).describe('the training configuration, as the trainer stored it'),
  backend: z.string().nullable(),
  variant: z.string(),
  resolution: z.number().int(),
  classes: z.array(z.string()).describe('class names in the order of the model outputs'),
  bestEpoch: z.number().int().nullable(),
  bestValLoss: z.number().nullable(),
  checkpointDir: z.string().nullable(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  epochCount: z.number().int(),
  lastEpoch: EpochRecord.nullable(),
  baseline: RunBaseline.nullable().describe('the kept model against guessing; null while no epoch has a validation accuracy'),
});
export type RunRecord = z.infer<typeof RunRecord>;

// ---------- calls ----------

export const dataCalls = {
  'split.run': call(SplitInput, SplitResult, 'Stratified train/validation/test split per class, with a seed; the test split stays fixed across re-splits'),
  'split.get': call(z.object({ project: ProjectPath }), SplitSummary, 'The current split: parameters and counts per class'),
  'runs.list': call(
    z.object({ project: ProjectPath, status: RunStatus.optional(), limit: z.number().int().min(1).max(1000).default(100) }),
    z.object({ runs: z.array(RunRecord) }),
    'Training runs of a project, newest first',
  ),
  'runs.get': call(z.object({ project: ProjectPath, id: z.number().int() }), z.object({ run: RunRecord, epochs: z.array(EpochRecord) }), 'One training run and its epoch history'),
  'runs.delete': call(
    z.object({ project: ProjectPath, id: z.number().int('must be a whole number').min(1, 'must be a run id (1 or more)') }),
    z.object({ id: z.number().int(), folder: z.string().describe('the run folder that was removed (<project>.d/runs/<id>)'), folderExisted: z.boolean() }),
    "Delete a run for good: its record, epochs, notes, predictions, evaluations and export records, and its folder of checkpoints and model; packages exported elsewhere stay. Refused (busy) while the run trains, is paused or queued",
  ),
} as const;

export const dataEvents = {
  'runs.deleted': z.object({ project: z.string(), runId: z.number().int() }),
} as const;
