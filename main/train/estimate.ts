/**
 * train.estimate: how long a run with these options would take here and how much memory it needs,
 * before it starts. The options are checked exactly as train.start checks them (same errors), then
 * an estimator worker (estimate-process.ts, started like a trainer, so the service never blocks)
 * builds the run's model on the backend the run would use and times its pieces: training steps,
 * validation, BatchNorm recalibration, the checkpoint, the data pipeline on the project's own images,
 * and in head mode the backbone pass over images whose features are not cached.
 * extrapolate() turns those timings into an epoch and a run.
 *
 * Measurements are kept for the service's lifetime per (project, model, resolution, mode, batch,
 * backend, and what else changes the timed work), and so is what each requested backend turned out
 * to be, so asking again after a change of epochs, or going back to an earlier choice, answers at
 * once. One worker measures at a time (two cores measuring each other would measure nothing);
 * identical requests share one measurement, and a request still waiting its turn is cancelled when
 * a newer one of the same project arrives.
 */
import { formatSeconds } from '../contract/units';
import { ApiError, ErrorCode } from '../contract/contract';
import type { BackendName } from '../contract/calls-backend';
import type { TrainConfig, TrainEstimate } from '../contract/calls-train';
import { getVariant, type VariantSpec } from '../model/variants';
import type { Database } from '../project/database';
import type { ProjectRegistry } from '../project/registry';
import { listRuns } from '../project/runs';
import type { ParsedTrainOptions } from './config';
import { checkNewRun } from './new-run';
import { EstimateAnswer, type BackendInfo, type EstimateRequest, type Measurement } from './estimate-protocol';
import { chooseBatchSize, formatBytes, stepMemoryBytes } from './memory';
import { engineBindingOn, engineStepBytesOn } from './engine-options';
import { plannedTopStart } from './top-start';
import { launchWorker, workerEnv, type LaunchedWorker } from '../workers/process-launcher';

/** A worker still measuring after this is stuck (or the model is far too large for this machine). */
export const ESTIMATE_TIMEOUT_MS = 5 * 60_000;
/** Images whose BatchNorm statistics are recomputed after each epoch (precise-batch-norm.ts PRECISE_BN_IMAGES: a constant of its own here, so the service never loads TensorFlow.js). */
const PRECISE_BN_IMAGES = 256;
const OUTPUT_TAIL = 4096;

export interface EstimatorOptions {
  projects: ProjectRegistry;
  /** extra environment of the workers (tests: EFFITUNE_TRAIN_MEMORY_BYTES), as the trainers get */
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface EstimateCounts {
  trainImages: number;
  valImages: number;
  /** head mode: images whose features are not cached for this backbone */
  uncachedImages: number;
}

export class Estimator {
  /** what each requested backend ('auto' or a name) turned out to be here */
  private readonly backends = new Map<string, BackendInfo>();
  private readonly measurements = new Map<string, Measurement>();
  private readonly pending = new Map<string, Promise<{ backend: BackendInfo; measurement: Measurement }>>();
  private queue: Promise<unknown> = Promise.resolve();
  /** per project, the request waiting for its turn in the queue */
  private readonly waiting = new Map<string, { superseded: boolean }>();
  /** the workers measuring now, to stop when the service closes */
  private readonly workers = new Set<LaunchedWorker>();
  /** workers stopped by cancel(): their end is reported as cancelled, not as a crash */
  private readonly cancelled = new WeakSet<LaunchedWorker>();

  constructor(private readonly options: EstimatorOptions) {}

  /** Stop any measuring worker (the service is closing); their callers get an error. */
  /** Stop every measurement in flight (the user cancelled it); their callers get 'cancelled'. Returns how many stopped. */
  cancel(): number {
    const stopped = this.workers.size;
    for (const worker of this.workers) {
      this.cancelled.add(worker);
      worker.kill('SIGKILL');
    }
    return stopped;
  }

  close(): void {
    for (const worker of this.workers) worker.kill('SIGKILL');
  }

  async estimate(project: string, options: ParsedTrainOptions): Promise<TrainEstimate> {
    const handle = this.options.projects.get(project);
    // the same checks, in the same order, and the same defaults (fitted to the project's images) as train.start
    const { config, variant, trainable } = checkNewRun(handle, options);
    const requested = options.backend ?? 'auto';
    // a run on a subset trains and validates on that many images
    const trainImages = Math.min(trainable.train, config.subset?.train ?? Infinity);
    const valImages = Math.min(trainable.val, config.subset?.val ?? Infinity);

    let found = this.cached(handle.path, config, variant, requested, trainImages);
    if (!found) {
      try {
        found = await this.measure({ type: 'measure', project: handle.path, config, backend: options.backend ?? null, trainImages }, requested, variant);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'cancelled') throw err;
        const history = historyEstimate(handle.db, config, variant, options.backend ?? null, trainImages, valImages);
        if (history) return history;
        throw err;
      }
    }
    const uncached = config.mode === 'head' ? uncachedImages(handle.db, config, found.measurement.weightsKey) : 0;
    return extrapolate(found.measurement, found.backend, config, variant, { trainImages, valImages, uncachedImages: uncached });
  }

  /** A kept measurement for this request, when the backend it would use is known already. */
  private cached(project: string, config: TrainConfig, variant: VariantSpec, requested: string, trainImages: number): { backend: BackendInfo; measurement: Measurement } | null {
    const backend = this.backends.get(requested);
    if (!backend) return null;
    const batch = config.batch ?? this.autoBatch(config, variant, backend, trainImages);
    const measurement = this.measurements.get(measurementKey(project, config, backend.name, batch));
    return measurement ? { backend, measurement } : null;
  }

  private autoBatch(config: TrainConfig, variant: VariantSpec, backend: BackendInfo, trainImages: number): number {
    const override = Number(this.options.env?.EFFITUNE_TRAIN_MEMORY_BYTES ?? process.env.EFFITUNE_TRAIN_MEMORY_BYTES);
    const memoryBytes = Number.isFinite(override) && override > 0 ? override : backend.memoryBytes;
    const onGpu = backend.name !== 'cpu' && backend.name !== 'wasm' && backend.name !== 'tfjs-node';
    const engineBytes = engineStepBytesOn(config, variant, backend.name);
    const engineBinding = engineBindingOn(config, variant, backend);
    return chooseBatchSize({ variant, resolution: config.resolution, classes: config.classes.length, trainImages, memoryBytes, memorySource: backend.memorySource, onGpu, trainFrom: plannedTopStart(config, variant), engineBytes, engineBinding }).batch;
  }

  private measure(request: EstimateRequest, requested: string, variant: VariantSpec): Promise<{ backend: BackendInfo; measurement: Measurement }> {
    const key = JSON.stringify([requested, request.trainImages, measurementKey(request.project, request.config, '', request.config.batch ?? 0)]);
    const running = this.pending.get(key);
    if (running) return running;
    // a newer choice of the same project replaces one still waiting its turn (the UI asks on every change)
    const ticket = { superseded: false };
    const waiting = this.waiting.get(request.project);
    if (waiting) waiting.superseded = true;
    this.waiting.set(request.project, ticket);
    const next = this.queue.then(async () => {
      if (this.waiting.get(request.project) === ticket) this.waiting.delete(request.project);
      if (ticket.superseded) throw new ApiError('cancelled', 'a newer estimate of this project was asked for before measuring this one began');
      const result = await runEstimator(request, this.options.env, this.options.timeoutMs ?? ESTIMATE_TIMEOUT_MS, this.workers, this.cancelled);
      this.backends.set(requested, result.backend);
      const { config } = request;
      this.measurements.set(measurementKey(request.project, config, result.backend.name, result.measurement.batch), result.measurement);
      // also under the batch the run would start with, when out of memory halved it while measuring
      const start = config.batch ?? this.autoBatch(config, variant, result.backend, request.trainImages);
      this.measurements.set(measurementKey(request.project, config, result.backend.name, start), result.measurement);
      return result;
    });
    this.queue = next.catch(() => undefined);
    this.pending.set(key, next);
    void next.finally(() => this.pending.delete(key)).catch(() => undefined);
    return next;
  }
}

/** What changes the timed work: the model, its input, the mode, the batch, the backend and who computes the steps on it (and in what precision), the data preprocessing, and (head mode) the backbone weights. */
export function measurementKey(project: string, config: TrainConfig, backend: BackendName | '', batch: number): string {
  const { model, resolution, mode, topBlocks, freezeBatchNorm, weights, seed, augment, optimizer } = config;
  return JSON.stringify([project, model, resolution, mode, batch, backend, config.engine ?? null, config.precision ?? 'fp32', topBlocks, freezeBatchNorm, optimizer, mode === 'head' ? [weights, seed] : augment]);
}

/** Start an estimator worker, send it the request, and wait for its one answer. */
function runEstimator(
  request: EstimateRequest,
  env: Record<string, string> | undefined,
  timeoutMs: number,
  workers: Set<LaunchedWorker>,
  cancelled: WeakSet<LaunchedWorker>,
): Promise<{ backend: BackendInfo; measurement: Measurement }> {
  return new Promise((resolve, reject) => {
    const worker = launchWorker('estimator', { env: workerEnv(env) });
    workers.add(worker);
    let output = '';
    let settled = false;
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
      if (process.env.EFFITUNE_TRAINER_LOG === '1') process.stderr.write(chunk);
    };
    worker.stdout?.on('data', keep);
    worker.stderr?.on('data', keep);
    const settle = (outcome: () => void) => {
      workers.delete(worker);
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const timer = setTimeout(() => {
      settle(() => reject(new ApiError('internal', `measuring ${request.config.model} at ${request.config.resolution} px did not finish within ${Math.round(timeoutMs / 1000)} s; the model is probably too large for this backend`)));
      worker.kill('SIGKILL');
    }, timeoutMs);
    worker.onMessage((raw) => {
      const parsed = EstimateAnswer.safeParse(raw);
      if (!parsed.success) return;
      const answer = parsed.data;
      if (answer.type === 'measured') settle(() => resolve({ backend: answer.backend, measurement: answer.measurement }));
      else settle(() => reject(new ApiError(ErrorCode.safeParse(answer.code).data ?? 'internal', answer.message)));
    });
    worker.onExit(({ code, signal }, error) => {
      if (cancelled.has(worker)) return settle(() => reject(new ApiError('cancelled', `measuring ${request.config.model} at ${request.config.resolution} px was cancelled`)));
      const last = output.split('\n').map((l) => l.trim()).filter(Boolean).at(-1);
      const how = error ? `it could not be started: ${error.message}` : signal ? `killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory?)' : ''}` : `exit code ${code}`;
      settle(() => reject(new ApiError('internal', `the estimator process ended without an answer (${how})${last ? `; it last printed: ${last.slice(0, 300)}` : ''}`)));
    });
    worker.send(request);
  });
}

/** Labeled train/val images of the run's classes whose backbone features are not cached under this key. */
export function uncachedImages(db: Database, config: TrainConfig, weightsKey: string | null): number {
  const row = db
    .prepare(
      `SELECT COUNT(*) AS images,
              COALESCE(SUM(EXISTS (SELECT 1 FROM embeddings e WHERE e.hash = i.hash AND e.weights_key = ? AND e.resolution = ?)), 0) AS cached
       FROM images i JOIN classes c ON c.id = i.class_id
       WHERE i.status = 'ok' AND i.split IN ('train', 'val') AND c.name IN (SELECT value FROM json_each(?))`,
    )
    .get(weightsKey ?? '', config.resolution, JSON.stringify(config.classes)) as { images: number; cached: number };
  return row.images - row.cached;
}

/**
 * An epoch from its timed pieces. The data pipeline prepares batches while the backend computes, so
 * a phase that reads images takes the longer of the two; validation, the BatchNorm recalibration
 * (while BatchNorm trains) and the checkpoint come after the training steps of every epoch.
 */
export function extrapolate(m: Measurement, backend: BackendInfo, config: TrainConfig, variant: VariantSpec, counts: EstimateCounts): TrainEstimate {
  const { trainImages, valImages } = counts;
  const batch = m.batch;
  const stepsPerEpoch = Math.ceil(trainImages / batch);
  const batchesOf = (images: number) => Math.ceil(images / batch);
  let secondsPerEpoch: number;
  let embeddingSeconds = 0;
  if (config.mode === 'head') {
    // features are in memory: no decoding per epoch; validation is one pass over the val features
    secondsPerEpoch = stepsPerEpoch * m.stepSeconds + batchesOf(valImages) * m.evalBatchSeconds + m.checkpointSeconds;
    embeddingSeconds = counts.uncachedImages * ((m.backboneBatchSeconds ?? 0) / batch + (m.decodeEvalSeconds ?? 0));
  } else {
    const decodeTrain = m.decodeTrainSeconds ?? 0;
    const decodeEval = m.decodeEvalSeconds ?? 0;
    const train = Math.max(stepsPerEpoch * m.stepSeconds, trainImages * decodeTrain);
    const validation = Math.max(batchesOf(valImages) * m.evalBatchSeconds, valImages * decodeEval);
    const bnImages = Math.min(PRECISE_BN_IMAGES, trainImages);
    const recalibration = m.bnBatchSeconds === null ? 0 : Math.max(batchesOf(bnImages) * m.bnBatchSeconds, bnImages * decodeEval);
    secondsPerEpoch = train + validation + recalibration + m.checkpointSeconds;
  }
  // the first step of a run is slower (kernel compilation, memory pools): once, not every epoch
  const secondsTotal = config.epochs * secondsPerEpoch + embeddingSeconds + m.warmupSeconds;
  // the engine's arena is what it holds on the GPU; TF.js's need is the model's estimate
  // (measured on TF.js, also where an engine run would fall back to it, the estimate is TF.js's)
  const memoryBytes = m.engineArenaBytes ?? stepMemoryBytes({ variant, resolution: config.resolution, classes: config.classes.length, trainFrom: plannedTopStart(config, variant) }, batch);
  const estimate: TrainEstimate = {
    backend: backend.name,
    device: backend.device,
    batch,
    batchReason: m.batchReason,
    trainImages,
    valImages,
    epochs: config.epochs,
    stepsPerEpoch,
    secondsPerStep: m.stepSeconds,
    secondsPerEpoch,
    embeddingSeconds,
    uncachedImages: counts.uncachedImages,
    warmupSeconds: m.warmupSeconds,
    secondsTotal,
    memoryBytes,
    backendMemoryBytes: backend.memoryBytes,
    basis: 'measured',
    measuredSteps: m.timedSteps,
    explanation: '',
  };
  return { ...estimate, explanation: explain(estimate, config, m.engine) };
}

/** The memory of one training step on `backend`: the engine's plan where the engine trains (counted), else TF.js's estimate. */
export function stepBytes(config: TrainConfig, variant: VariantSpec, backend: BackendName, batch: number): number {
  const engine = engineStepBytesOn(config, variant, backend);
  if (engine) return engine(batch);
  return stepMemoryBytes({ variant, resolution: config.resolution, classes: config.classes.length, trainFrom: plannedTopStart(config, variant) }, batch);
}

/**
 * When measuring fails (the worker crashed, a backend broke), an earlier run of the same model,
 * resolution, mode, backend and batch still says how fast a step was: the epoch from its
 * images/s, training steps only.
 */
function historyEstimate(db: Database, config: TrainConfig, variant: VariantSpec, backend: BackendName | null, trainImages: number, valImages: number): TrainEstimate | null {
  const run = listRuns(db, { limit: 200 }).find(
    (r) =>
      r.variant === config.model &&
      r.resolution === config.resolution &&
      r.config.mode === config.mode &&
      (backend === null || r.backend === backend) &&
      (config.batch === null || r.lastEpoch?.batch === config.batch) &&
      (r.lastEpoch?.imagesPerSecond ?? 0) > 0,
  );
  if (!run?.lastEpoch || !run.backend) return null;
  const { batch, imagesPerSecond } = run.lastEpoch;
  const stepsPerEpoch = Math.ceil(trainImages / batch);
  const secondsPerStep = batch / imagesPerSecond;
  const secondsPerEpoch = trainImages / imagesPerSecond;
  const estimate: TrainEstimate = {
    backend: run.backend as BackendName,
    device: `${run.backend} (as run #${run.id} used it; not measured now)`,
    batch,
    batchReason: `batch ${batch}: what run #${run.id} used`,
    trainImages,
    valImages,
    epochs: config.epochs,
    stepsPerEpoch,
    secondsPerStep,
    secondsPerEpoch,
    embeddingSeconds: 0,
    uncachedImages: 0,
    warmupSeconds: 0,
    secondsTotal: config.epochs * secondsPerEpoch,
    memoryBytes: stepBytes(config, variant, run.backend as BackendName, batch),
    backendMemoryBytes: null,
    basis: 'history',
    measuredSteps: 0,
    explanation: '',
  };
  return { ...estimate, explanation: `${explain(estimate, config)} From run #${run.id}'s speed (${imagesPerSecond.toFixed(1)} images/s): measuring failed, and validation and checkpoints are not included.` };
}

/** "About 2 min 5 s per epoch on wasm (measured), 20 epochs ≈ 41 min 40 s; ..." */
function explain(e: TrainEstimate, config: TrainConfig, engine?: string): string {
  const how = e.basis === 'measured' ? `measured: ${e.measuredSteps} timed step${e.measuredSteps === 1 ? '' : 's'} of ${formatSeconds(e.secondsPerStep)}` : 'from an earlier run';
  const embedding = e.embeddingSeconds > 0 ? `, plus ${formatSeconds(e.embeddingSeconds)} once for the backbone features of ${e.uncachedImages} uncached image${e.uncachedImages === 1 ? '' : 's'}` : '';
  const topStart = plannedTopStart(config, getVariant(config.model));
  const scope = topStart ? ` (the top from ${topStart} on; the frozen trunk runs on ONNX Runtime)` : config.mode !== 'full' ? ' (estimated for training every layer; this mode needs less)' : '';
  const memory = `${formatBytes(e.memoryBytes)} at batch ${e.batch}${scope}`;
  const room = e.backendMemoryBytes !== null ? ` of the ${formatBytes(e.backendMemoryBytes)} ${e.backend} has` : '';
  const where = engine ? `the Effitune WebGPU engine (${engine})` : e.backend;
  return (
    `About ${formatSeconds(e.secondsPerEpoch)} per epoch on ${where} (${how}, ${e.stepsPerEpoch} step${e.stepsPerEpoch === 1 ? '' : 's'} per epoch for ${e.trainImages} training images)` +
    `; ${e.epochs} epoch${e.epochs === 1 ? '' : 's'} ≈ ${formatSeconds(e.secondsTotal)}${embedding}; memory ${memory}${room}.`
  );
}
