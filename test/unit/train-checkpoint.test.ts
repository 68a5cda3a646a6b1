/**
 * Checkpoints: atomic, verified on load, damaged ones skipped, leftovers of a killed writer
 * removed, model and optimizer state restored exactly, the best and last kept, the final model
 * a TF.js folder that loads elsewhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EpochRecord } from '../../main/contract/calls-data';
import { loadModelFolder } from '../../main/model/manager/model-folder';
import { epochDirName, finalizeModel, findLatestCheckpoint, loadCheckpoint, pruneCheckpoints, verifyCheckpoint, writeCheckpoint } from '../../main/train/checkpoint';
import { createOptimizer } from '../../main/train/optimizer';
import { makeTempDir, removeDir } from '../fixtures/temp';

function tinyModel(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [4] });
  const hidden = tfl.layers.dense({ units: 3, name: 'hidden', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }).apply(input) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'predictions', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }).apply(hidden) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

const record = (epoch: number): EpochRecord => ({ epoch, trainLoss: 1, trainAcc: 0.5, valLoss: 1, valAcc: 0.5, imagesPerSecond: 10, seconds: 1, lr: 1e-3, batch: 8, at: new Date().toISOString() });

async function save(root: string, model: tfl.LayersModel, epoch: number, optimizer = createOptimizer('adam', model.trainableWeights.map((w) => w.read() as tf.Variable), 0)) {
  const state = await optimizer.state();
  const dir = await writeCheckpoint(root, {
    model,
    labels: ['cat', 'dog'],
    metadata: { variant: 'tiny', resolution: 4 },
    optimizer: { name: 'adam', state },
    state: { runId: 1, epoch, batch: 8, step: 10 * (epoch + 1), seed: 1, best: { epoch, valLoss: 1 }, epochsWithoutImprovement: 0, record: record(epoch) },
  });
  return { dir, optimizer };
}

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
});
beforeEach(() => {
  root = makeTempDir('checkpoint');
});
afterEach(() => removeDir(root));

describe('checkpoints', () => {
  it('restore the weights and the optimizer moments exactly', async () => {
    const model = tinyModel(1);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const optimizer = createOptimizer('adam', variables, 0);
    const x = tf.tensor2d([[1, 2, 3, 4], [4, 3, 2, 1]]);
    const labels = tf.tensor1d([0, 1], 'int32');
    const step = (opt: typeof optimizer, m: tfl.LayersModel) =>
      tf.tidy(() => opt.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 2), m.apply(x) as tf.Tensor) as tf.Scalar, 0.01)).dataSync()[0];
    step(optimizer, model);
    step(optimizer, model);
    await save(root, model, 0, optimizer);

    const found = findLatestCheckpoint(root)!;
    expect(found.state).toMatchObject({ epoch: 0, batch: 8, step: 10, best: { epoch: 0 } });
    const restored = tinyModel(99);
    const restoredOptimizer = createOptimizer('adam', restored.trainableWeights.map((w) => w.read() as tf.Variable), 0);
    const state = await loadCheckpoint(found.dir, found.state, restored);
    await restoredOptimizer.restore(state!);
    for (let i = 0; i < model.weights.length; i++) expect(Array.from(restored.weights[i].read().dataSync())).toEqual(Array.from(model.weights[i].read().dataSync()));
    // the same next step from both: same moments and iteration count
    const a = step(optimizer, model);
    const b = step(restoredOptimizer, restored);
    expect(b).toBeCloseTo(a, 6);
    for (let i = 0; i < model.weights.length; i++) {
      const left = model.weights[i].read().dataSync();
      const right = restored.weights[i].read().dataSync();
      left.forEach((v, j) => expect(right[j]).toBeCloseTo(v, 6));
    }
  });

  it('are never half there: leftovers of a killed writer go, a damaged one is skipped for the one before', async () => {
    const model = tinyModel(1);
    await save(root, model, 0);
    await save(root, model, 1);
    // a writer killed before its rename
    fs.mkdirSync(path.join(root, `.tmp-${epochDirName(2)}-123`));
    fs.writeFileSync(path.join(root, `.tmp-${epochDirName(2)}-123`, 'weights.bin'), 'partial');
    // epoch 1's weights damaged after the fact
    const weights = path.join(root, epochDirName(1), 'weights.bin');
    const bytes = fs.readFileSync(weights);
    bytes[0] ^= 0xff;
    fs.writeFileSync(weights, bytes);
    const damaged: string[] = [];
    const found = findLatestCheckpoint(root, (dir, why) => damaged.push(`${path.basename(dir)}: ${why}`));
    expect(found?.state.epoch).toBe(0);
    expect(damaged).toEqual([expect.stringMatching(/^epoch-0001: weights.bin differs/)]);
    expect(fs.readdirSync(root).some((n) => n.startsWith('.tmp-'))).toBe(false);
    fs.rmSync(path.join(root, epochDirName(0), 'state.json'));
    expect(findLatestCheckpoint(root)).toBeNull();
  });

  it('keep the last and the best; the finished run keeps one TF.js model folder with its labels', async () => {
    const model = tinyModel(1);
    for (const epoch of [0, 1, 2]) await save(root, model, epoch);
    pruneCheckpoints(root, new Set([0, 2]));
    expect(fs.readdirSync(root).sort()).toEqual([epochDirName(0), epochDirName(2)]);
    const dir = finalizeModel(root, 0);
    expect(fs.readdirSync(root)).toEqual(['model']);
    expect(typeof verifyCheckpoint(dir)).toBe('object');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8'))).toEqual(['cat', 'dog']);
    const loaded = await loadModelFolder(dir);
    expect(loaded.metadata).toMatchObject({ variant: 'tiny', classes: 2 });
    const x = tf.tensor2d([[1, 0, 0, 1]]);
    expect(Array.from((loaded.model.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    // finalizing again after a kill right after the rename finds the model in place
    expect(finalizeModel(root, 0)).toBe(dir);
  });
});
