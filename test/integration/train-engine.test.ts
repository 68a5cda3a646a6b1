/**
 * A whole run on our WebGPU engine (engine: 'effitune'; SwiftShader without a GPU): a tiny model
 * (φ = −8 at 32 px) from scratch on the generated colour-and-shape classes learns like the TF.js
 * trainer from the same seed and data, keeps a loadable model, and a cancelled run resumes from its
 * checkpoint with the engine loading the checkpoint's weights. Precise BN and validation run on the
 * engine's forward plans too; TF.js (on the CPU backend here) holds the model checkpoints save.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainOptions, type TrainNote } from '../../main/contract/calls-train';
import { useBackend, type ActiveBackend } from '../../main/backend/tfjs-backend';
import { loadModelFolder } from '../../main/model/manager/model-folder';
import { getRun, runHistory } from '../../main/project/runs';
import { RunControl } from '../../main/train/control';
import { FaultPlan } from '../../main/train/memory';
import { findLatestCheckpoint, loadCheckpoint } from '../../main/train/checkpoint';
import { buildEfficientNet } from '../../main/model/builder';
import { getVariant } from '../../main/model/variants';
import { buildNetworkGraph } from '../../main/engine/plan/network-graph';
import { countTrainingStep } from '../../main/engine/plan/step-plan';
import { createTrainingRun } from '../../main/train/new-run';
import { trainRun, type RunResult } from '../../main/train/train-run';
import { deviceRequired, testDevice } from '../fixtures/engine-gpu';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, type TrainProject } from '../fixtures/train-project';

const RUN = { model: 'phi=-8', resolution: 32, batch: 8, mode: 'full', epochs: 4, patience: 0, lr: 5e-3, augment: { scaleMin: 0.5 }, seed: 3 };
const CHANCE = 1 / 3;

let dir: string;
let project: TrainProject;
let backend: ActiveBackend;
let noDevice: string | null = null;

async function train(options: Record<string, unknown>, control = new RunControl(), resume = false, runId?: number, faults?: FaultPlan): Promise<{ runId: number; result: RunResult; notes: TrainNote[] }> {
  const id = runId ?? createTrainingRun(project.handle, TrainOptions.parse({ ...RUN, ...options })).run.id;
  const notes: TrainNote[] = [];
  const result = await trainRun({
    db: project.handle.db,
    runId: id,
    checkpointRoot: project.registry.sideFolder(project.file, `runs/${id}`),
    backend,
    resume,
    control,
    faults,
    reporter: { started: () => undefined, progress: () => undefined, epoch: () => undefined, status: () => undefined, note: (n) => notes.push(n) },
  });
  return { runId: id, result, notes };
}

const history = (runId: number) => runHistory(project.handle.db, runId);
const bestValAcc = (runId: number) => Math.max(...history(runId).map((e) => e.valAcc ?? 0));

beforeAll(async () => {
  const gpu = await testDevice();
  if (typeof gpu === 'string') {
    if (deviceRequired()) throw new Error(gpu);
    noDevice = gpu;
  }
  backend = await useBackend('cpu');
  dir = makeTempDir('train-engine');
  project = await createTrainProject(dir, 14);
}, 120_000);

afterAll(() => {
  project?.registry.closeAll();
  removeDir(dir);
});

describe('training on the Effitune WebGPU engine', () => {
  // one engine run covers both (SwiftShader compiles every kernel of a plan, minutes on two cores):
  // cancelled after its first epoch, resumed from the checkpoint, then compared with TF.js
  it('from scratch it learns like the TF.js trainer with the same seed; cancelled, it resumes from its checkpoint and finishes', { timeout: 900_000 }, async (context) => {
    if (noDevice) return context.skip(noDevice);
    const control = new RunControl();
    const runId = createTrainingRun(project.handle, TrainOptions.parse({ ...RUN, engine: 'effitune' })).run.id;
    const watcher = setInterval(() => {
      if (history(runId).length >= 1) control.cancel('the test');
    }, 200);
    const stopped = await train({}, control, false, runId);
    clearInterval(watcher);
    expect(stopped.result.status).toBe('cancelled');
    expect(stopped.notes.map((n) => n.message).join('\n')).toMatch(/training steps on the Effitune WebGPU engine .*: \d+ dispatches per step in one command buffer, .*, fp32 with (subgroup reductions \(subgroups of \d+ checked\)|shared-memory reductions \(.+\))$/m);
    // Precise BN and validation ran on the engine's forward plans, with no fallback to TF.js
    expect(stopped.notes.map((n) => n.message).join('\n')).toMatch(/MiB after each epoch for Precise BN and validation, on the engine too\)/);
    expect(stopped.notes.filter((n) => n.kind === 'warning').map((n) => n.message).join('\n')).not.toMatch(/validation and Precise BN run in TF\.js/);
    const kept = history(runId).length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(RUN.epochs);
    // the checkpoint keeps the engine's Adam state in tf.train.adam's format: the step count, then m and v of every trained weight
    const checkpoint = findLatestCheckpoint(project.registry.sideFolder(project.file, `runs/${runId}`))!;
    const saved = checkpoint.state.optimizer!.weights;
    expect(saved[0]).toMatchObject({ name: 'iter', dtype: 'int32' });
    expect(saved.length).toBeGreaterThan(3);
    expect((saved.length - 1) % 2).toBe(0);
    expect(saved.slice(1, 1 + (saved.length - 1) / 2).every((w) => w.name.endsWith('/m'))).toBe(true);
    const checkModel = buildEfficientNet(getVariant(RUN.model), { classes: 3, resolution: RUN.resolution });
    const restored = await loadCheckpoint(checkpoint.dir, checkpoint.state, checkModel);
    checkModel.dispose();
    expect(Number(restored![0].tensor.dataSync()[0])).toBe(checkpoint.state.step);
    expect(Math.max(...restored!.slice(1).map((s) => Math.max(...Array.from(s.tensor.dataSync() as Float32Array, Math.abs))))).toBeGreaterThan(0);
    tf.dispose(restored!.map((s) => s.tensor));
    const resumed = await train({}, new RunControl(), true, runId);
    expect(resumed.result).toMatchObject({ status: 'completed', started: true });
    expect(getRun(project.handle.db, runId).status).toBe('completed');

    const theirs = await train({});
    const [e, t] = [history(runId), history(theirs.runId)];
    expect(e.map((x) => x.epoch)).toEqual([0, 1, 2, 3]);
    console.log(`engine (resumed after epoch ${kept - 1}): train loss ${e.map((x) => x.trainLoss!.toFixed(3)).join(' ')}, best val ${bestValAcc(runId)}; tfjs: ${t.map((x) => x.trainLoss!.toFixed(3)).join(' ')}, best val ${bestValAcc(theirs.runId)}`);
    // both learn: the loss falls and validation is well above chance
    expect(e.at(-1)!.trainLoss!).toBeLessThan(e[0].trainLoss!);
    expect(bestValAcc(runId)).toBeGreaterThanOrEqual(CHANCE + 0.25);
    // and alike: the same data, seed and schedule (the engine leaves out a last partial batch)
    // (a dozen validation images: one image is 8 points; the engine is held to not falling behind)
    expect(bestValAcc(runId)).toBeGreaterThanOrEqual(bestValAcc(theirs.runId) - 0.3);
    expect(Math.abs(e.at(-1)!.trainLoss! - t.at(-1)!.trainLoss!)).toBeLessThan(0.5);
    const { model } = await loadModelFolder(resumed.result.modelDir!);
    const probs = model.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor;
    expect(probs.shape).toEqual([1, 3]);
    model.dispose();
    expect(path.basename(resumed.result.modelDir!)).toBe('model');
  });

  it('precision mixed fails the run on an adapter without shader-f16, naming the feature (SwiftShader; the run itself: train-mixed-precision.test.ts)', { timeout: 120_000 }, async (context) => {
    if (noDevice) return context.skip(noDevice);
    const gpu = (await testDevice()) as Exclude<Awaited<ReturnType<typeof testDevice>>, string>;
    if (gpu.features.f16) return context.skip(`${gpu.adapter.device} has shader-f16: train-mixed-precision.test.ts trains on it`);
    const outcome = await train({ precision: 'mixed' }).then(
      (r) => `${r.result.status}: ${r.result.reason}`,
      (err: Error) => err.message,
    );
    expect(outcome).toMatch(/precision mixed stores float16 activations, and this GPU \(.+\) has no shader-f16: train with precision fp32/);
  });

  it('halves a batch whose step does not fit the GPU, says so, and trains at the batch that fits; a forward plan that does not fit beside it validates in TF.js', { timeout: 600_000 }, async (context) => {
    if (noDevice) return context.skip(noDevice);
    // a GPU whose largest storage binding holds less than the batch-8 arena and more than the batch-4 one
    // (the parameters and their moments, the same at any batch, are most of a tiny model's arena)
    const graph = buildNetworkGraph(getVariant(RUN.model), { classes: 3, resolution: RUN.resolution, dropout: 0.2, dropConnect: 0.2, seed: 3 });
    const arenaAt = (batch: number) => countTrainingStep(graph, { batch, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: null, seed: 3 }).arenaBytes;
    const [at4, at8] = [arenaAt(4), arenaAt(8)];
    expect(at4).toBeLessThan(at8);
    process.env.EFFITUNE_ENGINE_ARENA_BYTES = String(Math.floor((at4 + at8) / 2));
    try {
      // and after the epoch the GPU has no room for the forward plan of Precise BN and validation
      const run = await train({ engine: 'effitune', epochs: 1, batch: 8 }, new RunControl(), false, undefined, new FaultPlan('forward-oom@0'));
      expect(run.result.status, run.result.reason).toBe('completed');
      const halved = run.notes.filter((n) => n.kind === 'oom').map((n) => n.message);
      expect(halved).toHaveLength(1);
      expect(halved[0]).toMatch(/the engine's step at batch 8 does not fit this GPU \(arena: .* does not fit: the plan needs more than \d+ bytes.*\): halved the batch to 4/);
      expect(history(run.runId)[0].batch).toBe(4);
      const fellBack = run.notes.filter((n) => n.kind === 'warning').map((n) => n.message);
      expect(fellBack).toEqual([expect.stringMatching(/^validation and Precise BN run in TF\.js from now on: the GPU ran out of memory for the engine's forward plan at batch 4/)]);
      // the epoch still validated, in TF.js on the engine's weights
      expect(history(run.runId)[0].valLoss).toBeGreaterThan(0);
      expect(history(run.runId)[0].valAcc).not.toBeNull();
    } finally {
      delete process.env.EFFITUNE_ENGINE_ARENA_BYTES;
    }
  });
});
