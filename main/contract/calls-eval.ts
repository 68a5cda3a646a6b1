/**
 * Contract of evaluation and model-assisted labeling: the metrics of a finished run on a split
 * (stored in the evaluations table, recomputed only when the data or labels changed), the images
 * behind a confusion-matrix cell or among the mistakes, predicting one image file ("try an image"),
 * and suggestions of a run for unlabeled images and for likely label errors.
 * Predictions per image are cached in the predictions table (by run and content hash).
 */
import { z } from 'zod';
import { BackendName } from './calls-backend';
import { ProviderName } from './calls-inference';
import { SkippedImage } from './calls-data';
import { call, ProjectPath, SplitName } from './define';

const RunId = z.number().int('must be a whole number').min(1, 'must be a run id (1 or more)');

/** The backend predictions run on; by default the one the app already uses, else the best that can infer here. */
const PredictBackend = BackendName.optional().describe('force TF.js on this backend; default: ONNX Runtime (TF.js only where ONNX Runtime cannot load)');
/** The ONNX Runtime execution provider predictions run on; default: the best that loads on real hardware. */
const PredictProvider = ProviderName.optional().describe('force an ONNX Runtime execution provider (cuda, dml, coreml, webgpu, cpu)');

/** A split to evaluate on; train is allowed (to see over-fitting) but val and test are the usual ones. */
export const EvalSplit = SplitName;
export type EvalSplit = z.infer<typeof EvalSplit>;

export const ClassProbability = z.object({ className: z.string(), probability: z.number() });
export type ClassProbability = z.infer<typeof ClassProbability>;

/** Precision is null for a class never predicted, recall null for a class absent from the split (no division by 0). */
export const ClassMetrics = z.object({
  className: z.string(),
  precision: z.number().nullable(),
  recall: z.number().nullable(),
  f1: z.number().nullable(),
  support: z.number().int().describe('images of this class in the split'),
  predicted: z.number().int().describe('images predicted as this class'),
});
export type ClassMetrics = z.infer<typeof ClassMetrics>;

export const AveragedMetrics = z.object({ precision: z.number().nullable(), recall: z.number().nullable(), f1: z.number().nullable() });

export const Evaluation = z.object({
  project: z.string(),
  runId: z.number().int(),
  split: EvalSplit,
  classes: z.array(z.string()).describe("the run's classes in the project's class order: rows and columns of the matrix"),
  images: z.number().int().describe('images evaluated'),
  accuracy: z.number().nullable().describe('null when the split has no usable images'),
  loss: z.number().nullable().describe('mean cross-entropy'),
  topK: z.array(z.object({ k: z.number().int(), accuracy: z.number().nullable() })).describe('top-1 .. top-k accuracy, k up to min(5, classes)'),
  perClass: z.array(ClassMetrics),
  macro: AveragedMetrics.describe('unweighted mean over the classes present (in the labels or the predictions); an undefined value counts as 0 (scikit-learn zero_division=0)'),
  weighted: AveragedMetrics.describe('mean weighted by support'),
  confusion: z.array(z.array(z.number().int())).describe('rows = true class, columns = predicted class, in `classes` order'),
  skipped: z.array(SkippedImage).describe('images of the split not evaluated: missing file, unreadable, class unknown to the run'),
  backend: z.string().nullable().optional().describe("what predicted: 'onnxruntime:<provider>' or the TensorFlow.js backend; null when every prediction was already stored"),
  computedAt: z.string(),
  cached: z.boolean().describe('true when read back from the project (nothing changed since)'),
  seconds: z.number().describe('time spent computing (0 when cached)'),
});
export type Evaluation = z.infer<typeof Evaluation>;

/** One image with what a run predicted for it. */
export const PredictedImage = z.object({
  id: z.number().int(),
  path: z.string(),
  trueClass: z.string().nullable().describe('the label; null for unlabeled images'),
  predictedClass: z.string(),
  confidence: z.number().describe('probability of the predicted class'),
  correct: z.boolean().nullable().describe('null for unlabeled images'),
  top: z.array(ClassProbability).describe('the top classes, most probable first'),
});
export type PredictedImage = z.infer<typeof PredictedImage>;

export const EvalImagesInput = z.object({
  project: ProjectPath,
  runId: RunId,
  split: EvalSplit.default('test'),
  trueClass: z.string().optional().describe('only images of this class (a confusion-matrix row)'),
  predictedClass: z.string().optional().describe('only images predicted as this class (a column)'),
  mistakesOnly: z.boolean().default(false),
  order: z.enum(['confidence-desc', 'confidence-asc', 'path']).default('confidence-desc').describe('mistakes gallery: most confident mistakes first'),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1000).default(100),
  backend: PredictBackend,
  provider: PredictProvider,
});

/** "Try an image": a file on disk, or its bytes (browser mode: dropped or picked in the page). */
export const PredictImageInput = z
  .object({
    project: ProjectPath,
    runId: RunId,
    path: z.string().trim().min(1).optional().describe('an image file on this machine'),
    dataBase64: z.string().min(1).max(70_000_000).optional().describe('the image bytes, base64 (at most ~50 MB)'),
    name: z.string().optional().describe('file name of dataBase64, for messages'),
    top: z.number().int().min(1).max(100).default(5),
    backend: PredictBackend,
    provider: PredictProvider,
  })
  .refine((v) => (v.path === undefined) !== (v.dataBase64 === undefined), { path: ['path'], message: 'give exactly one of path or dataBase64' });

/** What "try an image" answers: the top classes, how long the prediction took, and the image's size (EXIF orientation applied). */
export const PredictImageResult = z.object({ top: z.array(ClassProbability), milliseconds: z.number(), width: z.number().int(), height: z.number().int() });
export type PredictImageResult = z.infer<typeof PredictImageResult>;

/** A page of model-assisted labeling, and the images that could not be predicted (missing or unreadable files). */
export const AssistList = z.object({ total: z.number().int(), items: z.array(PredictedImage), skipped: z.array(SkippedImage) });
export type AssistList = z.infer<typeof AssistList>;

export const SuggestionOrder = z.enum(['uncertain', 'confident']).describe('uncertain: least confident first (each label teaches the most)');

/** Progress of predicting images with a run (evaluating a split, or suggesting for unlabeled images). */
export const PredictProgress = z.object({
  project: z.string(),
  runId: z.number().int(),
  purpose: z.enum(['eval', 'assist']),
  done: z.number().int(),
  total: z.number().int().describe('images to predict (cached ones are not counted)'),
});
export type PredictProgress = z.infer<typeof PredictProgress>;

// ---------- calls ----------

export const evalCalls = {
  'eval.run': call(
    z.object({
      project: ProjectPath,
      runId: RunId,
      split: EvalSplit.default('test'),
      recompute: z.boolean().default(false).describe('ignore the stored evaluation'),
      predictAgain: z.boolean().default(false).describe('predict every image again (e.g. on another provider) instead of reusing the stored predictions; implies recompute'),
      backend: PredictBackend,
      provider: PredictProvider,
    }),
    Evaluation,
    "Accuracy, top-k, per-class precision/recall/F1, averages and the confusion matrix of a finished run on a split",
  ),
  'eval.images': call(EvalImagesInput, z.object({ total: z.number().int(), items: z.array(PredictedImage) }), 'The evaluated images of a split with their predictions: a confusion-matrix cell, a class, or the mistakes'),
  'eval.predictImage': call(
    PredictImageInput,
    PredictImageResult,
    "Run a finished run's model on one image file, with the same preprocessing as training",
  ),
  'assist.suggestions': call(
    z.object({
      project: ProjectPath,
      runId: RunId,
      order: SuggestionOrder.default('uncertain'),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(1000).default(100),
      backend: PredictBackend,
      provider: PredictProvider,
    }),
    AssistList,
    'Suggested classes for the unlabeled images (predicted once and stored), least confident first by default',
  ),
  'assist.disagreements': call(
    z.object({
      project: ProjectPath,
      runId: RunId,
      minConfidence: z.number().min(0).max(1).default(0.9).describe('only predictions at least this confident'),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(1000).default(100),
      backend: PredictBackend,
      provider: PredictProvider,
    }),
    AssistList,
    'Labeled images whose label differs from a confident prediction (likely label errors), most confident first',
  ),
} as const;

export const evalEvents = {
  'predict.progress': PredictProgress,
} as const;
