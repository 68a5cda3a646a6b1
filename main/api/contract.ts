/**
 * The one contract of Effitune: every call and event, declared once as zod schemas.
 * Electron IPC, HTTP + WebSocket and the CLI are adapters over this table; none holds logic.
 * Types used anywhere else in the app are inferred from these schemas.
 */
import { z } from 'zod';
import { call, ProjectPath } from './define';
import { dataCalls, dataEvents } from './calls-data';
import { backendCalls, backendEvents } from './calls-backend';

export { ProjectPath };

// ---------- shared shapes ----------

export const SplitName = z.enum(['train', 'val', 'test']);
export type SplitName = z.infer<typeof SplitName>;

export const ImageStatus = z.enum(['ok', 'rejected', 'duplicate']);
export type ImageStatus = z.infer<typeof ImageStatus>;

export const ProjectInfo = z.object({
  path: z.string(),
  name: z.string(),
  createdAt: z.string(),
  schemaVersion: z.number().int(),
});
export type ProjectInfo = z.infer<typeof ProjectInfo>;

export const RecentProject = z.object({
  path: z.string(),
  name: z.string(),
  openedAt: z.string(),
  exists: z.boolean(),
});
export type RecentProject = z.infer<typeof RecentProject>;

export const ClassCount = z.object({
  id: z.number().int(),
  name: z.string(),
  color: z.string(),
  count: z.number().int(),
  bySplit: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int(), none: z.number().int() }),
});
export type ClassCount = z.infer<typeof ClassCount>;

export const ProjectStatus = z.object({
  project: ProjectInfo,
  images: z.number().int().describe('usable images (status ok, not missing)'),
  labeled: z.number().int(),
  unlabeled: z.number().int(),
  rejected: z.number().int(),
  duplicates: z.number().int(),
  missing: z.number().int(),
  classes: z.array(ClassCount),
  splits: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int(), none: z.number().int() }),
  sources: z.array(z.object({ folder: z.string(), labelsFromFolders: z.boolean(), lastImportAt: z.string().nullable() })),
});
export type ProjectStatus = z.infer<typeof ProjectStatus>;

export const RejectedFile = z.object({ path: z.string(), reason: z.string() });
export const DuplicateFile = z.object({ path: z.string(), duplicateOf: z.string() });

export const ImportProgress = z.object({
  jobId: z.string(),
  phase: z.enum(['scanning', 'importing', 'finishing', 'done', 'cancelled', 'failed']),
  seen: z.number().int(),
  total: z.number().int().nullable().describe('files found so far by the scan; final once scanning ends'),
  imported: z.number().int(),
  unchanged: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  ratePerSecond: z.number(),
  elapsedSeconds: z.number(),
});
export type ImportProgress = z.infer<typeof ImportProgress>;

export const ImportResult = z.object({
  jobId: z.string(),
  folder: z.string(),
  cancelled: z.boolean(),
  seen: z.number().int(),
  imported: z.number().int(),
  unchanged: z.number().int().describe('already in the project and not changed since (incremental re-import)'),
  updated: z.number().int().describe('changed on disk since the last import, re-read'),
  duplicate: z.number().int(),
  rejected: z.number().int(),
  missing: z.number().int().describe('files imported earlier from this folder that are gone now'),
  duplicates: z.array(DuplicateFile),
  rejections: z.array(RejectedFile),
  classes: z.array(z.object({ name: z.string(), count: z.number().int() })),
  elapsedSeconds: z.number(),
  imagesPerSecond: z.number(),
});
export type ImportResult = z.infer<typeof ImportResult>;

export const ImageFilter = z.object({
  classId: z.number().int().optional(),
  unlabeled: z.boolean().optional(),
  status: ImageStatus.optional().describe('default: ok'),
  missing: z.boolean().optional(),
  split: SplitName.optional(),
  search: z.string().optional().describe('substring of the path'),
});
export type ImageFilter = z.infer<typeof ImageFilter>;

export const ImageSummary = z.object({
  id: z.number().int(),
  path: z.string(),
  status: ImageStatus,
  classId: z.number().int().nullable(),
  className: z.string().nullable(),
  split: SplitName.nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  missing: z.boolean(),
  hasThumbnail: z.boolean(),
  reason: z.string().nullable(),
});
export type ImageSummary = z.infer<typeof ImageSummary>;

export const ImageDetail = ImageSummary.extend({
  bytes: z.number().int(),
  format: z.string().nullable(),
  hash: z.string().nullable(),
  modifiedAt: z.string().nullable(),
  importedAt: z.string(),
  labelSource: z.string().nullable(),
  duplicateOf: z.object({ id: z.number().int(), path: z.string() }).nullable(),
});
export type ImageDetail = z.infer<typeof ImageDetail>;

export const DirEntry = z.object({ name: z.string(), path: z.string(), isDirectory: z.boolean() });

// ---------- models and pretrained weights ----------

export const VariantId = z.string().trim().min(1, 'variant is required').describe('b0..b7, v2-b0..v2-b3, v2-s, v2-m, v2-l, or a custom "phi=<n>[,alpha=..,beta=..,gamma=..]"');
export const BatchSize = z.number().int().min(1).max(4096).default(32);

export const WeightsFormat = z.enum(['keras-h5', 'timm-safetensors']);

/** A pretrained weights file in the app's cache (<dataDir>/weights/<id>/). */
export const LocalWeights = z.object({
  id: z.string().describe('folder name in the weights cache'),
  variant: z.string(),
  includeTop: z.boolean().describe('true when the file has the classifier'),
  classes: z.number().int().nullable().describe("the file's classifier size; null without top"),
  format: WeightsFormat,
  file: z.string().describe('absolute path of the cached file'),
  bytes: z.number().int(),
  md5: z.string(),
  source: z.enum(['download', 'import']),
  origin: z.string().describe('the URL it came from, or the path it was imported from'),
  verified: z.boolean().describe("its MD5 equals the published checksum of a Keras applications file"),
  timmModel: z.string().nullable().describe('timm architecture name of a .safetensors file'),
  addedAt: z.string(),
});
export type LocalWeights = z.infer<typeof LocalWeights>;

/** A published file Effitune can download (Keras applications ImageNet weights). */
export const PretrainedFile = z.object({
  variant: z.string(),
  includeTop: z.boolean(),
  fileName: z.string(),
  url: z.string(),
  md5: z.string(),
  local: z.boolean().describe('already in the weights cache'),
});
export type PretrainedFile = z.infer<typeof PretrainedFile>;

export const VariantFigures = z.object({
  id: z.string(),
  name: z.string(),
  family: z.enum(['v1', 'v2']),
  resolution: z.number().int(),
  params: z.number().int().describe('trainable parameters with a 1000-class head'),
  flops: z.number().describe('multiply-adds of one image at this resolution'),
  trainingMemoryBytes: z.number().describe('estimated bytes of one training step at this batch size'),
  batch: z.number().int(),
  top1: z.number().nullable().describe('published ImageNet top-1 (%)'),
  width: z.number(),
  depth: z.number(),
  dropout: z.number(),
  blocks: z.number().int(),
  weights: z.array(LocalWeights).describe('pretrained weights for this variant in the local cache'),
  pretrained: z.array(PretrainedFile).describe('published files that can be downloaded for it'),
});
export type VariantFigures = z.infer<typeof VariantFigures>;

export const CustomScaling = z.object({
  phi: z.number().finite(),
  alpha: z.number().finite().default(1.2),
  beta: z.number().finite().default(1.1),
  gamma: z.number().finite().default(1.15),
});

export const WeightsProgress = z.object({
  jobId: z.string(),
  variant: z.string(),
  includeTop: z.boolean(),
  fileName: z.string(),
  url: z.string(),
  phase: z.enum(['connecting', 'downloading', 'verifying', 'done', 'failed', 'cancelled']),
  receivedBytes: z.number().int(),
  totalBytes: z.number().int().nullable(),
  resumedFrom: z.number().int().describe('bytes kept from an earlier, interrupted download'),
  bytesPerSecond: z.number(),
  elapsedSeconds: z.number(),
});
export type WeightsProgress = z.infer<typeof WeightsProgress>;

export const Prediction = z.object({
  source: z.string().describe('image path, or "<file.npy>[i]"'),
  top: z.array(z.object({ index: z.number().int(), label: z.string(), probability: z.number() })),
  probabilities: z.array(z.number()),
});
export type Prediction = z.infer<typeof Prediction>;

// ---------- calls ----------

// Calls of later areas (models, training, ...) live in main/api/calls-<area>.ts, each built with
// `call` from ./define and spread into this table, so every area's schemas stay in one small file.
export const calls = {
  ...dataCalls,
  ...backendCalls,
  'app.info': call(z.object({}), z.object({ version: z.string(), dataDir: z.string(), platform: z.string(), mode: z.enum(['electron', 'browser', 'cli']) }), 'Version and data folder of the app'),
  'project.create': call(z.object({ path: ProjectPath, name: z.string().trim().min(1).max(200).optional() }), ProjectInfo, 'Create a new .effitune project file'),
  'project.open': call(z.object({ path: ProjectPath }), ProjectInfo, 'Open an existing project (runs migrations)'),
  'project.recent': call(z.object({}), z.object({ projects: z.array(RecentProject) }), 'Recently opened projects'),
  'project.rename': call(z.object({ project: ProjectPath, name: z.string().trim().min(1).max(200) }), ProjectInfo, 'Rename a project (its display name; the file stays)'),
  'project.close': call(z.object({ project: ProjectPath }), z.object({ closed: z.boolean() }), 'Close a project and release its file'),
  'project.status': call(z.object({ project: ProjectPath }), ProjectStatus, 'Totals per class, split and status'),
  'import.folder': call(
    z.object({
      project: ProjectPath,
      folder: z.string().trim().min(1, 'folder is required'),
      labelsFromFolders: z.boolean().default(true),
      jobId: z.string().min(1).max(100).optional().describe('chosen by the caller so it can cancel and follow progress'),
    }),
    ImportResult,
    'Import (or incrementally re-import) a folder of images',
  ),
  'import.cancel': call(z.object({ jobId: z.string() }), z.object({ cancelled: z.boolean() }), 'Cancel a running import'),
  'images.list': call(
    z.object({ project: ProjectPath, filter: ImageFilter.default({}), offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(5000).default(200) }),
    z.object({ total: z.number().int(), items: z.array(ImageSummary) }),
    'A page of images matching a filter, in stable order',
  ),
  'images.get': call(z.object({ project: ProjectPath, id: z.number().int() }), ImageDetail, 'Everything known about one image'),
  'sample.create': call(
    z.object({ path: ProjectPath, imagesPerClass: z.number().int().min(2).max(500).default(24) }),
    z.object({ project: ProjectInfo, folder: z.string(), import: ImportResult }),
    'Create a sample project from generated shapes so a newcomer sees the app working',
  ),
  'fs.list': call(z.object({ path: z.string().optional() }), z.object({ path: z.string(), parent: z.string().nullable(), entries: z.array(DirEntry) }), 'Folders and project files in a folder (for pickers in browser mode)'),
  'models.list': call(
    z.object({ batch: BatchSize }),
    z.object({ batch: z.number().int(), variants: z.array(VariantFigures) }),
    'Every published variant: resolution, parameters, FLOPs, training memory at a batch size, top-1, local weights',
  ),
  'models.describe': call(
    z
      .object({ variant: VariantId.optional(), custom: CustomScaling.optional(), batch: BatchSize, resolution: z.number().int().min(16).max(2048).optional() })
      .refine((v) => (v.variant === undefined) !== (v.custom === undefined), { message: 'give either variant or custom {phi, alpha, beta, gamma}, not both' }),
    VariantFigures.extend({
      scaling: z
        .object({ phi: z.number(), alpha: z.number(), beta: z.number(), gamma: z.number(), flopsGrowthPerPhi: z.number().describe('α·β²·γ², ≈ 2 in the paper') })
        .nullable(),
    }),
    'Figures for one variant, named or a custom compound scaling (the φ slider)',
  ),
  'models.predict': call(
    z
      .object({
        model: z.string().trim().min(1, 'model folder is required'),
        npy: z.string().trim().min(1).optional().describe('NHWC float32 .npy of RGB pixels 0..255'),
        images: z.array(z.string().trim().min(1)).optional(),
        top: z.number().int().min(1).max(1000).default(5),
        backend: z.enum(['cpu', 'wasm', 'webgpu']).optional().describe("default: the process's current backend, else cpu"),
      })
      .refine((v) => (v.npy === undefined) !== (v.images === undefined || v.images.length === 0), { message: 'give either an .npy file or image files' }),
    z.object({
      model: z.object({ dir: z.string(), variant: z.string().nullable(), height: z.number().int(), width: z.number().int(), classes: z.number().int(), labels: z.string().nullable() }),
      input: z.object({ kind: z.enum(['npy', 'images']), shape: z.array(z.number().int()), resize: z.string().nullable() }),
      predictions: z.array(Prediction),
      warnings: z.array(z.string()),
      backend: z.string(),
      elapsedSeconds: z.number(),
    }),
    'Class probabilities of a TF.js model folder for an .npy of pixels or image files',
  ),
  'weights.list': call(
    z.object({}),
    z.object({ dir: z.string(), weights: z.array(LocalWeights), catalogue: z.array(PretrainedFile) }),
    'Pretrained weights in the local cache, and the published files that can be downloaded',
  ),
  'weights.download': call(
    z.object({ variant: VariantId, includeTop: z.boolean().default(true), jobId: z.string().min(1).max(100).optional() }),
    z.object({ weights: LocalWeights, alreadyPresent: z.boolean(), downloadedBytes: z.number().int(), resumedFrom: z.number().int(), elapsedSeconds: z.number() }),
    'Download a published weights file (resumable, MD5-checked) into the cache; the only call that uses the network',
  ),
  'weights.cancel': call(z.object({ jobId: z.string() }), z.object({ cancelled: z.boolean() }), 'Cancel a running download (the partial file is kept for resuming)'),
  'weights.importFile': call(
    z.object({ file: z.string().trim().min(1, 'file is required'), variant: VariantId.optional(), timmModel: z.string().trim().min(1).optional() }),
    z.object({ weights: LocalWeights, alreadyPresent: z.boolean(), notes: z.array(z.string()) }),
    'Check a .h5 / .safetensors weights file and copy it into the cache (offline machines)',
  ),
  'weights.convert': call(
    z.object({
      file: z.string().trim().min(1, 'file is required'),
      out: z.string().trim().min(1, 'output folder is required'),
      variant: VariantId.optional(),
      classes: z.number().int().min(1).max(100_000).optional().describe("classifier size; a count other than the file's gets a new head"),
      resolution: z.number().int().min(16).max(2048).optional(),
      timmModel: z.string().trim().min(1).optional(),
      seed: z.number().int().optional().describe('seeds a new head'),
      overwrite: z.boolean().default(false),
    }),
    z.object({
      out: z.string(),
      files: z.array(z.string()),
      bytes: z.number().int(),
      variant: z.string(),
      resolution: z.number().int(),
      classes: z.number().int(),
      headLoaded: z.boolean(),
      format: WeightsFormat,
      notes: z.array(z.string()),
    }),
    'Build a model from a weights file and write it as a TF.js model folder (model.json + weights.bin)',
  ),
} as const;

export type CallName = keyof typeof calls;
export type CallInput<N extends CallName> = z.input<(typeof calls)[N]['input']>;
export type CallArgs<N extends CallName> = z.output<(typeof calls)[N]['input']>;
export type CallOutput<N extends CallName> = z.output<(typeof calls)[N]['output']>;

// ---------- events ----------

export const events = {
  ...dataEvents,
  ...backendEvents,
  'import.progress': ImportProgress,
  'project.changed': z.object({ project: z.string() }),
  'weights.progress': WeightsProgress,
} as const;

export type EventName = keyof typeof events;
export type EventPayload<N extends EventName> = z.infer<(typeof events)[N]>;

// ---------- errors ----------

export const ErrorCode = z.enum(['invalid_input', 'not_found', 'already_exists', 'not_a_project', 'busy', 'cancelled', 'io_error', 'internal']);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiErrorShape = z.object({ code: ErrorCode, message: z.string(), details: z.unknown().optional() });
export type ApiErrorShape = z.infer<typeof ApiErrorShape>;

/** A typed error every door turns into words for the user. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  toJSON(): ApiErrorShape {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Validate a call's input at a door; zod issues become one readable message naming the field. */
export function parseInput<N extends CallName>(name: N, input: unknown): CallArgs<N> {
  const schema = calls[name]?.input;
  if (!schema) throw new ApiError('not_found', `unknown call "${String(name)}"`);
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data as CallArgs<N>;
  const words = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
  throw new ApiError('invalid_input', `invalid input for ${name}: ${words}`, result.error.issues);
}

export function isCallName(name: string): name is CallName {
  return Object.prototype.hasOwnProperty.call(calls, name);
}

export function toErrorShape(err: unknown): ApiErrorShape {
  if (err instanceof ApiError) return err.toJSON();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}
