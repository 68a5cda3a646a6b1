/**
 * Building blocks of the contract, shared by main/contract/contract.ts and the per-area call tables
 * (main/contract/calls-*.ts) so that those tables never import contract.ts (no import cycle).
 */
import { z } from 'zod';

/** A split of a project's labeled images (contract.ts re-exports it). */
export const SplitName = z.enum(['train', 'val', 'test']);

// A NUL byte cannot be in a file name: Node refuses such a path and SQLite would cut it short (another file).
export const ProjectPath = z
  .string()
  .trim()
  .min(1, 'project path is required')
  .refine((p) => !p.includes('\0'), 'a project path cannot contain a NUL byte (\\0)');

/** One call of the contract: input and output schemas plus a sentence for help texts. */
export function call<I extends z.ZodType, O extends z.ZodType>(input: I, output: O, summary: string) {
  return { input, output, summary };
}
