/**
 * Building blocks of the contract, shared by main/contract/contract.ts and the per-area call tables
 * (main/contract/calls-*.ts) so that those tables never import contract.ts (no import cycle).
 */
import { z } from 'zod';

/** A split of a project's labeled images (contract.ts re-exports it). */
export const SplitName = z.enum(['train', 'val', 'test']);

export const ProjectPath = z.string().trim().min(1, 'project path is required');

/** One call of the contract: input and output schemas plus a sentence for help texts. */
export function call<I extends z.ZodType, O extends z.ZodType>(input: I, output: O, summary: string) {
  return { input, output, summary };
}
