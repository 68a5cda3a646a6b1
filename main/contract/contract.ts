/**
 * The one contract of Effitune: every call and event, declared once as zod schemas.
 * Electron IPC, HTTP + WebSocket and the CLI are adapters over this table; none holds logic.
 * Types used anywhere else in the app are inferred from these schemas.
 */
import { z } from 'zod';
import { call, ProjectPath, SplitName } from './define';
import { dataCalls, dataEvents } from './calls-data';
import { backendCalls, backendEvents } from './calls-backend';
import { modelCalls, modelEvents } from './calls-models';
import { trainCalls, trainEvents } from './calls-train';
import { evalCalls, evalEvents } from './calls-eval';
import { exportCalls, exportEvents } from './calls-export';
import { labelCalls, labelEvents } from './calls-labels';

// the model shapes are used across the app (renderer model picker, CLI): importable from here too
export { BatchSize, CustomScaling, LocalWeights, Prediction, PretrainedFile, VariantFigures, VariantId, WeightsFormat, WeightsProgress } from './calls-models';

export { ProjectPath };

// ---------- shared shapes ----------

export { SplitName };
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
  excluded: z.number().int().describe('usable images excluded from training by the user: not in images, labeled, classes or splits'),
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
  excluded: z.boolean().optional().describe('true: only images excluded from training; false: only the others; default: both'),
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
  excluded: z.boolean().describe('excluded from training and evaluation by the user'),
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


// ---------- calls ----------

// Calls of later areas (models, training, ...) live in main/contract/calls-<area>.ts, each built with
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
  ...modelCalls,
  ...trainCalls,
  ...evalCalls,
  ...exportCalls,
  ...labelCalls,
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
  ...modelEvents,
  ...trainEvents,
  ...evalEvents,
  ...exportEvents,
  ...labelEvents,
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
