/**
 * A run's configuration: what the caller chose, completed with the defaults of the fine-tuning
 * recipe for the model and mode (docs/efficientnet-reference.md, "Fine-tuning recipe"), and checked before any work
 * starts. Runs in the service process, without TensorFlow.js: a bad configuration fails in
 * milliseconds with a message naming the option.
 *
 * Recipe defaults: head only: Adam 1e-3 on cached features, no augmentation; top blocks / full:
 * Adam 1e-4 from pretrained weights (1e-3 from scratch, where nothing is there to preserve), one
 * warm-up epoch then cosine decay, label smoothing 0.1, early stopping after 5 epochs without a
 * better validation loss.
 *
 * With a profile of the project's images (recipe-data.ts), the defaults left open are fitted to the
 * data first (recipe.ts: resolution, crops, colour jitter, epochs, learning rate), each choice with
 * its reason in `recipe`; without one they are the fixed recipe above. What the caller sets always wins.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../contract/contract';
import type { z } from 'zod';
import { defaultTrainMode, type TrainConfig, type TrainOptions } from '../contract/calls-train';
import { getVariant, planArchitecture, type VariantSpec } from '../model/variants';
import { resolveAugmentation } from './data/augmentation';
import type { SubsetChoice } from './data/subset';
import { DecodedCache } from './data/decoded-cache';
import { chooseRecipe, type DataProfile } from './recipe';

/** train.start's options after the contract's parsing (defaults of mode, seed, imbalance filled in). */
export type ParsedTrainOptions = z.output<typeof TrainOptions>;

export const DEFAULT_EPOCHS = { head: 20, top: 15, full: 30 } as const;
export const DEFAULT_LABEL_SMOOTHING = 0.1;
export const DEFAULT_PATIENCE = 5;
export const DEFAULT_ADAMW_DECAY = 0.01;
/** class weights are switched on when the largest class has this many times the images of the smallest */
export const IMBALANCE_RATIO = 1.5;
const WEIGHTS_FILE = /\.(h5|hdf5|safetensors)$/i;

/** Per class (in model output order): images in the train split. */
export interface ClassTrainCount {
  name: string;
  train: number;
}

export interface ResolvedConfig {
  config: TrainConfig;
  variant: VariantSpec;
  warnings: string[];
  /** what the recipe fitted to the data chose and why, in words (also in config.recipe); empty without a data profile */
  recipe: string[];
}

/**
 * Complete and check the options of a new run. `classes` come from checkTrainable (data/trainable.ts),
 * `data` from profileTrainingData (recipe-data.ts); without it the defaults are the fixed recipe.
 */
export function resolveTrainConfig(options: ParsedTrainOptions, classes: readonly ClassTrainCount[], data: DataProfile | null = null): ResolvedConfig {
  const variant = getVariant(options.model);
  const mode = options.mode ?? defaultTrainMode(options.weights);
  const warnings: string[] = [];
  const blocks = planArchitecture(variant).blocks.length;

  if (options.topBlocks !== undefined && mode !== 'top') throw new ApiError('invalid_input', `topBlocks: applies to mode top only (this run's mode is ${mode})`);
  if (options.topBlocks !== undefined && options.topBlocks > blocks) {
    throw new ApiError('invalid_input', `topBlocks: ${variant.name} has ${blocks} blocks, so at most ${blocks} can train (use mode full to train all of them)`);
  }
  const weights = options.weights === undefined ? null : findWeightsFile(options.weights);
  const splitImages = classes.reduce((n, c) => n + c.train, 0);
  if (options.subset && mode === 'head') throw new ApiError('invalid_input', 'subset: applies to mode top or full (head mode trains on the cached features of every image)');
  const trainImages = options.subset ? Math.min(splitImages, options.subset.train) : splitImages;
  const fitted = data
    ? chooseRecipe({ profile: data, trainImages, classes: classes.length, mode, variant, pretrained: weights !== null, defaultEpochs: DEFAULT_EPOCHS[mode], given: options })
    : null;
  const resolution = options.resolution ?? fitted?.resolution ?? variant.resolution;
  const epochs = options.epochs ?? fitted?.epochs ?? DEFAULT_EPOCHS[mode];
  const optimizer = options.optimizer ?? (options.weightDecay ? 'adamw' : 'adam');
  const lr = options.lr ?? fitted?.lr ?? (mode === 'head' || weights === null ? 1e-3 : 1e-4);
  const warmupEpochs = options.warmupEpochs ?? fitted?.warmupEpochs ?? (mode !== 'head' && epochs >= 5 ? 1 : 0);
  if (warmupEpochs >= epochs && warmupEpochs > 0) throw new ApiError('invalid_input', `warmupEpochs: ${warmupEpochs} warm-up epochs leave nothing of a ${epochs}-epoch run; use fewer`);

  if (mode === 'head' && options.augment !== undefined && options.augment !== false) {
    warnings.push('head mode trains on cached features of the un-augmented images: the augmentation settings are not used');
  }
  if (mode === 'head' && options.freezeBatchNorm === false) warnings.push('head mode never trains BatchNorm: freezeBatchNorm false has no effect');
  if (mode === 'top' && options.freezeBatchNorm === false) throw new ApiError('invalid_input', 'freezeBatchNorm: mode top always keeps BatchNorm frozen (the recipe); use mode full to train BatchNorm');
  if (options.engine === 'effitune') {
    if (mode === 'head') throw new ApiError('invalid_input', 'engine: effitune trains mode full or top; head mode trains the classifier on cached features in TF.js');
    if (options.backend !== undefined && options.backend !== 'webgpu') throw new ApiError('invalid_input', `engine: effitune runs on WebGPU; leave out backend or give webgpu (not ${options.backend})`);
  }
  if (options.precision === 'mixed') {
    const why = 'precision: mixed stores float16 activations on the Effitune WebGPU engine';
    if (mode === 'head') throw new ApiError('invalid_input', `${why}, which trains mode full or top (head mode trains the classifier on cached features in TF.js)`);
    if (options.engine === 'tfjs') throw new ApiError('invalid_input', `${why}; engine tfjs trains in float32 (leave out engine, or give effitune)`);
    if (options.backend !== undefined && options.backend !== 'webgpu') throw new ApiError('invalid_input', `${why}; leave out backend or give webgpu (not ${options.backend})`);
  }
  if (weights === null && mode !== 'full') {
    warnings.push(`no weights given: the ${mode === 'head' ? 'backbone' : 'frozen part of the backbone'} keeps its random initialisation, so expect far lower accuracy than from pretrained weights`);
  }

  // mixed precision is the engine's: asking for it asks for the engine (which then fails rather than fall back to TF.js in fp32)
  const engine = options.engine ?? (options.precision === 'mixed' ? 'effitune' : undefined);
  const config: TrainConfig = {
    version: 1,
    model: variant.id,
    resolution,
    mode,
    epochs,
    batch: options.batch ?? fitted?.batch ?? null,
    backend: options.backend ?? (engine === 'effitune' ? 'webgpu' : null),
    seed: options.seed,
    weights,
    topBlocks: mode === 'top' ? (options.topBlocks ?? Math.max(1, Math.ceil(blocks / 4))) : null,
    optimizer,
    lr,
    weightDecay: options.weightDecay ?? (optimizer === 'adamw' ? DEFAULT_ADAMW_DECAY : 0),
    warmupEpochs,
    labelSmoothing: options.labelSmoothing ?? fitted?.labelSmoothing ?? DEFAULT_LABEL_SMOOTHING,
    imbalance: resolveImbalance(options.imbalance, classes, warnings),
    dropout: options.dropout ?? fitted?.dropout ?? variant.dropout,
    dropConnect: options.dropConnect ?? fitted?.dropConnect ?? variant.dropConnect,
    patience: options.patience ?? fitted?.patience ?? DEFAULT_PATIENCE,
    augment: mode === 'head' || options.augment === false ? false : resolveAugmentation({ ...fitted?.augment, ...options.augment }),
    bnMomentum: options.bnMomentum ?? null,
    freezeBatchNorm: mode !== 'full' || options.freezeBatchNorm === true,
    ...(engine ? { engine } : {}),
    ...(options.precision === 'mixed' ? { precision: 'mixed' as const } : {}),
    ...(options.decodeCache !== undefined && mode !== 'head' ? { decodeCache: options.decodeCache } : {}),
    ...(options.subset ? { subset: { train: options.subset.train, val: options.subset.val ?? null, seed: options.subset.seed } } : {}),
    classes: classes.map((c) => c.name),
  };
  const recipe = fitted?.reasons ?? [];
  if (recipe.length > 0) config.recipe = recipe;
  return { config, variant, warnings, recipe };
}

function resolveImbalance(choice: ParsedTrainOptions['imbalance'], classes: readonly ClassTrainCount[], warnings: string[]): TrainConfig['imbalance'] {
  if (choice !== 'auto') return choice;
  const counts = classes.map((c) => c.train).filter((n) => n > 0);
  const ratio = Math.max(...counts) / Math.min(...counts);
  if (ratio < IMBALANCE_RATIO) return 'none';
  warnings.push(`the classes are imbalanced (the largest has ${ratio.toFixed(1)}× the training images of the smallest): the loss weighs each class by its inverse frequency`);
  return 'weights';
}

/**
 * What --weights names: a .h5 / .safetensors file, a TF.js model folder (model.json, e.g. the model
 * of an earlier run), or a folder holding one weights file (such as a folder of the weights cache,
 * <data>/weights/<id>/). Checked now so a typo fails before training.
 */
export function findWeightsFile(given: string): string {
  const resolved = path.resolve(given);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch {
    throw new ApiError('not_found', `weights: ${resolved} does not exist`);
  }
  if (stat.isFile()) return resolved;
  if (fs.existsSync(path.join(resolved, 'model.json'))) return resolved;
  const found = fs.readdirSync(resolved).filter((name) => WEIGHTS_FILE.test(name));
  if (found.length === 1) return path.join(resolved, found[0]);
  if (found.length === 0) throw new ApiError('not_found', `weights: the folder ${resolved} holds no .h5 or .safetensors file and no TF.js model (model.json)`);
  throw new ApiError('invalid_input', `weights: the folder ${resolved} holds several weights files (${found.join(', ')}); name the file`);
}

/** The stratified subset a run keeps of a split (data/subset.ts), or null for the whole split. */
export function subsetOf(config: TrainConfig, split: 'train' | 'val'): SubsetChoice | null {
  const count = config.subset?.[split];
  return config.subset && count !== null && count !== undefined ? { count, seed: config.subset.seed } : null;
}

/** The decode cache a run reads (data/decoded-cache.ts), or null when it decodes the files. */
export function decodedCacheOf(projectFile: string, config: TrainConfig): DecodedCache | null {
  return config.decodeCache === undefined ? null : DecodedCache.forProject(projectFile, config.decodeCache);
}

/** One line for logs and the CLI: what this run trains, how. */
export function describeConfig(config: TrainConfig): string {
  const parts = [`${config.model} at ${config.resolution} px`, `mode ${config.mode}${config.mode === 'top' ? ` (last ${config.topBlocks} blocks)` : ''}`, `${config.epochs} epochs`];
  if (config.subset) parts.push(`a subset of ${config.subset.train} training${config.subset.val === null ? '' : ` and ${config.subset.val} validation`} images`);
  parts.push(`${config.optimizer} lr ${config.lr}`, config.weights ? `weights ${path.basename(config.weights)}` : 'from scratch');
  return parts.join(', ');
}
