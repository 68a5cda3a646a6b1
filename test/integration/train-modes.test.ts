/**
 * The training loop in this process on the CPU backend, with a tiny model (φ = −8 at 32 px) on
 * generated classes that differ in colour and shape: each mode learns well above chance, head
 * mode caches features so a second run computes only new images, top mode trains only its blocks
 * with BatchNorm frozen in inference mode, an out-of-memory step halves the batch and goes on,
 * and images deleted after the import are skipped and reported.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainOptions, type TrainNote, type TrainProgress, type TrainStarted } from '../../main/contract/calls-train';
import { useBackend, type ActiveBackend } from '../../main/backend/tfjs-backend';
import { importFolder } from '../../main/dataset/import-folder';
import { splitProject } from '../../main/dataset/split';
import { loadModelFolder } from '../../main/model/manager/model-folder';
import { getRun, runHistory } from '../../main/project/runs';
import { RunControl } from '../../main/train/control';
import { FaultPlan } from '../../main/train/memory';
import { createTrainingRun } from '../../main/train/new-run';
import { runNotes } from '../../main/train/run-notes';
import { trainRun, type RunResult } from '../../main/train/train-run';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, writeTrainImages, type TrainProject } from '../fixtures/train-project';

const TINY = { model: 'phi=-8', resolution: 32, batch: 8 };
const CHANCE = 1 / 3;
const AUGMENT = { scaleMin: 0.5 };

let dir: string;
let project: TrainProject;
let backend: ActiveBackend;
/** the full run's model: the "pretrained" backbone of the head and top runs */
let baseModel: string;

interface Trained {
  runId: number;
  result: RunResult;
  started: Omit<TrainStarted, 'run'> | null;
  progress: TrainProgress[];
  notes: TrainNote[];
}

async function train(options: Record<string, unknown>, extra: { faults?: FaultPlan; memoryBytes?: number } = {}): Promise<Trained> {
  const { run } = createTrainingRun(project.handle, TrainOptions.parse({ ...TINY, ...options }));
  const progress: TrainProgress[] = [];
  const notes: TrainNote[] = [];
  let started: Trained['started'] = null;
  const result = await trainRun({
    db: project.handle.db,
    runId: run.id,
    checkpointRoot: project.registry.sideFolder(project.file, `runs/${run.id}`),
    backend,
    resume: false,
    control: new RunControl(),
    faults: extra.faults,
    memoryBytes: extra.memoryBytes,
    reporter: {
      started: (info) => (started = info),
      progress: (p) => progress.push({ ...p, project: project.file, runId: run.id }),
      epoch: () => undefined,
      status: () => undefined,
      note: (n) => notes.push(n),
    },
  });
  return { runId: run.id, result, started, progress, notes };
}

const bestValAcc = (runId: number) => Math.max(...runHistory(project.handle.db, runId).map((e) => e.valAcc ?? 0));

async function weightsOf(dir: string): Promise<Map<string, Float32Array>> {
  const { model } = await loadModelFolder(dir);
  const out = new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
  model.dispose();
  return out;
}

beforeAll(async () => {
  backend = await useBackend('cpu');
  dir = makeTempDir('train-modes');
  project = await createTrainProject(dir, 14);
});
afterAll(() => {
  project?.registry.closeAll();
  removeDir(dir);
});

describe('training modes on a tiny model', () => {
  it('full mode from scratch learns well above chance and keeps a loadable model', { timeout: 180_000 }, async () => {
    // augmentation matters: without it a from-scratch model memorises its 10 images per class; crops
    // of at least half the image, because these shapes cover a third of it and a smaller crop is often
    // all background (the default 8 % suits photos)
    const t = await train({ mode: 'full', epochs: 6, patience: 0, augment: AUGMENT });
    expect(t.result).toMatchObject({ status: 'completed', started: true });
    expect(t.started).toMatchObject({ backend: 'cpu', batch: 8, fromScratch: true, resumedFromEpoch: null });
    const epochs = runHistory(project.handle.db, t.runId);
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(epochs[0].trainLoss!).toBeLessThan(Math.log(3) + 0.15); // a zero head starts at ln(K)
    expect(epochs.at(-1)!.trainAcc!).toBeGreaterThan(epochs[0].trainAcc!);
    expect(bestValAcc(t.runId)).toBeGreaterThanOrEqual(CHANCE + 0.3);
    expect(epochs.every((e) => e.imagesPerSecond > 0 && e.batch === 8)).toBe(true);
    expect(new Set(t.progress.map((p) => p.phase))).toEqual(new Set(['starting', 'training', 'validating', 'checkpointing']));
    const run = getRun(project.handle.db, t.runId);
    expect(run).toMatchObject({ status: 'completed', backend: 'cpu', variant: 'phi=-8', resolution: 32 });
    expect(run.reason).toMatch(/^completed 6 epochs; kept the model of epoch \d/);

    baseModel = t.result.modelDir!;
    expect(fs.readdirSync(path.dirname(baseModel))).toEqual(['model']);
    const { model, metadata } = await loadModelFolder(baseModel);
    expect(metadata).toMatchObject({ variant: 'phi=-8', resolution: 32, classes: 3 });
    const probs = model.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor;
    expect(probs.shape).toEqual([1, 3]);
    model.dispose();
  });

  it('head mode learns on cached features; the next run computes only the images added since', { timeout: 120_000 }, async () => {
    const tensors = tf.memory().numTensors;
    const first = await train({ mode: 'head', epochs: 15, weights: baseModel });
    expect(first.result.status).toBe('completed');
    expect(tf.memory().numTensors).toBe(tensors);
    expect(first.result.features).toEqual({ computed: 42, cached: 0 });
    expect(first.started!.fromScratch).toBe(false);
    expect(bestValAcc(first.runId)).toBeGreaterThanOrEqual(CHANCE + 0.3);
    expect(first.progress.some((p) => p.phase === 'embedding' && p.batchesPerEpoch === 42)).toBe(true);

    // label two more images per class: only those six are new to the cache
    const more = path.join(dir, 'more-images');
    await writeTrainImages(more, 2, { seed: 99, startIndex: 100 });
    await importFolder(project.handle, { folder: more, labelsFromFolders: true, jobId: 'more' });
    splitProject(project.handle, {});
    const second = await train({ mode: 'head', epochs: 3, weights: baseModel });
    expect(second.result.features).toEqual({ computed: 6, cached: 42 });
    expect(second.notes.map((n) => n.message)).toContain('backbone features: 6 computed, 42 from the cache');
  });

  it('top mode trains only the last blocks, with every BatchNorm frozen in inference mode', { timeout: 120_000 }, async () => {
    const tensors = tf.memory().numTensors;
    const t = await train({ mode: 'top', topBlocks: 2, epochs: 3, weights: baseModel, lr: 1e-3, augment: AUGMENT });
    expect(t.result.status).toBe('completed');
    expect(tf.memory().numTensors).toBe(tensors); // nothing leaked: steps, checkpoints, model all disposed
    expect(bestValAcc(t.runId)).toBeGreaterThanOrEqual(CHANCE + 0.2);
    const before = await weightsOf(baseModel);
    const after = await weightsOf(t.result.modelDir!);
    const same = (name: string) => Array.from(before.get(name)!).every((v, i) => v === after.get(name)![i]);
    // φ = −8 has 7 blocks: block6a and block7a train, block1a..block5a do not
    expect(same('block1a_dwconv/depthwise_kernel')).toBe(true);
    expect(same('block5a_project_conv/kernel')).toBe(true);
    expect(same('block7a_project_conv/kernel')).toBe(false);
    expect(same('top_conv/kernel')).toBe(false);
    // BatchNorm neither learns nor updates its statistics, even inside the training blocks
    for (const name of ['block7a_bn/gamma', 'block7a_bn/moving_mean', 'block7a_bn/moving_variance', 'top_bn/moving_mean', 'stem_bn/moving_variance']) expect(same(name)).toBe(true);
  });
});

describe('early stopping', () => {
  it('stops when the validation loss has not improved for `patience` epochs, keeping the best epoch', { timeout: 60_000 }, async () => {
    // a zero head with a vanishing learning rate predicts uniformly: the validation loss stays ln(3) exactly
    const t = await train({ mode: 'head', epochs: 10, patience: 2, lr: 1e-12, weights: baseModel });
    expect(t.result.status).toBe('completed');
    expect(runHistory(project.handle.db, t.runId).map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(getRun(project.handle.db, t.runId)).toMatchObject({ bestEpoch: 0, reason: expect.stringMatching(/^stopped early after epoch 3: the validation loss has not improved for 2 epochs; kept the model of epoch 1/) });
  });

  it('warm-up epochs do not count towards patience (the rising learning rate makes the validation loss swing)', { timeout: 60_000 }, async () => {
    const t = await train({ mode: 'head', epochs: 10, patience: 2, warmupEpochs: 3, lr: 1e-12, weights: baseModel });
    // epoch 0 is the best; epochs 1 and 2 are warm-up; 3 and 4 use up the patience
    expect(runHistory(project.handle.db, t.runId).map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4]);
    expect(getRun(project.handle.db, t.runId).reason).toMatch(/^stopped early after epoch 5: the validation loss has not improved for 2 epochs/);
  });
});

describe('memory and missing files', () => {
  it('an out-of-memory step halves the batch, retries the same step, and says so', { timeout: 60_000 }, async () => {
    const t = await train({ mode: 'head', epochs: 2, weights: baseModel }, { faults: new FaultPlan('oom@1') });
    expect(t.result.status).toBe('completed');
    const oom = t.notes.filter((n) => n.kind === 'oom');
    expect(oom).toHaveLength(1);
    expect(oom[0].message).toMatch(/out of memory at step 2 with batch 8 .*halved the batch to 4 and retried the same step/);
    expect(runNotes(project.handle.db, t.runId).some((n) => n.kind === 'oom')).toBe(true);
    expect(runHistory(project.handle.db, t.runId).map((e) => e.batch)).toEqual([4, 4]);
    expect(t.progress.filter((p) => p.phase === 'training').at(-1)!.batch).toBe(4);
  });

  it('a run whose training loss stops being a number is stopped at the end of that epoch, keeping the best model; one that diverges at once fails, saying why', { timeout: 60_000 }, async () => {
    // the optimizer steps of one epoch (a progress report after each batch says how many batches an epoch has)
    const steps = (await train({ mode: 'head', epochs: 1, weights: baseModel })).progress.find((p) => p.phase === 'training')!.batchesPerEpoch!;
    const diverged = await train({ mode: 'head', epochs: 4, weights: baseModel }, { faults: new FaultPlan(`nan@${steps + 1}`) });
    expect(diverged.result.status).toBe('completed');
    expect(diverged.result.reason).toMatch(/^stopped after epoch 2: the training loss is NaN \(the training diverged\); a lower learning rate than 0\.001 avoids it; kept the model of epoch 1, the best validation loss/);
    expect(runHistory(project.handle.db, diverged.runId).map((e) => e.epoch)).toEqual([0, 1]);
    const atOnce = await train({ mode: 'head', epochs: 4, weights: baseModel }, { faults: new FaultPlan('nan@0') });
    expect(atOnce.result).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^the training loss is NaN after epoch 1 \(the training diverged\); .*: no epoch's model is worth keeping$/) });
  });

  it('without --batch, the batch comes from the memory estimate', { timeout: 60_000 }, async () => {
    const t = await train({ mode: 'head', epochs: 1, weights: baseModel, batch: undefined }, { memoryBytes: 64 * 1024 ** 2 });
    expect(t.started!.batch).toBeLessThan(8);
    expect(t.started!.notes.join(' ')).toMatch(/batch \d+: a training step needs about .* within 50 % of 64.0 MiB \(EFFITUNE_TRAIN_MEMORY_BYTES\)|even one image needs/);
  });

  it('images deleted after the import are skipped and reported, and the run goes on', { timeout: 120_000 }, async () => {
    const gone = [project.files['red-circle'][0], project.files['green-square'][1]];
    for (const file of gone) fs.rmSync(file);
    for (const mode of ['head', 'top']) {
      const t = await train({ mode, epochs: 1, weights: baseModel, topBlocks: mode === 'top' ? 1 : undefined, augment: mode === 'top' ? false : undefined });
      expect(t.result.status).toBe('completed');
      const skipped = t.notes.filter((n) => n.kind === 'skipped');
      expect(skipped).toHaveLength(1);
      expect(skipped[0].message).toMatch(/^2 images skipped: /);
      for (const file of gone) expect(skipped[0].message).toContain(`${file} (the file no longer exists)`);
    }
  });
});
