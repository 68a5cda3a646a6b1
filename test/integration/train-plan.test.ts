/**
 * train.plan: what the setup shows before a run starts — the configuration train.start would
 * store, with the recipe's reasons for this project's images — and the same refusals as train.start,
 * without starting or measuring anything.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Service } from '../../main/service/service';
import { getVariant } from '../../main/model/variants';
import { engineStepBytes } from '../../main/train/engine-options';
import { createTrainProject } from '../fixtures/train-project';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
let file: string;
let service: Service;

beforeAll(async () => {
  dir = makeTempDir('train-plan');
  const project = await createTrainProject(dir, 10);
  project.registry.closeAll();
  file = project.file;
  service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
}, 60_000);

afterAll(() => {
  service?.close();
  removeDir(dir);
});

describe('train.plan', () => {
  it('gives the resolved configuration and the recipe reasons for the images, and stores no run', async () => {
    const plan = await service.call('train.plan', { project: file, model: 'phi=-8', mode: 'full' });
    // 48 px colour images, a few dozen training images: their own size, small batch, the from-scratch rate
    expect(plan.config).toMatchObject({ resolution: 48, mode: 'full', lr: 5e-3, labelSmoothing: 0, weights: null });
    expect(plan.config.recipe).toEqual(plan.recipe);
    const words = plan.recipe.join('\n');
    expect(words).toMatch(/resolution 48 px, not EfficientNet φ=-8's 72: the images are 48×48 px/);
    expect(words).toMatch(/mild crops/);
    expect(words).not.toMatch(/grayscale/);
    const { runs } = await service.call('runs.list', { project: file });
    expect(runs).toHaveLength(0);
  });

  it('what the caller sets is kept and not explained', async () => {
    const plan = await service.call('train.plan', { project: file, model: 'phi=-8', mode: 'full', resolution: 64, lr: 1e-3 });
    expect(plan.config).toMatchObject({ resolution: 64, lr: 1e-3 });
    expect(plan.recipe.join('\n')).not.toMatch(/resolution|learning rate/);
  });

  it('mixed precision: the plan is the engine\'s on WebGPU, and refused where TF.js would train', async () => {
    const plan = await service.call('train.plan', { project: file, model: 'phi=-8', mode: 'full', precision: 'mixed' });
    expect(plan.config).toMatchObject({ precision: 'mixed', engine: 'effitune', backend: 'webgpu' });
    await expect(service.call('train.plan', { project: file, model: 'phi=-8', mode: 'full', precision: 'mixed', engine: 'tfjs' })).rejects.toThrow(/precision: mixed .*engine tfjs trains in float32/);
  });

  it("counts a step's memory where the run would train: the engine's plans on WebGPU (B0 224 px batch 32: about 2 GiB against TF.js's 23 GB), TF.js's estimate elsewhere", async () => {
    const onGpu = await service.call('train.plan', { project: file, model: 'b0', resolution: 224, mode: 'full', backend: 'webgpu', batch: 32 });
    expect(onGpu.stepMemory).toMatchObject({ backend: 'webgpu', batch: 32, engine: 'effitune' });
    expect(onGpu.stepMemory!.bytes).toBe(engineStepBytes(onGpu.config, getVariant('b0'))(32));
    expect(onGpu.stepMemory!.bytes / 2 ** 30).toBeGreaterThan(1.5);
    expect(onGpu.stepMemory!.bytes / 2 ** 30).toBeLessThan(2.5);
    // the same run on TF.js's WebGPU backend, or on the CPU: TF.js's estimate, many times more
    const onTfjs = await service.call('train.plan', { project: file, model: 'b0', resolution: 224, mode: 'full', backend: 'webgpu', engine: 'tfjs', batch: 32 });
    expect(onTfjs.stepMemory).toMatchObject({ engine: 'tfjs', batch: 32 });
    expect(onTfjs.stepMemory!.bytes).toBeGreaterThan(5 * onGpu.stepMemory!.bytes);
    // a backend left to auto is counted on memoryOn (the one a run would pick), at the run's batch (here the one it sets)
    const auto = await service.call('train.plan', { project: file, model: 'b0', resolution: 224, mode: 'full', batch: 8, memoryOn: 'webgpu' });
    expect(auto.stepMemory).toMatchObject({ backend: 'webgpu', batch: 8, engine: 'effitune' });
    expect(auto.config.backend).toBeNull();
    expect((await service.call('train.plan', { project: file, model: 'b0', mode: 'full', backend: 'cpu', memoryOn: 'webgpu' })).stepMemory).toMatchObject({ backend: 'cpu', engine: 'tfjs' });
    expect((await service.call('train.plan', { project: file, model: 'b0', mode: 'full' })).stepMemory).toBeNull();
  });

  it('refuses a head-mode run on a random backbone as train.start does, naming the way out', async () => {
    await expect(service.call('train.plan', { project: file, model: 'phi=-8', mode: 'head' })).rejects.toThrow(/random.*(pretrained weights|mode full)/s);
    await expect(service.call('train.plan', { project: file, model: 'b99', mode: 'full' })).rejects.toThrow(/b99/);
  });
});
