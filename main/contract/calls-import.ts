/**
 * Contract of importing images: a folder (again and again: re-imports are incremental), its
 * progress while it runs, cancelling it, and the sample project a newcomer starts with.
 */
import { z } from 'zod';
import { call, ProjectPath } from './define';
import { ProjectInfo } from './calls-project';

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

export const importCalls = {
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
  'sample.create': call(
    z.object({ path: ProjectPath, imagesPerClass: z.number().int().min(2).max(500).default(24) }),
    z.object({ project: ProjectInfo, folder: z.string(), import: ImportResult }),
    'Create a sample project from generated shapes so a newcomer sees the app working',
  ),
} as const;

export const importEvents = {
  'import.progress': ImportProgress,
} as const;
