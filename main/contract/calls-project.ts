/**
 * Contract of the app and its projects: the app's own facts, creating, opening, renaming and closing
 * a project file, its totals, and browsing folders for the pickers of browser mode.
 */
import { z } from 'zod';
import { call, ProjectPath } from './define';

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

export const DirEntry = z.object({ name: z.string(), path: z.string(), isDirectory: z.boolean() });

const ProjectName = z.string().trim().min(1).max(200);

export const projectCalls = {
  'app.info': call(z.object({}), z.object({ version: z.string(), dataDir: z.string(), platform: z.string(), mode: z.enum(['electron', 'browser', 'cli']) }), 'Version and data folder of the app'),
  'project.create': call(z.object({ path: ProjectPath, name: ProjectName.optional() }), ProjectInfo, 'Create a new .effitune project file'),
  'project.open': call(z.object({ path: ProjectPath }), ProjectInfo, 'Open an existing project (runs migrations)'),
  'project.recent': call(z.object({}), z.object({ projects: z.array(RecentProject) }), 'Recently opened projects'),
  'project.rename': call(z.object({ project: ProjectPath, name: ProjectName }), ProjectInfo, 'Rename a project (its display name; the file stays)'),
  'project.close': call(z.object({ project: ProjectPath }), z.object({ closed: z.boolean() }), 'Close a project and release its file'),
  'project.status': call(z.object({ project: ProjectPath }), ProjectStatus, 'Totals per class, split and status'),
  'fs.list': call(z.object({ path: z.string().optional() }), z.object({ path: z.string(), parent: z.string().nullable(), entries: z.array(DirEntry) }), 'Folders and project files in a folder (for pickers in browser mode)'),
} as const;

export const projectEvents = {
  /** Something of the project changed (import, labels, split): open windows refresh their counts. */
  'project.changed': z.object({ project: z.string() }),
} as const;
