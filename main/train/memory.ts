/**
 * Memory: the batch size a run starts with, and what happens when a step runs out of memory.
 *
 * The start batch is the largest power of two (at most 32, the recipe's, and at most the training
 * set) whose estimated training-step memory (describeVariant → trainingMemoryBytes, measured for
 * tf.js; for a run on the Effitune engine, the arenas of its step plan and of the forward plan it
 * validates on, counted exactly) fits a share of
 * the backend's memory. When a step still fails for lack of memory, the run
 * halves the batch and retries the same step (trainer loop), and says so.
 *
 * For tests and for trying the recovery on purpose, two environment variables of the trainer:
 *   EFFITUNE_TRAIN_MEMORY_BYTES=<bytes>  use this as the backend's memory;
 *   EFFITUNE_TRAIN_FAULT=oom@<step>[,exit@<step>][,nan@<step>][,forward-oom@<epoch>]  throw an
 *     out-of-memory error once at that optimizer step (0-based, counted over the run), exit the
 *     process with code 7 there, or from that step on read every loss, the steps' and the
 *     validation's, as NaN (a run that diverged: epoch-end.ts stops it); forward-oom: at the end
 *     of that epoch (0-based) the engine's forward plan of Precise BN and validation does not fit
 *     the GPU beside its step (image-training.ts falls back to TF.js for them).
 */
import { ApiError } from '../contract/contract';
import type { EngineBinding } from './engine-options';
import { describeVariant, topTrainingMemory } from '../model/estimates';
import { describeLayers } from '../model/layers';
import type { VariantSpec } from '../model/variants';

export const MAX_AUTO_BATCH = 32;
/**
 * On a CPU backend, a top-N step past 16 images gets slower per image, not faster: measured for
 * B0 top-3 at 224 px on WASM (`npm run bench -- train-top`), 7.3 / 10.2 / 12.5 / 10.6 images/s of
 * the top's step at batch 4 / 8 / 16 / 32 — the top's activations then no longer fit the caches.
 */
export const MAX_AUTO_BATCH_CPU_TOP = 16;
/** share of the backend's memory a training step may plan for: the rest is the backend's own, the data pipeline's, the OS's */
const SHARE_OF_MEMORY = { cpu: 0.5, gpu: 0.7 } as const;

export interface BatchChoice {
  batch: number;
  /** in words, for the run's notes */
  reason: string;
}

export function chooseBatchSize(options: {
  variant: VariantSpec;
  resolution: number;
  classes: number;
  trainImages: number;
  memoryBytes: number | null;
  memorySource: string | null;
  onGpu: boolean;
  /** top-N mode with the frozen trunk on ONNX Runtime: the first block that trains (only from there on costs training memory) */
  trainFrom?: string | null;
  /** a run the Effitune engine trains: its step's memory at a batch, counted from its plan (engine-steps.ts engineStepBytes), instead of TF.js's estimate */
  engineBytes?: (batch: number) => number;
  /** and whether its plans fit the GPU's storage bindings at a batch (engine-options.ts engineBinding) */
  engineBinding?: EngineBinding;
}): BatchChoice {
  const most = options.trainFrom && !options.onGpu ? MAX_AUTO_BATCH_CPU_TOP : MAX_AUTO_BATCH;
  const cap = Math.max(1, Math.min(most, largestPowerOfTwoAtMost(options.trainImages)));
  if (options.memoryBytes === null) return { batch: cap, reason: `batch ${cap}: the backend reports no memory size, so the recipe's batch (at most ${most}, at most the training images) is tried and halved if it does not fit` };
  const budget = options.memoryBytes * (options.onGpu ? SHARE_OF_MEMORY.gpu : SHARE_OF_MEMORY.cpu);
  // the engine's plan is counted at each batch tried; TF.js's estimate is linear in the batch: a
  // fixed part (weights, gradients, moments) + per-image activations
  const need = options.engineBytes ?? linearInBatch((b) => stepMemoryBytes(options, b));
  let batch = cap;
  while (batch > 1 && need(batch) > budget) batch /= 2;
  // each arena of a plan must also fit what the GPU's storage bindings hold (arena-pages.ts); where not even batch 1 fits, the engine cannot start and the run falls back to TF.js at this batch
  const binding = options.engineBinding;
  if (binding && !binding.fits(batch) && binding.fits(1)) {
    const tried = batch;
    while (!binding.fits(batch)) batch /= 2;
    return { batch, reason: `batch ${batch}: the Effitune engine's plans at batch ${tried} do not fit what this GPU's storage bindings hold for one of their arenas (${formatBytes(binding.maxArenaBytes)}); batch ${batch} does${options.engineBytes ? ` and needs about ${formatBytes(need(batch))}` : ''}` };
  }
  const share = `${Math.round((options.onGpu ? SHARE_OF_MEMORY.gpu : SHARE_OF_MEMORY.cpu) * 100)} % of ${formatBytes(options.memoryBytes)} (${options.memorySource ?? 'backend memory'})`;
  const needed = need(batch);
  if (needed > budget) return { batch: 1, reason: `batch 1: even one image needs about ${formatBytes(needed)} to train, more than ${share}; the run may run out of memory` };
  const what = options.engineBytes
    ? "the Effitune engine's training step with its validation plan (their arenas)"
    : options.trainFrom
      ? `a training step of the top from ${options.trainFrom} on (the frozen trunk runs on ONNX Runtime)`
      : 'a training step';
  return { batch, reason: `batch ${batch}: ${what} needs about ${formatBytes(needed)}, within ${share}` };
}

function linearInBatch(bytes: (batch: number) => number): (batch: number) => number {
  const one = bytes(1);
  const perImage = bytes(2) - one;
  return (batch) => one - perImage + perImage * batch;
}

/** Estimated memory of one training step: the whole model's, or the top's when the trunk runs on ONNX Runtime (trainFrom). */
export function stepMemoryBytes(options: { variant: VariantSpec; resolution: number; classes: number; trainFrom?: string | null }, batch: number): number {
  const { variant, resolution, classes } = options;
  if (!options.trainFrom) return describeVariant(variant, batch, { resolution, classes }).trainingMemoryBytes;
  return topTrainingMemory(describeLayers(variant, { resolution, classes }), batch, options.trainFrom).total;
}

/** Errors of the backends that mean "not enough memory": TF's OOM, WebGPU/WebGL allocation, a JS ArrayBuffer that cannot be made. */
export function isOutOfMemory(err: unknown): boolean {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return /out of memory|\bOOM\b|failed to allocate|allocation failed|cannot allocate|Array buffer allocation failed|Invalid typed array length|Invalid array buffer length|exceeds the max buffer size|GPUOutOfMemoryError/i.test(message);
}

export class OutOfMemoryFault extends Error {
  constructor(step: number) {
    super(`OOM when allocating a tensor at step ${step} (injected by EFFITUNE_TRAIN_FAULT)`);
    this.name = 'OutOfMemoryFault';
  }
}

/** Faults to inject, read from EFFITUNE_TRAIN_FAULT; each fires once. */
export class FaultPlan {
  private readonly oomSteps = new Set<number>();
  private readonly exitSteps = new Set<number>();
  private nanFrom: number | null = null;
  private readonly forwardOomEpochs = new Set<number>();

  constructor(spec: string | undefined) {
    for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
      const match = /^(oom|exit|nan|forward-oom)@(\d+)$/.exec(part);
      if (!match) throw new ApiError('invalid_input', `EFFITUNE_TRAIN_FAULT: cannot read "${part}"; expected oom@<step>, exit@<step>, nan@<step> or forward-oom@<epoch>`);
      if (match[1] === 'nan') this.nanFrom = Number(match[2]);
      else if (match[1] === 'forward-oom') this.forwardOomEpochs.add(Number(match[2]));
      else (match[1] === 'oom' ? this.oomSteps : this.exitSteps).add(Number(match[2]));
    }
  }

  /** Called before each optimizer step. */
  beforeStep(step: number): void {
    if (this.exitSteps.delete(step)) process.exit(7);
    if (this.oomSteps.delete(step)) throw new OutOfMemoryFault(step);
  }

  /** Whether the engine's forward plan is to run out of memory at the end of this epoch (once). */
  forwardOutOfMemory(epoch: number): boolean {
    return this.forwardOomEpochs.delete(epoch);
  }

  /** The loss a step's metrics report: NaN from the nan@ step on (a diverged run stays diverged). */
  lossAfter(step: number, loss: number): number {
    return this.nanFrom !== null && step >= this.nanFrom ? NaN : loss;
  }
}

/** EFFITUNE_TRAIN_MEMORY_BYTES, when set, replaces what the backend reports. */
export function memoryOverride(): number | null {
  const raw = process.env.EFFITUNE_TRAIN_MEMORY_BYTES;
  if (!raw) return null;
  const bytes = Number(raw);
  if (!Number.isFinite(bytes) || bytes <= 0) throw new ApiError('invalid_input', `EFFITUNE_TRAIN_MEMORY_BYTES must be a number of bytes, not "${raw}"`);
  return bytes;
}

function largestPowerOfTwoAtMost(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}
