/**
 * The recipe fitted to the data (main/train/recipe.ts, recipe-data.ts): small grayscale images get
 * a resolution near their own, mild crops, no saturation jitter, epochs from the data size, each
 * with its reason; whatever the caller sets wins; the channels come from the files' headers (and an
 * RGB PNG's pixels).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainOptions } from '../../main/contract/calls-train';
import { resolveTrainConfig } from '../../main/train/config';
import type { DataProfile } from '../../main/train/recipe';
import { headerChannels, profileTrainingData } from '../../main/train/recipe-data';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, type TrainProject } from '../fixtures/train-project';

const tenByFifty = Array.from({ length: 10 }, (_, k) => ({ name: `c${k}`, train: 50 }));
const grayTiny: DataProfile = { images: 600, shortSide: 28, longSide: 28, channels: 'gray', channelsBasis: 'file headers of 48 sampled images: 48 grayscale, 0 colour' };
const photos: DataProfile = { images: 20_000, shortSide: 375, longSide: 500, channels: 'colour', channelsBasis: 'file headers of 48 sampled images: 0 grayscale, 48 colour' };
const resolve = (options: Record<string, unknown>, data: DataProfile | null, classes = tenByFifty) => resolveTrainConfig(TrainOptions.parse({ model: 'phi=-4', mode: 'full', ...options }), classes, data);

describe('the recipe fitted to the data', () => {
  it('small grayscale images from scratch: their own size, mild crops, no saturation jitter, epochs and rate from the data size', () => {
    const { config, recipe } = resolve({}, grayTiny);
    expect(config).toMatchObject({ resolution: 32, batch: 16, epochs: 32, patience: 16, warmupEpochs: 1, lr: 5e-3, labelSmoothing: 0, dropConnect: 0, dropout: 0.1 });
    expect(config.augment).toMatchObject({ randomCrop: true, scaleMin: 0.7, ratioMin: 0.9, saturation: 0, brightness: 0.2, contrast: 0.2, flip: true });
    expect(config.recipe).toEqual(recipe);
    const words = recipe.join('\n');
    expect(words).toMatch(/resolution 32 px, not EfficientNet φ=-4's \d+: the images are 28×28 px/);
    expect(words).toMatch(/mild crops \(at least 70 % of the area/);
    expect(words).toMatch(/no saturation jitter: the images are grayscale \(file headers/);
    expect(words).toMatch(/32 epochs: from scratch .* 500 training images make 32 steps per epoch at batch 16/);
    expect(words).toMatch(/learning rate 0.005/);
    expect(words).toMatch(/no label smoothing, no stochastic depth, dropout 0.1 instead of 0.2: a short run from scratch on 500 images underfits/);
    expect(words).toMatch(/batch 16: 500 training images \(under 1000\)/);
    // a tiny set: batch 8, the most epochs, a longer warm-up and patience
    const tiny = resolve({}, grayTiny, [{ name: 'a', train: 30 }, { name: 'b', train: 26 }]).config;
    expect(tiny).toMatchObject({ batch: 8, epochs: 100, warmupEpochs: 5, patience: 50 });
    // batch 8 makes twice the steps of batch 16 per epoch: the epochs still give the images seen of the
    // batch-16 sets (the step count alone gave the 199-image imbalanced bench set 40 epochs and 0.42)
    const few = resolve({}, grayTiny, [{ name: 'a', train: 133 }, { name: 'b', train: 44 }, { name: 'c', train: 22 }]);
    expect(few.config).toMatchObject({ batch: 8, epochs: 81, patience: 41 });
    expect(few.recipe.join('\n')).toMatch(/81 epochs: from scratch a model needs to see about 16,000 images \(and make 1000 optimizer steps\), and there are 199 training images/);
  });

  it('what the caller sets wins, and the reasons leave it out', () => {
    const { config, recipe } = resolve({ resolution: 64, epochs: 12, lr: 1e-3, batch: 4, patience: 3, warmupEpochs: 0, labelSmoothing: 0.1, dropout: 0.3, dropConnect: 0.2, augment: { scaleMin: 0.2, saturation: 0.1 } }, grayTiny);
    expect(config).toMatchObject({ resolution: 64, epochs: 12, lr: 1e-3, batch: 4, patience: 3, warmupEpochs: 0, labelSmoothing: 0.1, dropout: 0.3, dropConnect: 0.2 });
    expect(config.augment).toMatchObject({ scaleMin: 0.2, saturation: 0.1, ratioMin: 0.75, ratioMax: 4 / 3, brightness: 0.2 });
    expect(recipe.join('\n')).not.toMatch(/resolution|epochs|learning rate|crops|saturation|batch|smoothing|stochastic|dropout/);
    expect(resolve({ augment: false }, grayTiny).config.augment).toBe(false);
  });

  it('augmentation settings given by the caller are completed by the fixed defaults, as before, and not explained', () => {
    // the contract fills every augmentation default once any is given, so a partial choice cannot be told from a full one
    const { config, recipe } = resolve({ augment: { scaleMax: 0.5 } }, grayTiny);
    expect(config.augment).toMatchObject({ scaleMin: 0.08, scaleMax: 0.5, ratioMin: 0.75, saturation: 0.2 });
    expect(recipe.join('\n')).not.toMatch(/crops|saturation/);
    expect(config.resolution).toBe(32);
  });

  it('pretrained weights: the epochs stay, the resolution goes up to twice the images, and on small data the rate goes to 1e-3', () => {
    const dir = makeTempDir('train-recipe-weights');
    try {
      const weights = path.join(dir, 'model');
      fs.mkdirSync(weights);
      fs.writeFileSync(path.join(weights, 'model.json'), '{}');
      const { config, recipe } = resolve({ mode: 'top', weights }, grayTiny);
      expect(config).toMatchObject({ resolution: 64, lr: 1e-3, epochs: 15, warmupEpochs: 1, patience: 5, batch: 16 });
      expect(recipe.join('\n')).toMatch(/learning rate 0.001, not 0.0001: with 500 training images \(under 1000\) the run makes only 480 optimizer steps \(15 epochs at batch 16\)/);
      // the caller's rate wins; with 1,000 training images or more the fine-tuning rate stays 1e-4; head mode keeps its 1e-3
      expect(resolve({ mode: 'full', weights, lr: 3e-4 }, grayTiny).config.lr).toBe(3e-4);
      const many = Array.from({ length: 10 }, (_, k) => ({ name: `c${k}`, train: 100 }));
      const big = resolve({ mode: 'full', weights }, grayTiny, many);
      expect(big.config.lr).toBe(1e-4);
      expect(big.recipe.join('\n')).not.toMatch(/learning rate/);
      expect(resolve({ mode: 'head', weights }, grayTiny).config.lr).toBe(1e-3);
    } finally {
      removeDir(dir);
    }
  });

  it('large colour photos in quantity keep the ImageNet recipe, and head mode never augments', () => {
    const many = Array.from({ length: 10 }, (_, k) => ({ name: `c${k}`, train: 2000 }));
    const { config, recipe } = resolve({ model: 'b0' }, photos, many);
    const fixed = resolve({ model: 'b0' }, null, many).config;
    expect(config).toMatchObject({ resolution: 224, epochs: 30, lr: 1e-3, patience: 5, batch: null, augment: fixed.augment });
    expect(recipe).toEqual([]);
    expect(config.recipe).toBeUndefined();
    expect(resolve({ mode: 'head' }, grayTiny).config.augment).toBe(false);
  });

  it('small data on large images: crops of at least a quarter', () => {
    expect(resolve({ model: 'b0' }, photos).config.augment).toMatchObject({ scaleMin: 0.25, saturation: 0.2 });
  });
});

describe('the data profile', () => {
  let dir: string;
  let project: TrainProject;
  beforeAll(async () => {
    dir = makeTempDir('train-recipe');
    project = await createTrainProject(dir, 3);
  }, 60_000);
  afterAll(() => {
    project?.registry.closeAll();
    removeDir(dir);
  });

  it('size from the images table, colour from the headers', () => {
    expect(profileTrainingData(project.handle.db)).toMatchObject({ images: 9, shortSide: 48, longSide: 48, channels: 'colour' });
  });

  it('reads grayscale from PNG colour types and JPEG components; WebP does not say', async () => {
    const grey = sharp({ create: { width: 8, height: 6, channels: 3, background: '#808080' } });
    const files = {
      grayPng: await grey.clone().toColourspace('b-w').png().toBuffer(),
      greyPixelsInRgbPng: await sharp({ create: { width: 8, height: 6, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).greyscale().png().toBuffer(),
      rgbPng: await sharp({ create: { width: 8, height: 6, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).png().toBuffer(),
      palettePng: await grey.clone().png({ palette: true }).toBuffer(),
      grayJpeg: await grey.clone().toColourspace('b-w').jpeg().toBuffer(),
      rgbJpeg: await sharp({ create: { width: 8, height: 6, channels: 3, background: '#ff2000' } }).jpeg().toBuffer(),
      webp: await grey.clone().webp().toBuffer(),
    };
    const channels: Record<string, unknown> = {};
    for (const [name, data] of Object.entries(files)) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, data);
      channels[name] = headerChannels(file);
    }
    expect(channels).toEqual({ grayPng: 'gray', greyPixelsInRgbPng: 'gray', rgbPng: 'colour', palettePng: 'gray', grayJpeg: 'gray', rgbJpeg: 'colour', webp: null });
    expect(headerChannels(path.join(dir, 'missing.png'))).toBeNull();
  });
});
