/**
 * The one contract of Effitune: every call and event, declared once as zod schemas.
 * Electron IPC, HTTP + WebSocket and the CLI are adapters over this table; none holds logic.
 * Types used anywhere else in the app are inferred from these schemas.
 */
import { z } from 'zod';
import { ProjectPath, SplitName } from './define';
import { projectCalls, projectEvents } from './calls-project';
import { importCalls, importEvents } from './calls-import';
import { imageCalls } from './calls-images';
import { dataCalls, dataEvents } from './calls-data';
import { backendCalls, backendEvents } from './calls-backend';
import { inferenceCalls, inferenceEvents } from './calls-inference';
import { modelCalls, modelEvents } from './calls-models';
import { trainCalls, trainEvents } from './calls-train';
import { evalCalls, evalEvents } from './calls-eval';
import { exportCalls, exportEvents } from './calls-export';
import { labelCalls, labelEvents } from './calls-labels';
import { handoffCalls, handoffEvents } from './calls-handoff';
import { scalingCalls, scalingEvents } from './calls-scaling';

export { ProjectPath };

// ---------- shared shapes ----------

export { SplitName };
export type SplitName = z.infer<typeof SplitName>;

// shapes used across the app (renderer, CLI, engine rooms) are importable from here too
export { ClassCount, DirEntry, ProjectInfo, ProjectStatus, RecentProject } from './calls-project';
export { DuplicateFile, ImportProgress, ImportResult, RejectedFile } from './calls-import';
export { ImageDetail, ImageFilter, ImageStatus, ImageSummary } from './calls-images';
export { BatchSize, CustomScaling, LocalWeights, Prediction, PretrainedFile, VariantFigures, VariantId, WeightsFormat, WeightsProgress } from './calls-models';

// ---------- calls ----------

// Every area's calls live in main/contract/calls-<area>.ts, each built with `call` from ./define and
// spread into this table, so every area's schemas stay in one small file.
export const calls = {
  ...dataCalls,
  ...backendCalls,
  ...inferenceCalls,
  ...projectCalls,
  ...importCalls,
  ...imageCalls,
  ...modelCalls,
  ...trainCalls,
  ...evalCalls,
  ...exportCalls,
  ...labelCalls,
  ...scalingCalls,
  ...handoffCalls,
} as const;

export type CallName = keyof typeof calls;
export type CallInput<N extends CallName> = z.input<(typeof calls)[N]['input']>;
export type CallArgs<N extends CallName> = z.output<(typeof calls)[N]['input']>;
export type CallOutput<N extends CallName> = z.output<(typeof calls)[N]['output']>;

// ---------- events ----------

export const events = {
  ...dataEvents,
  ...backendEvents,
  ...inferenceEvents,
  ...projectEvents,
  ...importEvents,
  ...modelEvents,
  ...trainEvents,
  ...evalEvents,
  ...exportEvents,
  ...labelEvents,
  ...scalingEvents,
  ...handoffEvents,
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

/**
 * Validate a call's input at a door; zod issues become one readable message naming the field. No
 * text of any call may hold a NUL byte: paths would be cut short (SQLite) or refused by Node deep
 * inside the work, and no name, label or option means one — refused here, naming the field.
 */
export function parseInput<N extends CallName>(name: N, input: unknown): CallArgs<N> {
  const schema = calls[name]?.input;
  if (!schema) throw new ApiError('not_found', `unknown call "${String(name)}"`);
  const result = schema.safeParse(input ?? {});
  if (result.success) {
    // after the schema's own checks, so a field with a more specific message (project paths) keeps it
    const nul = fieldWithNul(result.data);
    if (nul !== null) throw new ApiError('invalid_input', `invalid input for ${name}: ${nul || 'input'}: cannot contain a NUL byte (\\0)`);
    return result.data as CallArgs<N>;
  }
  const words = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
  throw new ApiError('invalid_input', `invalid input for ${name}: ${words}`, result.error.issues);
}

/** The path (a.b.0) of the first text holding a NUL byte, '' for the input itself, null when none does. */
function fieldWithNul(value: unknown, path: string[] = [], depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\0') ? path.join('.') : null;
  if (value === null || typeof value !== 'object' || depth > 8) return null;
  for (const [key, item] of Object.entries(value)) {
    const found = fieldWithNul(item, [...path, key], depth + 1);
    if (found !== null) return found;
  }
  return null;
}

export function isCallName(name: string): name is CallName {
  return Object.prototype.hasOwnProperty.call(calls, name);
}

export function toErrorShape(err: unknown): ApiErrorShape {
  if (err instanceof ApiError) return err.toJSON();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}
