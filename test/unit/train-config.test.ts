/**
 * The configuration of a run: recipe defaults per mode and weights, and the clear errors a bad
 * option gets before any work starts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { TrainOptions } from '../../main/contract/calls-train';
import { findWeightsFile, resolveTrainConfig } from '../../main/train/config';
import { makeTempDir, removeDir } from '../fixtures/temp';

const classes = [
  { name: 'a', train: 10 },
  { name: 'b', train: 10 },
];
const resolve = (options: Record<string, unknown>, counts = classes) => resolveTrainConfig(TrainOptions.parse({ model: 'b0', ...options }), counts);

function expectInvalid(fn: () => unknown, words: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toMatch(words);
    return;
  }
  throw new Error('expected an error');
}

let dir: string;
beforeAll(() => {
  dir = makeTempDir('train-config');
  fs.writeFileSync(path.join(dir, 'efficientnetb0_notop.h5'), 'x');
  fs.mkdirSync(path.join(dir, 'cache-entry'));
  fs.writeFileSync(path.join(dir, 'cache-entry', 'efficientnetb0.h5'), 'x');
  fs.writeFileSync(path.join(dir, 'cache-entry', 'entry.json'), '{}');
  fs.mkdirSync(path.join(dir, 'model'));
  fs.writeFileSync(path.join(dir, 'model', 'model.json'), '{}');
  fs.mkdirSync(path.join(dir, 'two'));
  fs.writeFileSync(path.join(dir, 'two', 'a.h5'), 'x');
  fs.writeFileSync(path.join(dir, 'two', 'b.safetensors'), 'x');
  fs.mkdirSync(path.join(dir, 'empty'));
});
afterAll(() => removeDir(dir));

describe('recipe defaults', () => {
  it('a run that names no mode: head on weights, full from scratch (never a frozen random backbone)', () => {
    expect(resolve({}).config).toMatchObject({ mode: 'full', weights: null, freezeBatchNorm: false, epochs: 30 });
    expect(resolve({ weights: path.join(dir, 'efficientnetb0_notop.h5') }).config).toMatchObject({ mode: 'head', epochs: 20 });
  });

  it('head mode: Adam 1e-3, no augmentation, no warm-up, 20 epochs', () => {
    const { config } = resolve({ mode: 'head' });
    expect(config).toMatchObject({ model: 'b0', resolution: 224, mode: 'head', epochs: 20, optimizer: 'adam', lr: 1e-3, warmupEpochs: 0, augment: false, labelSmoothing: 0.1, patience: 5, imbalance: 'none', freezeBatchNorm: true, classes: ['a', 'b'] });
  });

  it('top mode with weights: Adam 1e-4, a quarter of the blocks, BatchNorm frozen, one warm-up epoch', () => {
    const { config } = resolve({ mode: 'top', weights: path.join(dir, 'efficientnetb0_notop.h5') });
    expect(config).toMatchObject({ lr: 1e-4, topBlocks: 4, freezeBatchNorm: true, warmupEpochs: 1, epochs: 15, weights: path.join(dir, 'efficientnetb0_notop.h5') });
    expect(config.augment).toMatchObject({ randomCrop: true, flip: true });
  });

  it('full mode from scratch: 1e-3, BatchNorm trains, the variant\'s dropout; custom φ and resolution', () => {
    const { config, warnings } = resolve({ model: 'phi=-4', mode: 'full', resolution: 48 });
    expect(config).toMatchObject({ model: 'phi=-4', resolution: 48, lr: 1e-3, freezeBatchNorm: false, dropout: 0.2, dropConnect: 0.2, weights: null, topBlocks: null });
    expect(warnings).toEqual([]);
  });

  it('adamw gets a decoupled weight decay of 0.01; a weight decay alone picks adamw', () => {
    expect(resolve({ optimizer: 'adamw' }).config.weightDecay).toBe(0.01);
    expect(resolve({ weightDecay: 0.05 }).config).toMatchObject({ optimizer: 'adamw', weightDecay: 0.05 });
    expect(resolve({ optimizer: 'sgd' }).config).toMatchObject({ optimizer: 'sgd', weightDecay: 0 });
  });

  it('imbalance auto: class weights when the largest class has 1.5× the smallest, and says so', () => {
    const imbalanced = resolve({}, [{ name: 'a', train: 30 }, { name: 'b', train: 10 }]);
    expect(imbalanced.config.imbalance).toBe('weights');
    expect(imbalanced.warnings.join(' ')).toMatch(/imbalanced/);
    expect(resolve({ imbalance: 'sampling' }).config.imbalance).toBe('sampling');
  });

  it('warns that a head on a random backbone learns little', () => {
    expect(resolve({ mode: 'head' }).warnings.join(' ')).toMatch(/random initialisation/);
  });
});

describe('bad configurations fail with the option named', () => {
  it('unknown model', () => expectInvalid(() => resolve({ model: 'b9' }), /unknown model "b9"/));
  it('batch 0 and negative epochs are refused by the contract', () => {
    expect(TrainOptions.safeParse({ model: 'b0', batch: 0 }).error?.issues[0]).toMatchObject({ path: ['batch'], message: 'must be at least 1' });
    expect(TrainOptions.safeParse({ model: 'b0', epochs: -1 }).success).toBe(false);
  });
  it('top blocks outside mode top, or more than the model has', () => {
    expectInvalid(() => resolve({ mode: 'full', topBlocks: 2 }), /topBlocks: applies to mode top only/);
    expectInvalid(() => resolve({ mode: 'top', topBlocks: 17 }), /has 16 blocks/);
  });
  it('warm-up as long as the run', () => expectInvalid(() => resolve({ mode: 'full', epochs: 2, warmupEpochs: 2 }), /warmupEpochs/));
  it('unfrozen BatchNorm in top mode', () => expectInvalid(() => resolve({ mode: 'top', freezeBatchNorm: false }), /freezeBatchNorm/));
  it('bad augmentation settings', () => expectInvalid(() => resolve({ mode: 'full', augment: { scaleMin: 0.9, scaleMax: 0.5 } }), /augmentation.scaleMin/));
});

describe('--weights', () => {
  it('takes a file, a TF.js model folder, or a folder holding one weights file', () => {
    expect(findWeightsFile(path.join(dir, 'efficientnetb0_notop.h5'))).toBe(path.join(dir, 'efficientnetb0_notop.h5'));
    expect(findWeightsFile(path.join(dir, 'model'))).toBe(path.join(dir, 'model'));
    expect(findWeightsFile(path.join(dir, 'cache-entry'))).toBe(path.join(dir, 'cache-entry', 'efficientnetb0.h5'));
  });
  it('says what is wrong with a path', () => {
    expectInvalid(() => findWeightsFile(path.join(dir, 'missing.h5')), /does not exist/);
    expectInvalid(() => findWeightsFile(path.join(dir, 'empty')), /holds no .h5 or .safetensors file/);
    expectInvalid(() => findWeightsFile(path.join(dir, 'two')), /several weights files \(a.h5, b.safetensors\)/);
  });
});

describe('precision', () => {
  it('fp32 unless asked; mixed asks for the Effitune engine on WebGPU (which then fails rather than fall back to TF.js in float32)', () => {
    expect(resolve({ mode: 'full' }).config.precision).toBeUndefined();
    expect(resolve({ mode: 'full', precision: 'fp32' }).config.precision).toBeUndefined();
    const { config } = resolve({ mode: 'full', precision: 'mixed' });
    expect(config).toMatchObject({ precision: 'mixed', engine: 'effitune', backend: 'webgpu' });
    expect(resolve({ mode: 'top', weights: undefined, allowRandomBackbone: true, precision: 'mixed' }).config.engine).toBe('effitune');
  });
  it('mixed is refused where the engine does not train, naming the field', () => {
    expectInvalid(() => resolve({ mode: 'head', allowRandomBackbone: true, precision: 'mixed' }), /precision: mixed .*head mode/);
    expectInvalid(() => resolve({ mode: 'full', engine: 'tfjs', precision: 'mixed' }), /precision: mixed .*engine tfjs trains in float32/);
    expectInvalid(() => resolve({ mode: 'full', backend: 'wasm', precision: 'mixed' }), /precision: mixed .*not wasm/);
    expect(() => TrainOptions.parse({ model: 'b0', precision: 'f16' })).toThrow(/precision/);
  });
});
