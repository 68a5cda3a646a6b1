/**
 * On the webgpu backend a full run that asks for no engine trains on ours (steps-engine.ts); one
 * whose engine cannot start (here: no plan fits a 1 KiB arena even at batch 1) falls back to
 * TF.js's WebGPU backend, says so, and still completes at its own batch; engine tfjs asks for that
 * fallback directly. TF.js runs on its WebGPU backend (SwiftShader without a GPU) in this process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainOptions, type TrainNote } from '../../main/contract/calls-train';
import { useBackend, type ActiveBackend } from '../../main/backend/tfjs-backend';
import { runHistory } from '../../main/project/runs';
import { RunControl } from '../../main/train/control';
import { createTrainingRun } from '../../main/train/new-run';
import { stepsEngineFor } from '../../main/train/steps-engine';
import { trainRun, type RunResult } from '../../main/train/train-run';
import { deviceRequired, testDevice } from '../fixtures/engine-gpu';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, type TrainProject } from '../fixtures/train-project';

const RUN = { model: 'phi=-8', resolution: 32, batch: 4, mode: 'full', epochs: 1, patience: 0, augment: false, seed: 3, backend: 'webgpu' };

let dir: string;
let project: TrainProject;
let backend: ActiveBackend | null = null;
let noDevice: string | null = null;

async function train(options: Record<string, unknown>): Promise<{ runId: number; result: RunResult; notes: TrainNote[] }> {
  const id = createTrainingRun(project.handle, TrainOptions.parse({ ...RUN, ...options })).run.id;
  const notes: TrainNote[] = [];
  const result = await trainRun({
    db: project.handle.db,
    runId: id,
    checkpointRoot: project.registry.sideFolder(project.file, `runs/${id}`),
    backend: backend!,
    resume: false,
    control: new RunControl(),
    reporter: { started: () => undefined, progress: () => undefined, epoch: () => undefined, status: () => undefined, note: (n) => notes.push(n) },
  });
  return { runId: id, result, notes };
}

beforeAll(async () => {
  const gpu = await testDevice();
  if (typeof gpu === 'string') {
    if (deviceRequired()) throw new Error(gpu);
    noDevice = gpu;
    return;
  }
  backend = await useBackend('webgpu');
  dir = makeTempDir('train-webgpu-default');
  project = await createTrainProject(dir, 6);
}, 180_000);

afterAll(() => {
  project?.registry.closeAll();
  if (dir) removeDir(dir);
});

describe('who trains a run on the webgpu backend', () => {
  it('the engine by default for full and top runs; TF.js in head mode, on other backends, or when asked', () => {
    expect(stepsEngineFor({ mode: 'full' }, 'webgpu')).toBe('effitune');
    expect(stepsEngineFor({ mode: 'top' }, 'webgpu')).toBe('effitune');
    expect(stepsEngineFor({ mode: 'head' }, 'webgpu')).toBe('tfjs');
    expect(stepsEngineFor({ mode: 'full' }, 'wasm')).toBe('tfjs');
    expect(stepsEngineFor({ mode: 'full', engine: 'tfjs' }, 'webgpu')).toBe('tfjs');
  });

  it('a run that asks for nothing trains on the engine', { timeout: 600_000 }, async (context) => {
    if (noDevice) return context.skip(noDevice);
    const run = await train({});
    expect(run.result.status, run.result.reason).toBe('completed');
    expect(run.notes.map((n) => n.message)).toContainEqual(expect.stringMatching(/^training steps on the Effitune WebGPU engine/));
    expect(runHistory(project.handle.db, run.runId)).toHaveLength(1);
  });

  it("one whose engine cannot start falls back to TF.js's WebGPU backend at its own batch, and says why", { timeout: 600_000 }, async (context) => {
    if (noDevice) return context.skip(noDevice);
    process.env.EFFITUNE_ENGINE_ARENA_BYTES = '1024';
    try {
      const run = await train({});
      expect(run.result.status, run.result.reason).toBe('completed');
      const messages = run.notes.map((n) => n.message);
      expect(messages.some((m) => m.startsWith('training steps on the Effitune WebGPU engine'))).toBe(false);
      const fallback = run.notes.filter((n) => n.kind === 'warning' && /Effitune WebGPU engine could not start/.test(n.message));
      expect(fallback).toHaveLength(1);
      expect(fallback[0].message).toMatch(/the steps run on TF\.js's WebGPU backend instead \(the fallback; ask for it with engine tfjs\)/);
      expect(runHistory(project.handle.db, run.runId)[0].batch).toBe(4);

      // asked for the engine, the same failure fails the run instead
      const asked = await train({ engine: 'effitune' });
      expect(asked.result.status).toBe('failed');
    } finally {
      delete process.env.EFFITUNE_ENGINE_ARENA_BYTES;
    }
  });
});
