/**
 * extrapolate(): timed pieces → an epoch and a run. Image modes take the slower of compute and
 * decoding for each phase that reads images (the pipeline prefetches), then add validation, the
 * BatchNorm recalibration and the checkpoint; head mode adds a one-off backbone pass over the
 * uncached images; the first step's warm-up is paid once per run. The Estimator (with a stand-in
 * worker) measures each choice once, and drops a choice superseded while it waited its turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../main/contract/calls-train';
import { Estimator, extrapolate, measurementKey } from '../../main/train/estimate';
import { formatSeconds } from '../../main/contract/units';
import type { BackendInfo, EstimateRequest, Measurement } from '../../main/train/estimate-protocol';
import { setProcessLauncher, type LaunchedWorker } from '../../main/workers/process-launcher';
import { createRun, recordEpoch } from '../../main/project/runs';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, type TrainProject } from '../fixtures/train-project';
import { getVariant } from '../../main/model/variants';

const backend: BackendInfo = { name: 'wasm', device: 'test CPU', memoryBytes: 4 * 1024 ** 3, memorySource: 'wasm32 limit' };
const config = (mode: TrainConfig['mode'], epochs: number): TrainConfig => ({
  version: 1,
  model: 'phi=-8',
  resolution: 32,
  mode,
  epochs,
  batch: null,
  backend: null,
  seed: 1,
  weights: null,
  topBlocks: null,
  optimizer: 'adam',
  lr: 1e-3,
  weightDecay: 0,
  warmupEpochs: 0,
  labelSmoothing: 0.1,
  imbalance: 'none',
  dropout: 0.2,
  dropConnect: 0.2,
  patience: 5,
  augment: false,
  bnMomentum: null,
  freezeBatchNorm: mode !== 'full',
  classes: ['a', 'b', 'c'],
});
const measured = (over: Partial<Measurement>): Measurement => ({
  batch: 16,
  batchReason: 'batch 16: test',
  stepSeconds: 0.5,
  timedSteps: 3,
  warmupSeconds: 2,
  evalBatchSeconds: 0.1,
  bnBatchSeconds: 0.2,
  backboneBatchSeconds: null,
  checkpointSeconds: 0.3,
  decodeTrainSeconds: 0.001,
  decodeEvalSeconds: 0.001,
  weightsKey: null,
  ...over,
});
const variant = getVariant('phi=-8');

describe('extrapolate', () => {
  it('full mode: steps, validation, BatchNorm recalibration and the checkpoint per epoch; the warm-up once', () => {
    const e = extrapolate(measured({}), backend, config('full', 10), variant, { trainImages: 100, valImages: 20, uncachedImages: 0 });
    expect(e.stepsPerEpoch).toBe(7);
    // 7 steps × 0.5 + 2 val batches × 0.1 + 7 recalibration batches (100 images) × 0.2 + 0.3
    expect(e.secondsPerEpoch).toBeCloseTo(3.5 + 0.2 + 1.4 + 0.3, 9);
    expect(e.secondsTotal).toBeCloseTo(10 * e.secondsPerEpoch + 2, 9);
    expect(e.basis).toBe('measured');
    expect(e.memoryBytes).toBeGreaterThan(0);
    expect(e.backendMemoryBytes).toBe(backend.memoryBytes);
    expect(e.explanation).toMatch(/^About 5\.4 s per epoch on wasm \(measured: 3 timed steps of 500 ms, 7 steps per epoch for 100 training images\); 10 epochs ≈ 56 s; memory .* at batch 16 of the 4\.0 GiB wasm has\.$/);
  });

  it('slow decoding, not compute, sets the pace when images take longer to read than to train on', () => {
    const e = extrapolate(measured({ decodeTrainSeconds: 0.1, decodeEvalSeconds: 0.05, bnBatchSeconds: null }), backend, config('top', 1), variant, { trainImages: 100, valImages: 20, uncachedImages: 0 });
    // max(7 × 0.5, 100 × 0.1) + max(2 × 0.1, 20 × 0.05) + 0.3
    expect(e.secondsPerEpoch).toBeCloseTo(10 + 1 + 0.3, 9);
  });

  it('head mode: classifier steps per epoch, the backbone pass over uncached images once', () => {
    const m = measured({ stepSeconds: 0.01, backboneBatchSeconds: 1.6, bnBatchSeconds: null, decodeTrainSeconds: null, warmupSeconds: 0 });
    const e = extrapolate(m, backend, config('head', 20), variant, { trainImages: 100, valImages: 20, uncachedImages: 40 });
    expect(e.secondsPerEpoch).toBeCloseTo(7 * 0.01 + 2 * 0.1 + 0.3, 9);
    // 40 images × (1.6 / 16 + 0.001)
    expect(e.embeddingSeconds).toBeCloseTo(40 * 0.101, 9);
    expect(e.secondsTotal).toBeCloseTo(20 * e.secondsPerEpoch + e.embeddingSeconds, 9);
    expect(e.explanation).toMatch(/plus 4\.0 s once for the backbone features of 40 uncached images/);
    expect(e.explanation).toMatch(/this mode needs less/);
  });
});

describe('measurementKey', () => {
  it('a measurement is reused only for the same timed work: the engine and the precision are part of it, the epochs are not', () => {
    const full = config('full', 10);
    const key = (c: TrainConfig) => measurementKey('/p.effitune', c, 'webgpu', 8);
    expect(key({ ...full, epochs: 30 })).toBe(key(full));
    expect(key({ ...full, precision: 'mixed' })).not.toBe(key(full));
    expect(key({ ...full, engine: 'tfjs' })).not.toBe(key(full));
    expect(key({ ...full, engine: 'tfjs' })).not.toBe(key({ ...full, engine: 'effitune' }));
  });
});

describe('formatSeconds', () => {
  it('says durations in the two largest units', () => {
    expect(formatSeconds(0.042)).toBe('42 ms');
    expect(formatSeconds(4.25)).toBe('4.3 s');
    expect(formatSeconds(75)).toBe('1 min 15 s');
    expect(formatSeconds(5400)).toBe('1 h 30 min');
  });
});

describe('Estimator', () => {
  let dir: string;
  let project: TrainProject;
  const launched: string[] = [];

  /** A worker that answers like the estimator would, after a moment, with figures made from the request. */
  function fakeWorker(fail: string | null): LaunchedWorker {
    const listeners: ((message: unknown) => void)[] = [];
    let exit: ((exit: { code: number | null; signal: null }) => void) | null = null;
    return {
      pid: 1,
      stdout: null,
      stderr: null,
      send(message) {
        const request = message as EstimateRequest;
        launched.push(`${request.config.model}@${request.config.resolution}`);
        setTimeout(() => {
          const answer = fail
            ? { type: 'failed', code: 'internal', message: fail }
            : { type: 'measured', backend, measurement: measured({ batch: request.config.batch ?? 8, stepSeconds: request.config.resolution / 1000 }) };
          for (const l of listeners) l(answer);
          exit?.({ code: 0, signal: null });
        }, 30);
      },
      kill() {},
      onMessage: (l) => void listeners.push(l),
      onExit: (l) => void (exit = l),
    };
  }

  beforeAll(async () => {
    dir = makeTempDir('estimator');
    project = await createTrainProject(dir, 4);
  }, 60_000);
  afterAll(() => {
    setProcessLauncher(null);
    project.registry.closeAll();
    removeDir(dir);
  });

  const options = (resolution: number) => ({ model: 'phi=-8', resolution, mode: 'full' as const, seed: 1, imbalance: 'auto' as const, backend: 'wasm' as const });

  it('measures once per choice, answers repeats from its cache, and drops a choice superseded while it waited', async () => {
    setProcessLauncher(() => fakeWorker(null));
    const estimator = new Estimator({ projects: project.registry });
    const first = estimator.estimate(project.file, options(32));
    await new Promise((r) => setTimeout(r, 0)); // the first one starts measuring
    const skipped = estimator.estimate(project.file, options(40));
    const latest = estimator.estimate(project.file, options(48));
    await expect(skipped).rejects.toMatchObject({ code: 'cancelled' });
    expect((await first).secondsPerStep).toBeCloseTo(0.032, 9);
    expect((await latest).secondsPerStep).toBeCloseTo(0.048, 9);
    expect(launched).toEqual(['phi=-8@32', 'phi=-8@48']);
    const again = await estimator.estimate(project.file, { ...options(32), epochs: 7 });
    expect(again.epochs).toBe(7);
    expect(launched).toHaveLength(2);
  });

  it('says why when measuring fails and no earlier run can stand in; an earlier run of the same choice can', async () => {
    setProcessLauncher(() => fakeWorker('the wasm backend does not load here'));
    const estimator = new Estimator({ projects: project.registry });
    await expect(estimator.estimate(project.file, options(56))).rejects.toMatchObject({ code: 'internal', message: 'the wasm backend does not load here' });

    const { db } = project.handle;
    const run = createRun(db, { config: { mode: 'full' }, variant: 'phi=-8', resolution: 56, classes: ['a', 'b', 'c'], backend: 'wasm', status: 'running' });
    recordEpoch(db, run.id, { epoch: 0, trainLoss: 1, trainAcc: 0.5, valLoss: 1, valAcc: 0.5, imagesPerSecond: 4, seconds: 9, lr: 1e-3, batch: 8 });
    const fallback = await estimator.estimate(project.file, options(56));
    expect(fallback).toMatchObject({ basis: 'history', backend: 'wasm', batch: 8, secondsPerStep: 2, measuredSteps: 0 });
    expect(fallback.secondsPerEpoch).toBeCloseTo(fallback.trainImages / 4, 9);
    expect(fallback.explanation).toMatch(new RegExp(`From run #${run.id}'s speed \\(4\\.0 images/s\\): measuring failed`));
  });
});
