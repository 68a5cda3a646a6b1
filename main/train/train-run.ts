/**
 * One training run from its stored configuration to its end: build the model (weights or from
 * scratch), prepare the mode, resume from the last checkpoint if asked, pick the batch size, then
 * per epoch: train, validate, checkpoint, record, and stop early when the validation loss stops
 * improving. The finished run keeps the best epoch's model.
 *
 * Runs in the trainer process (trainer-process.ts) and, for tests, in any process with a backend
 * started. Everything it writes goes to the project's database (run status, epochs, notes) and the
 * run's side folder (checkpoints); everything it says goes through the RunReporter.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ApiError } from '../contract/contract';
import type { EpochRecord, RunStatus } from '../contract/calls-data';
import { TrainConfig, type TrainNote, type TrainProgress, type TrainStarted } from '../contract/calls-train';
import type { ActiveBackend } from '../backend/tfjs-backend';
import type { Database } from '../project/database';
import { discardEpochsAfter, getRun, recordEpoch, runHistory, updateRunStatus } from '../project/runs';
import { finalizeModel, findLatestCheckpoint, loadCheckpoint, pruneCheckpoints, writeCheckpoint, type CheckpointState } from './checkpoint';
import { RunCancelled, type RunControl } from './control';
import { createDataPipeline, type DataPipeline, type SkippedImage } from './data/pipeline';
import { classWeights, epochOrder } from './data/sampling';
import { checkTrainable } from './data/trainable';
import { backboneWeightsKey, computeFeatures, labeledImages, type FeatureSet } from './features';
import { chooseBatchSize, isOutOfMemory, type FaultPlan } from './memory';
import { backboneOf, buildTrainingModel, prepareForMode, trainingBatchNorms, type TrainingModel } from './model-setup';
import { createOptimizer, type NamedTensor, type TrainOptimizer } from './optimizer';
import { addRunNote } from './run-notes';
import { learningRateAt } from './schedule';
import { evaluateBatch, gatherRows, headForward, imageForward, trainStep, type Forward } from './steps';
import type { LossOptions } from './loss';

export interface RunReporter {
  started(info: Omit<TrainStarted, 'run'>): void;
  progress(progress: Omit<TrainProgress, 'project' | 'runId'>): void;
  epoch(record: EpochRecord, isBest: boolean, epochs: number): void;
  status(status: RunStatus, reason: string | null): void;
  note(note: TrainNote): void;
}

export interface RunContext {
  db: Database;
  runId: number;
  /** the run's side folder, <project>.d/runs/<id> */
  checkpointRoot: string;
  backend: ActiveBackend;
  /** continue from the last checkpoint (train.resume of a stopped run) */
  resume: boolean;
  control: RunControl;
  reporter: RunReporter;
  faults?: FaultPlan;
  /** replaces the backend's memory size when choosing the batch (EFFITUNE_TRAIN_MEMORY_BYTES) */
  memoryBytes?: number | null;
}

export interface RunResult {
  status: Extract<RunStatus, 'completed' | 'cancelled' | 'failed'>;
  reason: string;
  /** whether the run got as far as training (false: it failed while setting up) */
  started: boolean;
  modelDir: string | null;
  /** head mode: features computed now and taken from the cache */
  features: { computed: number; cached: number } | null;
}

/** Training images whose BatchNorm statistics are recomputed after each epoch (while BatchNorm trains). */
const PRECISE_BN_IMAGES = 256;

/** How often progress is reported at most. */
const PROGRESS_INTERVAL_MS = 250;

export async function trainRun(ctx: RunContext): Promise<RunResult> {
  const session = new RunSession(ctx);
  try {
    return await session.run();
  } finally {
    session.dispose();
  }
}

interface EpochTotals {
  loss: number;
  correct: number;
  images: number;
  seconds: number;
}

class RunSession {
  private readonly config: TrainConfig;
  private built: TrainingModel | null = null;
  private optimizer: TrainOptimizer | null = null;
  private classWeightTensor: tf.Tensor1D | null = null;
  private batch = 1;
  private step = 0;
  private best: CheckpointState['best'] = null;
  private epochsWithoutImprovement = 0;
  private readonly started = Date.now();
  private lastProgressAt = 0;
  private readonly epochSeconds: number[] = [];
  private readonly reportedSkips = new Set<number>();
  private features: RunResult['features'] = null;
  private startedTraining = false;

  constructor(private readonly ctx: RunContext) {
    // the run's classes by their current names (a class renamed since the run began keeps its output)
    const run = getRun(ctx.db, ctx.runId);
    this.config = { ...TrainConfig.parse(run.config), classes: run.classes };
  }

  async run(): Promise<RunResult> {
    const { config } = this;
    try {
      const startEpoch = await this.setUp();
      const stop = config.mode === 'head' ? await this.trainHead(startEpoch) : await this.trainImages(startEpoch);
      return this.finish(stop ?? (startEpoch > 0 && this.patienceUsedUp() ? `stopped early: the validation loss had not improved for ${config.patience} epochs` : null));
    } catch (err) {
      if (err instanceof RunCancelled) {
        this.setStatus('cancelled', err.reason);
        return { status: 'cancelled', reason: err.reason, started: this.startedTraining, modelDir: null, features: this.features };
      }
      const reason = failureReason(err);
      this.setStatus('failed', reason);
      return { status: 'failed', reason, started: this.startedTraining, modelDir: null, features: this.features };
    }
  }

  dispose(): void {
    this.optimizer?.dispose();
    this.built?.model.dispose();
    this.classWeightTensor?.dispose();
  }

  // ---------- set-up ----------

  private async setUp(): Promise<number> {
    const { ctx, config } = this;
    const trainable = checkTrainable({ db: ctx.db }, { classes: config.classes });
    this.setStatus('running', null, { backend: ctx.backend.name, checkpointDir: ctx.checkpointRoot });
    this.progress('starting', 0, 0, 0, null, null);
    const notes: string[] = [];

    this.built = await buildTrainingModel(config);
    ctx.control.throwIfCancelled();
    const { model, variant } = this.built;
    notes.push(...this.built.notes);
    const setup = prepareForMode(model, variant, config);
    notes.push(setup.description);

    let startEpoch = 0;
    let optimizerState: NamedTensor[] | null = null;
    let resumedFrom: number | null = null;
    if (ctx.resume) {
      const found = findLatestCheckpoint(ctx.checkpointRoot, (dir, why) => this.note('warning', `checkpoint ${path.basename(dir)} is damaged and was skipped: ${why}`));
      if (found) {
        optimizerState = await loadCheckpoint(found.dir, found.state, model);
        startEpoch = found.state.epoch + 1;
        resumedFrom = found.state.epoch;
        this.batch = found.state.batch;
        this.step = found.state.step;
        this.best = found.state.best;
        this.epochsWithoutImprovement = found.state.epochsWithoutImprovement;
        // epochs recorded after the checkpoint are trained again; a record the kill lost is restored
        discardEpochsAfter(ctx.db, ctx.runId, found.state.epoch);
        if (!runHistory(ctx.db, ctx.runId).some((e) => e.epoch === found.state.epoch)) recordEpoch(ctx.db, ctx.runId, found.state.record);
        notes.push(`resumed from the checkpoint of epoch ${found.state.epoch + 1} (${path.basename(found.dir)})`);
      } else {
        discardEpochsAfter(ctx.db, ctx.runId, -1);
        notes.push('no epoch had finished: the run starts again from epoch 1');
      }
    }
    if (resumedFrom === null) this.batch = this.chooseBatch(trainable.train, notes);

    this.optimizer = createOptimizer(config.optimizer, setup.variables, config.weightDecay);
    if (optimizerState) {
      await this.optimizer.restore(optimizerState);
      tf.dispose(optimizerState.map((s) => s.tensor));
    }
    const counts = config.classes.map((name) => trainable.classes.find((c) => c.name === name)?.train ?? 0);
    if (config.imbalance === 'weights') this.classWeightTensor = tf.tensor1d(classWeights(counts));

    for (const note of notes) this.note('info', note);
    // a new run's warnings were noted when it was created; the data may have changed since a stop
    if (ctx.resume) for (const warning of trainable.warnings) this.note('warning', warning);
    ctx.reporter.started({
      backend: ctx.backend.name,
      device: ctx.backend.device,
      batch: this.batch,
      fromScratch: this.built.fromScratch,
      resumedFromEpoch: resumedFrom,
      notes,
      warnings: trainable.warnings,
    });
    this.startedTraining = true;
    return startEpoch;
  }

  private chooseBatch(trainImages: number, notes: string[]): number {
    const { ctx, config } = this;
    if (config.batch !== null) return config.batch;
    const memoryBytes = ctx.memoryBytes ?? ctx.backend.memoryBytes;
    const choice = chooseBatchSize({
      variant: this.built!.variant,
      resolution: config.resolution,
      classes: config.classes.length,
      trainImages,
      memoryBytes,
      memorySource: ctx.memoryBytes ? 'EFFITUNE_TRAIN_MEMORY_BYTES' : ctx.backend.memorySource,
      onGpu: ctx.backend.name !== 'cpu' && ctx.backend.name !== 'wasm' && ctx.backend.name !== 'tfjs-node',
    });
    notes.push(choice.reason);
    return choice.batch;
  }

  private lossOptions(): LossOptions {
    return { classes: this.config.classes.length, labelSmoothing: this.config.labelSmoothing, classWeights: this.classWeightTensor };
  }

  // ---------- image modes (top, full) ----------

  private async trainImages(startEpoch: number): Promise<string | null> {
    const { ctx, config } = this;
    const forward = imageForward(this.built!.model);
    const shape = [config.resolution, config.resolution, 3];
    const sampling = config.imbalance === 'sampling' ? 'balanced' : 'natural';
    const pixels = shape[0] * shape[1] * shape[2];
    let train: DataPipeline | null = null;
    const val = createDataPipeline({ db: ctx.db }, { split: 'val', resolution: config.resolution, batchSize: this.batch, classes: config.classes });
    for (let epoch = startEpoch; epoch < config.epochs && !this.patienceUsedUp(); epoch++) {
      const began = performance.now();
      if (!train || train.batchSize !== this.batch) train = this.trainPipeline(sampling);
      const epochSize = train.epochSize;
      if (epochSize === 0) throw new ApiError('invalid_input', 'no training image can be read any more (all files are gone or unreadable)');
      const totals: EpochTotals = { loss: 0, correct: 0, images: 0, seconds: 0 };
      const trainStart = performance.now();
      let batchIndex = 0;
      for await (const batch of train.epoch(epoch)) {
        await this.gate();
        let last = { loss: 0, correct: 0, n: 1 };
        await this.inChunks(batch.size, async (from, n) => {
          const lr = this.lrAt(epoch, totals.images + n / 2, epochSize);
          this.ctx.faults?.beforeStep(this.step);
          const result = await trainStep(forward, this.optimizer!, this.lossOptions(), batch.x.subarray(from * pixels, (from + n) * pixels), shape, batch.y.subarray(from, from + n), lr);
          this.afterStep(totals, result, n, trainStart);
          last = { ...result, n };
        });
        this.progress('training', epoch, ++batchIndex, train.batchesPerEpoch, last.loss, last.correct / last.n, totals, epochSize);
      }
      this.reportSkips([...train.skipped, ...val.skipped]);
      totals.seconds = (performance.now() - trainStart) / 1000;
      this.progress('validating', epoch, batchIndex, batchIndex, null, null, totals, epochSize, true);
      await this.recalibrateBatchNorm(shape);
      const validation = await this.validateImages(val, forward, shape);
      const stop = await this.endEpoch(epoch, totals, validation, began);
      if (stop) return stop;
    }
    return null;
  }

  /** The training batches at the current batch size. BatchNorm statistics of one image are noise: a last batch of one is dropped while BatchNorm trains. */
  private trainPipeline(sampling: 'natural' | 'balanced'): DataPipeline {
    const { ctx, config } = this;
    const options = { split: 'train' as const, resolution: config.resolution, batchSize: this.batch, classes: config.classes, augment: config.augment, sampling, seed: config.seed };
    const pipeline = createDataPipeline({ db: ctx.db }, options);
    if (config.freezeBatchNorm || this.batch === 1 || pipeline.epochSize % this.batch !== 1) return pipeline;
    return createDataPipeline({ db: ctx.db }, { ...options, dropLast: true });
  }

  /**
   * "Precise BN" (Wu & Johnson 2021; pycls, Detectron2): while BatchNorm trains, its moving averages
   * (momentum 0.99) trail the weights by hundreds of steps, so on a small data set a model evaluated
   * after a few epochs normalises with statistics of weights long gone and predicts nonsense. After
   * each epoch the statistics are recomputed as the plain average over up to PRECISE_BN_IMAGES
   * training images (un-augmented) with the current weights: momentum (k−1)/k for the k-th batch.
   */
  private async recalibrateBatchNorm(shape: number[]): Promise<void> {
    const { ctx, config } = this;
    const layers = trainingBatchNorms(this.built!.model) as unknown as { momentum: number }[];
    if (layers.length === 0) return;
    const saved = layers.map((l) => l.momentum);
    const pipeline = createDataPipeline({ db: ctx.db }, { split: 'train', resolution: config.resolution, batchSize: this.batch, classes: config.classes, shuffle: true, seed: config.seed, dropLast: this.batch > 1 });
    const model = this.built!.model;
    let images = 0;
    let k = 0;
    try {
      for await (const batch of pipeline.epoch(0)) {
        ctx.control.throwIfCancelled();
        k++;
        for (const l of layers) l.momentum = (k - 1) / k;
        tf.tidy(() => {
          model.apply(tf.tensor(batch.x, [batch.size, ...shape]), { training: true });
        });
        images += batch.size;
        if (images >= PRECISE_BN_IMAGES) break;
      }
    } finally {
      layers.forEach((l, i) => (l.momentum = saved[i]));
    }
  }

  private async validateImages(val: DataPipeline, forward: Forward, shape: number[]): Promise<{ loss: number; acc: number } | null> {
    if (val.epochSize === 0) return null;
    let loss = 0;
    let correct = 0;
    let images = 0;
    for await (const batch of val.epoch(0)) {
      this.ctx.control.throwIfCancelled();
      await this.inChunks(batch.size, async (from, n) => {
        const per = shape[0] * shape[1] * shape[2];
        const result = await evaluateBatch(forward, this.lossOptions(), batch.x.subarray(from * per, (from + n) * per), shape, batch.y.subarray(from, from + n));
        loss += result.loss;
        correct += result.correct;
        images += n;
      });
    }
    return images > 0 ? { loss: loss / images, acc: correct / images } : null;
  }

  // ---------- head mode ----------

  private async trainHead(startEpoch: number): Promise<string | null> {
    const { ctx, config } = this;
    const model = this.built!.model;
    const backbone = backboneOf(model);
    const key = { weightsKey: await backboneWeightsKey(backbone, config.model, this.built!.buildOptions), resolution: config.resolution };
    const { images, skipped } = labeledImages(ctx.db, config.classes);
    const features = await computeFeatures({
      db: ctx.db,
      backbone,
      key,
      images,
      skipped,
      batch: () => this.batch,
      runBatch: (x) => this.predictInChunks(backbone, x),
      onBatch: async (done, total) => {
        await this.gate();
        this.progress('embedding', startEpoch, done, total, null, null);
      },
    });
    this.features = { computed: features.computed, cached: features.cached };
    this.note('info', `backbone features: ${features.computed} computed, ${features.cached} from the cache`);
    this.reportSkips(features.skipped);
    if (features.train.labels.length === 0) throw new ApiError('invalid_input', 'no training image can be read any more (all files are gone or unreadable)');

    const forward = headForward(model);
    const dim = features.train.dim;
    const sampling = config.imbalance === 'sampling' ? 'balanced' : 'natural';
    for (let epoch = startEpoch; epoch < config.epochs && !this.patienceUsedUp(); epoch++) {
      const began = performance.now();
      const order = epochOrder(Array.from(features.train.labels), { sampling, shuffle: true, seed: config.seed, epoch });
      const totals: EpochTotals = { loss: 0, correct: 0, images: 0, seconds: 0 };
      const trainStart = performance.now();
      let batchIndex = 0;
      let at = 0;
      while (at < order.length) {
        await this.gate();
        const positions = order.slice(at, at + this.batch);
        let last = { loss: 0, correct: 0, n: 1 };
        await this.inChunks(positions.length, async (from, n) => {
          const chunk = positions.slice(from, from + n);
          const lr = this.lrAt(epoch, totals.images + n / 2, order.length);
          this.ctx.faults?.beforeStep(this.step);
          const result = await trainStep(forward, this.optimizer!, this.lossOptions(), gatherRows(features.train.vectors, dim, chunk), [dim], Int32Array.from(chunk, (p) => features.train.labels[p]), lr);
          this.afterStep(totals, result, n, trainStart);
          last = { ...result, n };
        });
        at += positions.length;
        this.progress('training', epoch, ++batchIndex, Math.ceil(order.length / this.batch), last.loss, last.correct / last.n, totals, order.length);
      }
      totals.seconds = (performance.now() - trainStart) / 1000;
      const validation = await this.validateFeatures(features.val, forward);
      const stop = await this.endEpoch(epoch, totals, validation, began);
      if (stop) return stop;
    }
    return null;
  }

  private async validateFeatures(val: FeatureSet, forward: Forward): Promise<{ loss: number; acc: number } | null> {
    if (val.labels.length === 0) return null;
    const result = await evaluateBatch(forward, this.lossOptions(), val.vectors, [val.dim], val.labels);
    return { loss: result.loss / val.labels.length, acc: result.correct / val.labels.length };
  }

  /** Backbone features of a batch of images, in chunks of the current batch (halved on out-of-memory). */
  private async predictInChunks(backbone: ReturnType<typeof backboneOf>, x: tf.Tensor4D): Promise<Float32Array> {
    const n = x.shape[0];
    const parts: Float32Array[] = [];
    let from = 0;
    while (from < n) {
      const size = Math.min(this.batch, n - from);
      try {
        const features = tf.tidy(() => backbone.predict(tf.slice(x, [from, 0, 0, 0], [size, -1, -1, -1])) as tf.Tensor);
        try {
          parts.push((await features.data()) as Float32Array);
        } finally {
          features.dispose();
        }
        from += size;
      } catch (err) {
        this.halveOnOutOfMemory(err, 'computing backbone features');
      }
    }
    const dim = parts.reduce((s, p) => s + p.length, 0) / n;
    const out = new Float32Array(n * dim);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  // ---------- shared ----------

  /** Run `work` over [0, size) in chunks of the current batch; an out-of-memory error halves the batch and retries the same chunk. */
  private async inChunks(size: number, work: (from: number, n: number) => Promise<void>): Promise<void> {
    let from = 0;
    while (from < size) {
      const n = Math.min(this.batch, size - from);
      try {
        await work(from, n);
        from += n;
      } catch (err) {
        this.halveOnOutOfMemory(err, `step ${this.step + 1}`);
      }
    }
  }

  private halveOnOutOfMemory(err: unknown, where: string): void {
    if (!isOutOfMemory(err) || this.batch === 1) throw err;
    const before = this.batch;
    this.batch = Math.max(1, Math.floor(before / 2));
    this.note('oom', `out of memory at ${where} with batch ${before} (${(err as Error).message.split('\n')[0]}): halved the batch to ${this.batch} and retried the same step`);
  }

  private afterStep(totals: EpochTotals, result: { loss: number; correct: number }, n: number, trainStart: number): void {
    totals.loss += result.loss * n;
    totals.correct += result.correct;
    totals.images += n;
    totals.seconds = (performance.now() - trainStart) / 1000;
    this.step++;
  }

  /** The scheduled learning rate after `imagesDone` of an epoch's `epochSize` images. */
  private lrAt(epoch: number, imagesDone: number, epochSize: number): number {
    return learningRateAt(epoch + imagesDone / Math.max(1, epochSize), this.config);
  }

  /** A resumed run that had already stopped improving for `patience` epochs goes no further. */
  private patienceUsedUp(): boolean {
    return this.config.patience > 0 && this.best !== null && this.epochsWithoutImprovement >= this.config.patience;
  }

  /** Record the epoch, write its checkpoint, keep the best; returns why to stop early, or null. */
  private async endEpoch(epoch: number, totals: EpochTotals, validation: { loss: number; acc: number } | null, began: number): Promise<string | null> {
    const { ctx, config } = this;
    this.progress('checkpointing', epoch, 0, 0, null, null);
    const improved = validation !== null && Number.isFinite(validation.loss) && (this.best === null || validation.loss < this.best.valLoss);
    if (improved) {
      this.best = { epoch, valLoss: validation!.loss };
      this.epochsWithoutImprovement = 0;
    } else if (validation !== null) {
      this.epochsWithoutImprovement++;
    }
    const record: EpochRecord = {
      epoch,
      trainLoss: totals.images > 0 ? totals.loss / totals.images : null,
      trainAcc: totals.images > 0 ? totals.correct / totals.images : null,
      valLoss: validation?.loss ?? null,
      valAcc: validation?.acc ?? null,
      imagesPerSecond: totals.seconds > 0 ? totals.images / totals.seconds : 0,
      seconds: (performance.now() - began) / 1000,
      // the rate in the middle of the epoch (it changes every step)
      lr: this.lrAt(epoch, 1, 2),
      batch: this.batch,
      at: new Date().toISOString(),
    };
    const optimizerState = await this.optimizer!.state();
    try {
      await writeCheckpoint(ctx.checkpointRoot, {
        model: this.built!.model,
        labels: config.classes,
        metadata: { variant: config.model, resolution: config.resolution, runId: ctx.runId, epoch, mode: config.mode },
        optimizer: { name: config.optimizer, state: optimizerState },
        state: { runId: ctx.runId, epoch, batch: this.batch, step: this.step, seed: config.seed, best: this.best, epochsWithoutImprovement: this.epochsWithoutImprovement, record },
      });
    } finally {
      // the iteration counter is a fresh scalar; the moments are the optimizer's own variables
      tf.dispose(optimizerState.filter((s) => s.name === 'iter').map((s) => s.tensor));
    }
    record.seconds = (performance.now() - began) / 1000;
    const { isBest } = recordEpoch(ctx.db, ctx.runId, record);
    this.epochSeconds.push(record.seconds);
    pruneCheckpoints(ctx.checkpointRoot, new Set([epoch, ...(this.best ? [this.best.epoch] : [])]));
    ctx.reporter.epoch(record, isBest, config.epochs);

    if (validation !== null && this.patienceUsedUp() && epoch < config.epochs - 1) {
      return `stopped early after epoch ${epoch + 1}: the validation loss has not improved for ${config.patience} epochs`;
    }
    return null;
  }

  private finish(stoppedEarly: string | null): RunResult {
    const { ctx, config } = this;
    const history = runHistory(ctx.db, ctx.runId);
    const last = history.at(-1);
    if (!last) throw new ApiError('internal', 'the run ended without a finished epoch');
    const keep = this.best?.epoch ?? last.epoch;
    const modelDir = finalizeModel(ctx.checkpointRoot, keep);
    const kept = history.find((e) => e.epoch === keep)!;
    const which = this.best ? `the model of epoch ${keep + 1}, the best validation loss (${kept.valLoss?.toFixed(4)}, accuracy ${formatPercent(kept.valAcc)})` : `the model of the last epoch (no validation split to choose by)`;
    const reason = `${stoppedEarly ?? `completed ${config.epochs} epoch${config.epochs === 1 ? '' : 's'}`}; kept ${which}`;
    this.setStatus('completed', reason);
    return { status: 'completed', reason, started: true, modelDir, features: this.features };
  }

  // ---------- reporting ----------

  private async gate(): Promise<void> {
    await this.ctx.control.gate({
      onPause: () => this.setStatus('paused', 'paused by the user'),
      onResume: () => this.setStatus('running', null),
    });
  }

  private setStatus(status: RunStatus, reason: string | null, change: { backend?: string; checkpointDir?: string } = {}): void {
    const { ctx } = this;
    try {
      updateRunStatus(ctx.db, ctx.runId, status, { reason, ...change });
    } catch (err) {
      // the run may already have been ended from outside (the service recorded a crash): keep that record
      if (!(err instanceof ApiError && err.code === 'invalid_input')) throw err;
    }
    ctx.reporter.status(status, reason);
  }

  private note(kind: TrainNote['kind'], message: string): void {
    this.ctx.reporter.note(addRunNote(this.ctx.db, this.ctx.runId, kind, message));
  }

  private reportSkips(skipped: readonly SkippedImage[]): void {
    const fresh = skipped.filter((s) => !this.reportedSkips.has(s.id));
    if (fresh.length === 0) return;
    for (const s of fresh) this.reportedSkips.add(s.id);
    const listed = fresh.slice(0, 10).map((s) => `${s.path} (${s.reason})`);
    const more = fresh.length > listed.length ? ` and ${fresh.length - listed.length} more` : '';
    this.note('skipped', `${fresh.length} image${fresh.length === 1 ? '' : 's'} skipped: ${listed.join('; ')}${more}`);
  }

  private progress(phase: TrainProgress['phase'], epoch: number, batchIndex: number, batchesPerEpoch: number, loss: number | null, accuracy: number | null, totals?: EpochTotals, epochSize?: number, force = false): void {
    const now = Date.now();
    if (!force && phase === 'training' && now - this.lastProgressAt < PROGRESS_INTERVAL_MS && batchIndex < batchesPerEpoch) return;
    this.lastProgressAt = now;
    const imagesPerSecond = totals && totals.seconds > 0 ? totals.images / totals.seconds : 0;
    this.ctx.reporter.progress({
      phase,
      epoch,
      epochs: this.config.epochs,
      batchIndex,
      batchesPerEpoch,
      step: this.step,
      loss,
      accuracy,
      lr: totals && epochSize ? this.lrAt(epoch, totals.images, epochSize) : this.lrAt(epoch, 0, 1),
      batch: this.batch,
      imagesPerSecond,
      etaSeconds: this.eta(epoch, totals, epochSize, imagesPerSecond),
      elapsedSeconds: (now - this.started) / 1000,
    });
  }

  /** Rest of this epoch at the current speed, plus the remaining epochs at the average epoch time (or this epoch's estimate). */
  private eta(epoch: number, totals: EpochTotals | undefined, epochSize: number | undefined, imagesPerSecond: number): number | null {
    if (!totals || !epochSize || imagesPerSecond <= 0) return null;
    const restOfEpoch = (epochSize - totals.images) / imagesPerSecond;
    const perEpoch = this.epochSeconds.length > 0 ? this.epochSeconds.reduce((a, b) => a + b, 0) / this.epochSeconds.length : epochSize / imagesPerSecond;
    return restOfEpoch + perEpoch * (this.config.epochs - epoch - 1);
  }
}

function failureReason(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (isOutOfMemory(err)) return `out of memory even with batch 1: ${(err as Error).message}`;
  const message = err instanceof Error ? err.message : String(err);
  return `the trainer failed: ${message}`;
}

function formatPercent(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`;
}
