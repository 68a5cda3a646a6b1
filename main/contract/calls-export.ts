/**
 * Contract of export and prediction with an exported model. An export of a finished run is a folder:
 * the model (TF.js layers or ONNX), labels.json + labels.txt, model-card.md + model-card.json
 * (with the confusion matrix as an SVG), and usage examples for Node, the browser and Python.
 * It is written to a temporary folder and renamed at the end, so a failure leaves no half export,
 * and an existing folder is only replaced with force.
 */
import { z } from 'zod';
import { ProviderName } from './calls-inference';
import { call, ProjectPath } from './define';
import { ClassProbability } from './calls-eval';

export const ExportFormat = z.enum(['tfjs', 'onnx']);
export type ExportFormat = z.infer<typeof ExportFormat>;

/** none: float32 weights. float16 / uint8: weights stored in 16 or 8 bits (computation stays float32). */
export const Quantization = z.enum(['none', 'float16', 'uint8']);
export type Quantization = z.infer<typeof Quantization>;

export const ExportedFile = z.object({ path: z.string().describe('relative to the export folder'), bytes: z.number().int() });

/** Size and test accuracy of one weight precision, so the user sees what quantizing costs. */
export const PrecisionReport = z.object({
  quantize: Quantization,
  modelBytes: z.number().int().describe('bytes of the model files (graph + weights)'),
  testAccuracy: z.number().nullable().describe('top-1 accuracy on the test split; null without test images'),
  agreement: z.number().nullable().describe('fraction of test images whose top-1 class equals the float32 model\'s'),
});
export type PrecisionReport = z.infer<typeof PrecisionReport>;

export const ExportResult = z.object({
  project: z.string(),
  runId: z.number().int(),
  format: ExportFormat,
  quantize: Quantization,
  dir: z.string().describe('absolute path of the export folder'),
  files: z.array(ExportedFile),
  bytes: z.number().int().describe('all files together'),
  precisions: z.array(PrecisionReport).describe('float32 first, then the chosen quantization (when one was asked for)'),
  parity: z
    .object({ images: z.number().int(), maxAbsDiff: z.number(), top1Agree: z.boolean() })
    .nullable()
    .describe('the exported model against the app\'s model on a few images of the project (float32 export only)'),
  replaced: z.boolean().describe('an existing folder was replaced (force)'),
  seconds: z.number(),
});
export type ExportResult = z.infer<typeof ExportResult>;

export const ExportRecord = z.object({
  id: z.number().int(),
  runId: z.number().int(),
  at: z.string(),
  format: ExportFormat,
  quantize: Quantization,
  dir: z.string(),
  bytes: z.number().int(),
  testAccuracy: z.number().nullable(),
  exists: z.boolean().describe('the folder is still there'),
});
export type ExportRecord = z.infer<typeof ExportRecord>;

export const ExportProgress = z.object({
  jobId: z.string(),
  phase: z.enum(['converting', 'quantizing', 'checking', 'writing', 'done', 'failed']),
  message: z.string(),
});

/** One image run through an exported model. */
export const FilePrediction = z.object({
  path: z.string(),
  top: z.array(ClassProbability).describe('most probable first; empty when the file could not be read'),
  error: z.string().nullable().describe('why this file was not predicted (unreadable, not an image)'),
});
export type FilePrediction = z.infer<typeof FilePrediction>;

// ---------- calls ----------

export const exportCalls = {
  'export.run': call(
    z.object({
      project: ProjectPath,
      runId: z.number().int('must be a whole number').min(1, 'must be a run id (1 or more)'),
      format: ExportFormat.default('tfjs'),
      quantize: Quantization.default('none'),
      out: z.string().trim().min(1, 'out (the export folder) is required'),
      force: z.boolean().default(false).describe('replace an existing folder'),
      jobId: z.string().min(1).max(100).optional().describe('chosen by the caller to follow export.progress'),
    }),
    ExportResult,
    'Export a finished run as a self-contained folder (model, labels, model card, usage examples)',
  ),
  'export.list': call(
    z.object({ project: ProjectPath, runId: z.number().int().optional() }),
    z.object({ exports: z.array(ExportRecord) }),
    'Exports made from the runs of a project, newest first',
  ),
  'predict.files': call(
    z.object({
      modelDir: z.string().trim().min(1, 'modelDir is required').describe('an export folder (TF.js or ONNX) or a run\'s model folder'),
      paths: z.array(z.string().trim().min(1)).min(1, 'give at least one image file or folder'),
      top: z.number().int().min(1).max(100).default(5),
      csv: z.string().trim().min(1).optional().describe('also write the predictions to this CSV file'),
      force: z.boolean().default(false).describe('replace an existing CSV file (a plain file only; never a folder)'),
      provider: ProviderName.optional().describe('force an ONNX Runtime execution provider; default: the best that loads on real hardware'),
    }),
    z.object({
      format: ExportFormat,
      classes: z.array(z.string()),
      resolution: z.number().int(),
      predictions: z.array(FilePrediction),
      csv: z.string().nullable(),
      imagesPerSecond: z.number(),
      ranOn: z.string().describe("what computed: 'onnxruntime:<provider>' or 'tfjs:<backend>' (TF.js where ONNX Runtime cannot load)"),
    }),
    'Predict image files (folders are searched recursively) with an exported model, same preprocessing as training',
  ),
} as const;

export const exportEvents = {
  'export.progress': ExportProgress,
} as const;
