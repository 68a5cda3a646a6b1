/**
 * A TF.js run is a function of its seed, dropout and stochastic depth included (their masks are
 * seeded per step: main/train/dropout-seeds.ts): two runs with the same seed record the same epochs
 * and end with the same weights, a run stopped after an epoch and resumed ends where the
 * uninterrupted run does, and another seed gives another run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainOptions } from '../../main/contract/calls-train';
import { useBackend, type ActiveBackend } from '../../main/backend/tfjs-backend';
import { loadModelFolder } from '../../main/model/manager/model-folder';
import { runHistory } from '../../main/project/runs';
import { RunControl } from '../../main/train/control';
import { dropoutSeed } from '../../main/train/dropout-seeds';
import { createTrainingRun } from '../../main/train/new-run';
import { trainRun, type RunResult } from '../../main/train/train-run';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, type TrainProject } from '../fixtures/train-project';

// dropout and stochastic depth well above the defaults, so their masks matter to every step
const RUN = { model: 'phi=-8', resolution: 32, batch: 8, mode: 'full', epochs: 3, patience: 0, lr: 3e-3, dropout: 0.5, dropConnect: 0.5, augment: { scaleMin: 0.5 } };

let dir: string;
let project: TrainProject;
let backend: ActiveBackend;

async function train(runId: number, resume: boolean, stopAfterEpochs?: number): Promise<RunResult> {
  return trainRun({
    db: project.handle.db,
    runId,
    checkpointRoot: project.registry.sideFolder(project.file, `runs/${runId}`),
    backend,
    resume,
    control: new RunControl(),
    stopAfterEpochs,
    reporter: { started: () => undefined, progress: () => undefined, epoch: () => undefined, status: () => undefined, note: () => undefined },
  });
}

const newRun = (seed: number) => createTrainingRun(project.handle, TrainOptions.parse({ ...RUN, seed })).run.id;
const losses = (runId: number) => runHistory(project.handle.db, runId).map((e) => [e.trainLoss, e.valLoss]);

async function weights(result: RunResult): Promise<Float32Array[]> {
  const { model } = await loadModelFolder(result.modelDir!);
  const out = model.weights.map((w) => w.read().dataSync() as Float32Array);
  model.dispose();
  return out;
}

beforeAll(async () => {
  backend = await useBackend('cpu');
  dir = makeTempDir('train-reproducible');
  project = await createTrainProject(dir, 10);
}, 60_000);
afterAll(() => {
  project?.registry.closeAll();
  removeDir(dir);
});

describe('a TF.js run is the same for the same seed', () => {
  it('twice the same run, a resumed run as the uninterrupted one, another seed another run', { timeout: 300_000 }, async () => {
    const first = newRun(5);
    const a = await train(first, false);
    expect(a.status).toBe('completed');
    const second = newRun(5);
    const b = await train(second, false);
    expect(losses(second)).toEqual(losses(first));
    expect(await weights(b)).toEqual(await weights(a));

    const stopped = newRun(5);
    expect((await train(stopped, false, 1)).status).toBe('cancelled');
    expect(runHistory(project.handle.db, stopped)).toHaveLength(1);
    const resumed = await train(stopped, true);
    expect(resumed.status).toBe('completed');
    expect(losses(stopped)).toEqual(losses(first));
    expect(await weights(resumed)).toEqual(await weights(a));

    const other = newRun(6);
    await train(other, false);
    expect(losses(other)[0]).not.toEqual(losses(first)[0]);
  });

  it('seeds differ from step to step and layer to layer, and stay 31-bit integers', () => {
    const seeds = new Set<number>();
    for (let step = 0; step < 100; step++) for (let layer = 0; layer < 20; layer++) seeds.add(dropoutSeed(5, step, layer));
    expect(seeds.size).toBe(2000);
    expect([...seeds].every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 31)).toBe(true);
    expect(dropoutSeed(5, 3, 1)).toBe(dropoutSeed(5, 3, 1));
    expect(dropoutSeed(6, 3, 1)).not.toBe(dropoutSeed(5, 3, 1));
  });
});
