/**
 * The messages between the service's Estimator (estimate.ts) and its worker (estimate-process.ts):
 * one request, then exactly one answer (measured or failed), then the worker exits. Separate from
 * the trainer's protocol (main/contract/calls-train.ts), which stays exactly as it is.
 */
import { z } from 'zod';
import { BackendName } from '../contract/calls-backend';
import { TrainConfig } from '../contract/calls-train';

export const EstimateRequest = z.object({
  type: z.literal('measure'),
  project: z.string(),
  /** the resolved configuration the run would have (config.batch null: chosen from memory, as a run does) */
  config: TrainConfig,
  /** the backend asked for; null: the default, as a run picks it */
  backend: BackendName.nullable(),
  /** training images now: the automatic batch is at most this */
  trainImages: z.number().int(),
});
export type EstimateRequest = z.infer<typeof EstimateRequest>;

export const BackendInfo = z.object({
  name: BackendName,
  device: z.string(),
  memoryBytes: z.number().nullable(),
  memorySource: z.string().nullable(),
  /** webgpu: the largest storage binding (the engine's arenas must each fit one) */
  maxBindingBytes: z.number().optional(),
});
export type BackendInfo = z.infer<typeof BackendInfo>;

/** What the worker timed, per piece of an epoch; extrapolate() in estimate.ts turns it into epochs. */
export const Measurement = z.object({
  batch: z.number().int(),
  batchReason: z.string(),
  /** seconds of one optimizer step at `batch` (image modes: on pixels; head: the classifier on features) */
  stepSeconds: z.number(),
  timedSteps: z.number().int(),
  /** how much longer the first step took than the others (kernel compilation, memory pools): once per run */
  warmupSeconds: z.number(),
  /** seconds of one evaluation forward pass of a batch (validation) */
  evalBatchSeconds: z.number(),
  /** seconds of one training-mode forward pass of a batch (BatchNorm recalibration), when BatchNorm trains */
  bnBatchSeconds: z.number().nullable(),
  /** head mode: seconds of the backbone on one batch of images */
  backboneBatchSeconds: z.number().nullable(),
  /** writing one epoch's checkpoint (model, optimizer state, state file, fsyncs) */
  checkpointSeconds: z.number(),
  /** seconds per image of the data pipeline with the run's augmentation (null: no training image read) */
  decodeTrainSeconds: z.number().nullable(),
  /** seconds per image with the evaluation preprocessing */
  decodeEvalSeconds: z.number().nullable(),
  /** head mode: the embeddings cache key of this backbone */
  weightsKey: z.string().nullable(),
  /** engine 'effitune': what timed the steps (the engine's plan, in words); absent for TF.js steps */
  engine: z.string().optional(),
  /** engine 'effitune': the bytes of its arenas (every tensor of a step, and of the forward plan it validates on), its real memory */
  engineArenaBytes: z.number().optional(),
});
export type Measurement = z.infer<typeof Measurement>;

export const EstimateAnswer = z.discriminatedUnion('type', [
  z.object({ type: z.literal('measured'), backend: BackendInfo, measurement: Measurement }),
  z.object({ type: z.literal('failed'), code: z.string(), message: z.string() }),
]);
export type EstimateAnswer = z.infer<typeof EstimateAnswer>;
