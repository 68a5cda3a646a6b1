/**
 * Contract of browsing a project's images: a page of them matching a filter, and one in detail.
 * The pixels themselves travel outside the contract (each door's media URL, see client.ts).
 */
import { z } from 'zod';
import { call, ProjectPath, SplitName } from './define';

/** Far more than anyone types into a search box; SQLite refuses LIKE patterns past 50,000 bytes. */
export const MAX_SEARCH_LENGTH = 1000;

export const ImageStatus = z.enum(['ok', 'rejected', 'duplicate']);
export type ImageStatus = z.infer<typeof ImageStatus>;

export const ImageFilter = z.object({
  classId: z.number().int().optional(),
  unlabeled: z.boolean().optional(),
  status: ImageStatus.optional().describe('default: ok'),
  missing: z.boolean().optional(),
  split: SplitName.optional(),
  search: z
    .string()
    .max(MAX_SEARCH_LENGTH, `a search is at most ${MAX_SEARCH_LENGTH} characters (a part of the image path)`)
    .optional()
    .describe('substring of the path'),
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

export const imageCalls = {
  'images.list': call(
    z.object({ project: ProjectPath, filter: ImageFilter.default({}), offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(5000).default(200) }),
    z.object({ total: z.number().int(), items: z.array(ImageSummary) }),
    'A page of images matching a filter, in stable order',
  ),
  'images.get': call(z.object({ project: ProjectPath, id: z.number().int() }), ImageDetail, 'Everything known about one image'),
} as const;
