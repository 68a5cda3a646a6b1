/**
 * A mixed-precision run (precision: mixed) on the Effitune engine, from train.start's options to
 * the kept model: float16 activations on an adapter with shader-f16. SwiftShader has none (there
 * the run is refused: train-engine.test.ts); where .ci/run unpacked Mesa's lavapipe 25
 * (EFFITUNE_TEST_F16_ICD) this file's process runs on it instead, as on a GPU; elsewhere it skips.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainOptions, type TrainNote } from '../../main/contract/calls-train';
import { useBackend, type ActiveBackend } from '../../main/backend/tfjs-backend';
import { loadModelFolder } from '../../main/model/manager/model-folder';
import { getRun, runHistory } from '../../main/project/runs';
import { RunControl } from '../../main/train/control';
import { createTrainingRun } from '../../main/train/new-run';
import { trainRun } from '../../main/train/train-run';
import { deviceRequired, testDevice } from '../fixtures/engine-gpu';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, type TrainProject } from '../fixtures/train-project';

// the driver is read once, when Dawn starts in this process: before anything opens a device
if (process.env.EFFITUNE_TEST_F16_ICD && !process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = process.env.EFFITUNE_TEST_F16_ICD;

const RUN = { model: 'phi=-8', resolution: 32, batch: 8, mode: 'full', epochs: 4, patience: 0, lr: 5e-3, augment: { scaleMin: 0.5 }, seed: 3, precision: 'mixed' };
const CHANCE = 1 / 3;

let dir: string;
let project: TrainProject;
let backend: ActiveBackend;
let skip: string | null = null;

beforeAll(async () => {
  const gpu = await testDevice();
  if (typeof gpu === 'string') {
    if (deviceRequired()) throw new Error(gpu);
    skip = gpu;
  } else if (!gpu.features.f16) skip = `${gpu.adapter.device} has no shader-f16 (lavapipe 25 or a GPU has; .ci/run unpacks lavapipe)`;
  backend = await useBackend('cpu');
  dir = makeTempDir('train-mixed');
  project = await createTrainProject(dir, 14);
}, 120_000);

afterAll(() => {
  project?.registry.closeAll();
  removeDir(dir);
});

describe('a mixed-precision run on the Effitune engine', () => {
  it('learns on float16 activations, says so in its notes, and keeps a model that predicts', { timeout: 600_000 }, async (context) => {
    if (skip) return context.skip(skip);
    const runId = createTrainingRun(project.handle, TrainOptions.parse(RUN)).run.id;
    const notes: TrainNote[] = [];
    const result = await trainRun({
      db: project.handle.db,
      runId,
      checkpointRoot: project.registry.sideFolder(project.file, `runs/${runId}`),
      backend,
      resume: false,
      control: new RunControl(),
      reporter: { started: () => undefined, progress: () => undefined, epoch: () => undefined, status: () => undefined, note: (n) => notes.push(n) },
    });
    expect(result.status).toBe('completed');
    expect(getRun(project.handle.db, runId).config).toMatchObject({ precision: 'mixed', engine: 'effitune' });
    expect(notes.map((n) => n.message).join('\n')).toMatch(/Effitune WebGPU engine .*mixed precision \(float16 activations, float32 weights and arithmetic\)/);
    // Precise BN and validation ran on the engine's float16 forward plans, none fell back to TF.js
    expect(notes.map((n) => n.message).join('\n')).toMatch(/MiB after each epoch for Precise BN and validation, on the engine too/);
    expect(notes.map((n) => n.message).join('\n')).not.toMatch(/run in TF\.js from now on/);
    const h = runHistory(project.handle.db, runId);
    const best = Math.max(...h.map((e) => e.valAcc ?? 0));
    console.log(`mixed precision: train loss ${h.map((x) => x.trainLoss!.toFixed(3)).join(' ')}, best val ${best}`);
    expect(h.map((e) => e.epoch)).toEqual([0, 1, 2, 3]);
    expect(h.at(-1)!.trainLoss!).toBeLessThan(h[0].trainLoss!);
    expect(best).toBeGreaterThanOrEqual(CHANCE + 0.25);
    // the kept model is float32 as any other: it loads and predicts
    const { model } = await loadModelFolder(result.modelDir!);
    const probs = model.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor;
    expect(probs.shape).toEqual([1, 3]);
    expect(Array.from(await probs.data()).every(Number.isFinite)).toBe(true);
    model.dispose();
  });
});
