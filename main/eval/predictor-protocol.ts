/**
 * Messages between the service (predictor-client.ts) and its predictor process
 * (predictor-process.ts). JSON over the worker channel; every message is parsed on arrival.
 * Probabilities and pixels travel as plain number arrays (JSON has no typed arrays).
 */
import { z } from 'zod';
import { BackendName } from '../contract/calls-backend';
import { ProviderName } from '../contract/calls-inference';
import { ErrorCode } from '../contract/contract';

const ModelRef = z.object({ dir: z.string(), resolution: z.number().int(), classes: z.number().int() });
const Job = z.object({ job: z.number().int(), model: ModelRef, backend: BackendName.optional(), provider: ProviderName.optional() });

// pathBytes: base64 of the raw path of a name that is not UTF-8 (dataset/file-name-bytes.ts)
export const PredictorRequest = z.discriminatedUnion('type', [
  Job.extend({ type: z.literal('files'), images: z.array(z.object({ id: z.number().int(), path: z.string(), format: z.string().nullable().optional(), pathBytes: z.string().optional() })) }),
  Job.extend({ type: z.literal('pixels'), pixels: z.array(z.number()) }),
  // a project closed: let go of the sessions and models of files under its folder (no answer)
  z.object({ type: z.literal('release'), job: z.number().int(), dir: z.string() }),
]);
export type PredictorRequest = z.infer<typeof PredictorRequest>;

const Skipped = z.object({ id: z.number().int(), path: z.string(), reason: z.string() });

export const PredictorMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('batch'), job: z.number().int(), results: z.array(z.object({ id: z.number().int(), probs: z.array(z.number()) })), done: z.number().int(), total: z.number().int() }),
  z.object({ type: z.literal('filesDone'), job: z.number().int(), skipped: z.array(Skipped), backend: z.string() }),
  z.object({ type: z.literal('pixelsDone'), job: z.number().int(), probs: z.array(z.number()) }),
  z.object({ type: z.literal('failed'), job: z.number().int(), code: ErrorCode, message: z.string() }),
]);
export type PredictorMessage = z.infer<typeof PredictorMessage>;
