/**
 * Contract of labeling: classes (create, rename, recolour, reorder, merge, delete), labels of images
 * (set, clear, exclude from training), splits moved by hand and the test-split lock, the persisted
 * undo/redo journal, label import/export (CSV, JSON) and export of the labeled data as class folders.
 * Every change is one transaction that also writes its undo entry (edits table) and the per-image
 * history (label_history: who, when, source), so a crash loses nothing and undo survives restarts.
 */
import { z } from 'zod';
import { call, ProjectPath, SplitName } from './define';

/** A class by id (the UI) or by name (the CLI, scripts). */
export const ClassRef = z.union([z.number().int(), z.string().trim().min(1, 'class name is required')]);
export type ClassRef = z.infer<typeof ClassRef>;

/**
 * Characters a class name may not hold: slashes (it becomes a folder name on export), control
 * characters (Cc), and invisible format characters (Cf) and line/paragraph separators, among them
 * the bidi overrides and isolates (U+202A..U+202E, U+2066..U+2069) and marks (U+200E/F) that make
 * a name read differently from what it is in lists, CSV files and folder names. The zero-width
 * joiner and non-joiner (U+200C/D) stay allowed: Persian, Indic scripts and emoji need them.
 */
const FORBIDDEN_IN_CLASS_NAME = /[/\\\p{Cc}\p{Zl}\p{Zp}]|(?![\u200c\u200d])\p{Cf}/u;

/** A character as U+XXXX, so a message never carries the invisible character itself. */
function codePointName(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A name with its control and invisible characters written <U+XXXX>, safe to show in a message. */
export function visibleName(name: string): string {
  return name.replace(new RegExp(FORBIDDEN_IN_CLASS_NAME.source, 'gu'), (ch) => (ch === '/' || ch === '\\' ? ch : `<${codePointName(ch)}>`));
}

/** Why a (trimmed) name cannot be a class name, in words; undefined when it can. */
export function classNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'class name must not be empty';
  if (name.length > 100) return 'class name must be at most 100 characters';
  const bad = FORBIDDEN_IN_CLASS_NAME.exec(name)?.[0];
  if (bad === undefined) return undefined;
  const rule = 'class name must not contain control characters or slashes (it becomes a folder name on export)';
  if (bad === '/' || bad === '\\') return rule;
  if (/\p{Cc}/u.test(bad)) return `${rule}; "${visibleName(name)}" has ${codePointName(bad)}`;
  return `class name "${visibleName(name)}" must not contain invisible or text-direction characters (they make it read as something else); remove ${codePointName(bad)}`;
}

/** Trimmed, 1..100 characters, any language; unique ignoring case (checked by the handler). */
export const ClassName = z
  .string()
  .trim()
  .superRefine((name, ctx) => {
    const problem = classNameProblem(name);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

export const Color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'colour must look like #1f77b4');

export const ClassInfo = z.object({ id: z.number().int(), name: z.string(), color: z.string(), position: z.number().int(), count: z.number().int() });
export type ClassInfo = z.infer<typeof ClassInfo>;

/** One undoable action, as the undo/redo menu shows it. */
export const EditInfo = z.object({ id: z.number().int(), at: z.string(), kind: z.string(), summary: z.string(), undone: z.boolean() });
export type EditInfo = z.infer<typeof EditInfo>;

export const LabelSource = z.enum(['user', 'model']);

export const LabelHistoryEntry = z.object({
  at: z.string(),
  fromClass: z.string().nullable(),
  toClass: z.string().nullable(),
  source: z.string().describe('user, folder, model, csv, json, merge, delete, undo, redo'),
  who: z.string(),
});

const ImageIds = z.array(z.number().int()).min(1, 'select at least one image').max(100_000);

export const LabelFileFormat = z.enum(['csv', 'json']);

export const LabelImportResult = z.object({
  rows: z.number().int(),
  labeled: z.number().int().describe('images whose label changed'),
  unchanged: z.number().int(),
  createdClasses: z.array(z.string()),
  unknown: z.array(z.object({ line: z.number().int(), key: z.string() })).describe('paths or hashes not in the project (reported, not fatal)'),
  errors: z.array(z.object({ line: z.number().int(), message: z.string() })).describe('rows that could not be read'),
  edit: EditInfo.nullable(),
  seconds: z.number(),
});
export type LabelImportResult = z.infer<typeof LabelImportResult>;

const Edited = z.object({ edit: EditInfo.nullable().describe('null when nothing changed') });

// ---------- calls ----------

export const labelCalls = {
  'classes.list': call(z.object({ project: ProjectPath }), z.object({ classes: z.array(ClassInfo) }), 'Classes in their order, with image counts'),
  'classes.create': call(z.object({ project: ProjectPath, name: ClassName, color: Color.optional() }), Edited.extend({ class: ClassInfo }), 'Create a class'),
  'classes.rename': call(z.object({ project: ProjectPath, class: ClassRef, name: ClassName }), Edited.extend({ class: ClassInfo }), 'Rename a class'),
  'classes.recolor': call(z.object({ project: ProjectPath, class: ClassRef, color: Color }), Edited.extend({ class: ClassInfo }), 'Change the colour of a class'),
  'classes.reorder': call(
    z.object({ project: ProjectPath, order: z.array(ClassRef).min(1).describe('every class, in the new order') }),
    Edited.extend({ classes: z.array(ClassInfo) }),
    'Put the classes in a new order (number keys follow it)',
  ),
  'classes.merge': call(
    z.object({ project: ProjectPath, from: ClassRef, into: ClassRef }),
    Edited.extend({ moved: z.number().int(), class: ClassInfo }),
    'Move every image of one class into another and remove the first',
  ),
  'classes.delete': call(
    z.object({ project: ProjectPath, class: ClassRef }),
    Edited.extend({ unlabeled: z.number().int().describe('images that became unlabeled') }),
    'Delete a class; its images become unlabeled',
  ),
  'labels.set': call(
    z.object({
      project: ProjectPath,
      imageIds: ImageIds,
      class: ClassRef.nullable().describe('null removes the label'),
      source: LabelSource.default('user'),
      runId: z.number().int().optional().describe('source model: the run whose suggestion was accepted'),
      createClass: z.boolean().default(false).describe('a class given by name that does not exist is created in the same edit (the CLI)'),
    }),
    Edited.extend({ changed: z.number().int() }),
    'Label images (or clear their label)',
  ),
  'labels.exclude': call(
    z.object({ project: ProjectPath, imageIds: ImageIds, excluded: z.boolean() }),
    Edited.extend({ changed: z.number().int() }),
    'Exclude images from training and evaluation (the files stay), or include them again',
  ),
  'labels.confirm': call(
    z.object({ project: ProjectPath, imageIds: ImageIds }),
    z.object({ confirmed: z.number().int().describe('labeled images whose label was confirmed') }),
    "Confirm that images' labels are right (kept after a model disagreed): recorded in their history, and assist.disagreements no longer lists them until their label changes",
  ),
  'labels.history': call(z.object({ project: ProjectPath, imageId: z.number().int() }), z.object({ entries: z.array(LabelHistoryEntry) }), "An image's label changes, oldest first"),
  'labels.import': call(
    z.object({
      project: ProjectPath,
      file: z.string().trim().min(1, 'file is required'),
      format: LabelFileFormat.optional().describe('default: from the file extension'),
      createClasses: z.boolean().default(true).describe('create classes the file names that do not exist yet'),
    }),
    LabelImportResult,
    'Label images from a CSV (header row path,class; or hash,class) or JSON ([{path|hash, class}]) file',
  ),
  'labels.export': call(
    z.object({ project: ProjectPath, file: z.string().trim().min(1, 'file is required'), format: LabelFileFormat.optional(), force: z.boolean().default(false) }),
    z.object({ file: z.string(), rows: z.number().int() }),
    'Write every labeled image (path, hash, class, split) to a CSV or JSON file',
  ),
  'labels.exportFolders': call(
    z.object({
      project: ProjectPath,
      out: z.string().trim().min(1, 'out (the folder to write) is required'),
      mode: z.enum(['copy', 'link']).default('copy').describe('link: symbolic links to the original files'),
      bySplit: z.boolean().default(false).describe('out/<split>/<class>/ instead of out/<class>/'),
      force: z.boolean().default(false).describe('write into a folder that is not empty'),
    }),
    z.object({ dir: z.string(), images: z.number().int(), classes: z.number().int(), skipped: z.array(z.object({ path: z.string(), reason: z.string() })) }),
    'Export the labeled images as one folder per class, so the data is never locked in',
  ),
  'split.move': call(
    z.object({ project: ProjectPath, imageIds: ImageIds, split: SplitName.nullable().describe('null: no split') }),
    Edited.extend({ changed: z.number().int() }),
    'Move images between splits by hand (a later re-split keeps them there)',
  ),
  'split.lock': call(
    z.object({ project: ProjectPath, locked: z.boolean() }),
    z.object({ locked: z.boolean() }),
    'Lock the test split: while locked, nothing enters or leaves it (re-splits and hand moves are refused)',
  ),
  'edits.list': call(
    z.object({ project: ProjectPath, limit: z.number().int().min(1).max(1000).default(50) }),
    z.object({ edits: z.array(EditInfo), canUndo: z.boolean(), canRedo: z.boolean(), undoSummary: z.string().nullable(), redoSummary: z.string().nullable() }),
    'The undo/redo journal, newest first',
  ),
  'edits.undo': call(z.object({ project: ProjectPath }), Edited, 'Undo the last edit (labels, classes, merges, imports of labels)'),
  'edits.redo': call(z.object({ project: ProjectPath }), Edited, 'Redo the last undone edit'),
} as const;

export const labelEvents = {} as const;
