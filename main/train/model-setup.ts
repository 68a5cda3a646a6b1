/**
 * The model of a run: built for the run's classes, resolution, dropout and stochastic depth,
 * filled from a weights file when one is given, and prepared for the mode:
 *   head: nothing of the backbone trains; its pooled features feed the classifier (and are cached);
 *   top:  the classifier, the head convolution and the last N blocks train — whole blocks, never
 *         single layers — with every BatchNorm frozen;
 *   full: everything trains; BatchNorm too unless freezeBatchNorm.
 *
 * "Frozen BatchNorm" means both halves of the recipe: its gamma/beta do not train (trainable =
 * false) AND it normalises with its moving statistics, never the batch's, and never updates them.
 * tf.layers ties the latter to the `training` flag of the whole call, not to `trainable`, so each
 * frozen BatchNorm layer gets its call wrapped to always run in inference mode, and so does every
 * layer of a frozen block (no stochastic depth there). Dropout and stochastic depth of the training
 * blocks, and the dropout before the classifier, still see training = true.
 */
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../contract/contract';
import type { TrainConfig } from '../contract/calls-train';
import { loadModelFolder } from '../model/manager/model-folder';
import { PREPROCESS_LAYER, type BuildOptions } from '../model/build-options';
import { buildEfficientNet } from '../model/builder';
import { getVariant, planArchitecture, type VariantSpec } from '../model/variants';
import { trainingLayerTest } from './trainable-layers';

export { trainingLayerTest };

export interface TrainingModel {
  model: tfl.LayersModel;
  variant: VariantSpec;
  buildOptions: BuildOptions;
  fromScratch: boolean;
  /** what was loaded and decided, in words */
  notes: string[];
}

/** Build the run's model (classifier of `classes.length` outputs, softmax) and load the weights file if any. */
export async function buildTrainingModel(config: TrainConfig): Promise<TrainingModel> {
  const variant = getVariant(config.model);
  const classes = config.classes.length;
  const base: BuildOptions = { classes, includeTop: true, resolution: config.resolution, dropout: config.dropout, dropConnect: config.dropConnect, seed: config.seed };
  if (config.weights === null) {
    const model = buildEfficientNet(variant, base);
    setBatchNormMomentum(model, config.bnMomentum);
    zeroClassifier(model);
    return { model, variant, buildOptions: base, fromScratch: true, notes: [`no weights given: ${variant.name} starts from a random initialisation (training from scratch, seed ${config.seed})`] };
  }
  if (fs.statSync(config.weights).isDirectory()) return fromModelFolder(config, variant, base);
  // importWeights builds with the variant's dropout; build ours with the run's and copy the weights over.
  // Imported on demand: the HDF5 reader takes seconds to load, and most runs never need it.
  const { importWeights } = await import('../model/weights/import');
  const imported = await importWeights({ file: config.weights, variant: variant.id, classes, includeTop: true, resolution: config.resolution, seed: config.seed });
  try {
    const buildOptions: BuildOptions = { ...imported.buildOptions, ...base };
    const model = buildEfficientNet(variant, buildOptions);
    tf.tidy(() => {
      for (const layer of imported.model.layers) {
        if (layer.weights.length === 0 || layer.name === PREPROCESS_LAYER) continue;
        if (layer.name === 'predictions' && !imported.headLoaded) continue;
        model.getLayer(layer.name).setWeights(layer.getWeights());
      }
      model.getLayer(PREPROCESS_LAYER).setWeights(imported.model.getLayer(PREPROCESS_LAYER).getWeights());
    });
    setBatchNormMomentum(model, config.bnMomentum);
    if (!imported.headLoaded) zeroClassifier(model);
    const notes = [`weights of ${variant.name} loaded from ${config.weights} (${imported.format}, ${imported.tensorsLoaded} tensors)`, ...imported.notes];
    return { model, variant, buildOptions, fromScratch: false, notes };
  } finally {
    imported.model.dispose();
  }
}

/**
 * Start from a TF.js model folder, typically an earlier run's model: every layer but the classifier
 * takes the folder's weights (same names and shapes required), the classifier is new, because the
 * classes (or their order) may differ. Architecture options that are not weights (padding,
 * BatchNorm epsilon, preprocessing) come from the folder's model config, so features match.
 */
async function fromModelFolder(config: TrainConfig, variant: VariantSpec, base: BuildOptions): Promise<TrainingModel> {
  const dir = config.weights!;
  const { model: source, metadata } = await loadModelFolder(dir);
  try {
    if (metadata?.variant !== undefined && metadata.variant !== variant.id) {
      throw new ApiError('invalid_input', `weights: the model in ${dir} is ${metadata.variant}, not ${variant.id}; train with --model ${metadata.variant} or choose other weights`);
    }
    const buildOptions: BuildOptions = { ...base, ...architectureOf(source) };
    const model = buildEfficientNet(variant, buildOptions);
    let loaded = 0;
    tf.tidy(() => {
      for (const layer of model.layers) {
        if (layer.weights.length === 0 || layer.name === 'predictions') continue;
        const from = source.layers.find((l) => l.name === layer.name);
        if (!from) throw new ApiError('invalid_input', `weights: the model in ${dir} has no layer "${layer.name}" that ${variant.name} needs: is it another architecture?`);
        const values = from.getWeights();
        const wanted = layer.weights.map((w) => w.shape.join('×'));
        const got = values.map((v) => v.shape.join('×'));
        if (wanted.join(',') !== got.join(',')) throw new ApiError('invalid_input', `weights: layer "${layer.name}" in ${dir} has shapes ${got.join(', ')}, ${variant.name} needs ${wanted.join(', ')}`);
        layer.setWeights(values);
        loaded += values.length;
      }
    });
    setBatchNormMomentum(model, config.bnMomentum);
    zeroClassifier(model);
    return { model, variant, buildOptions, fromScratch: false, notes: [`backbone of ${variant.name} loaded from the model in ${dir} (${loaded} tensors); the ${config.classes.length}-class classifier is new`] };
  } finally {
    source.dispose();
  }
}

/** Padding and BatchNorm epsilon of a loaded model (what its layers say), so a rebuilt model computes the same. */
function architectureOf(model: tfl.LayersModel): Pick<BuildOptions, 'padding' | 'bnEpsilon'> {
  const symmetric = model.layers.some((l) => l.name === 'stem_conv_pad');
  const bn = model.layers.find(isBatchNorm) as unknown as { epsilon: number } | undefined;
  return { padding: symmetric ? 'symmetric' : 'tf-same', ...(bn ? { bnEpsilon: bn.epsilon } : {}) };
}

export interface ModeSetup {
  /** the variables the optimizer updates, in a fixed order (the optimizer state is saved by position) */
  variables: tf.Variable[];
  /** layers that train, for the notes */
  trainableLayers: number;
  description: string;
}

/** Set trainable flags and BatchNorm behaviour for the mode. Returns the variables to optimise. */
export function prepareForMode(model: tfl.LayersModel, variant: VariantSpec, config: TrainConfig): ModeSetup {
  const trains = trainingLayerTest(variant, config);
  let trainableLayers = 0;
  for (const layer of model.layers) {
    if (layer.name === PREPROCESS_LAYER) continue;
    const frozenBn = isBatchNorm(layer) && config.freezeBatchNorm;
    layer.trainable = trains(layer.name) && !frozenBn;
    // frozen layers run as in inference: BatchNorm on its moving statistics, and no stochastic
    // depth in frozen blocks (Keras' base_model(x, training=False) in the fine-tuning guide)
    if (frozenBn || !trains(layer.name)) runInInferenceMode(layer);
    if (layer.trainable && layer.trainableWeights.length > 0) trainableLayers++;
  }
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return { variables, trainableLayers, description: describeMode(variant, config) };
}


function describeMode(variant: VariantSpec, config: TrainConfig): string {
  const blocks = planArchitecture(variant).blocks;
  switch (config.mode) {
    case 'head':
      return 'head only: the backbone is frozen, its features are cached per image, the classifier trains';
    case 'top': {
      const first = blocks[blocks.length - (config.topBlocks ?? 1)].name;
      return `top ${config.topBlocks} of ${blocks.length} blocks (${first} onwards), the head convolution and the classifier train; BatchNorm frozen in inference mode`;
    }
    case 'full':
      return `all ${blocks.length} blocks train${config.freezeBatchNorm ? '; BatchNorm frozen in inference mode' : ''}`;
  }
}

function isBatchNorm(layer: tfl.layers.Layer): boolean {
  return layer.getClassName() === 'BatchNormalization';
}

const wrapped = new WeakSet<tfl.layers.Layer>();

/** Make a layer ignore the call's training flag and always run as in inference. */
export function runInInferenceMode(layer: tfl.layers.Layer): void {
  if (wrapped.has(layer)) return;
  wrapped.add(layer);
  const call = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
}

/**
 * A new classifier starts at zero (as Big Transfer does): the first predictions are uniform, the
 * first loss is exactly ln(classes), and no random head of a 1000-class-sized initialiser (Keras'
 * scale, far too large for a few classes) throws the first steps off. The gradient of a zero head is
 * not zero (features × (p − y)), so it learns from the first step.
 */
function zeroClassifier(model: tfl.LayersModel): void {
  const layer = model.getLayer('predictions');
  tf.tidy(() => layer.setWeights(layer.getWeights().map((w) => tf.zerosLike(w))));
}

/** The run's BatchNorm momentum (timm's --bn-momentum), when it differs from the variant's. */
function setBatchNormMomentum(model: tfl.LayersModel, momentum: number | null): void {
  if (momentum === null) return;
  for (const layer of model.layers) if (isBatchNorm(layer)) (layer as unknown as { momentum: number }).momentum = momentum;
}

/** The BatchNorm layers that train (whose moving statistics the training updates). */
export function trainingBatchNorms(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.filter((l) => isBatchNorm(l) && l.trainable && !wrapped.has(l));
}

/** The pooled features of the backbone (avg_pool's output), sharing the model's weights. */
export function backboneOf(model: tfl.LayersModel): tfl.LayersModel {
  return tfl.model({ inputs: model.inputs, outputs: model.getLayer('avg_pool').output as tfl.SymbolicTensor, name: `${model.name}_backbone` });
}

/** Classifier of the head-only mode on feature vectors: the model's own dropout and dense layers. */
export function applyHead(model: tfl.LayersModel, features: tf.Tensor, training: boolean): tf.Tensor {
  let x = features;
  const dropout = model.layers.find((l) => l.name === 'top_dropout');
  if (dropout) x = dropout.apply(x, { training }) as tf.Tensor;
  return model.getLayer('predictions').apply(x, { training }) as tf.Tensor;
}
