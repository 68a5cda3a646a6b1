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
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { TrainConfig } from '../api/calls-train';
import { PREPROCESS_LAYER, type BuildOptions } from '../model/build-options';
import { buildEfficientNet } from '../model/builder';
import { getVariant, planArchitecture, type VariantSpec } from '../model/variants';
import { importWeights } from '../model/weights/import';

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
    return { model, variant, buildOptions: base, fromScratch: true, notes: [`no weights given: ${variant.name} starts from a random initialisation (training from scratch, seed ${config.seed})`] };
  }
  // importWeights builds with the variant's dropout; build ours with the run's and copy the weights over
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
    const notes = [`weights of ${variant.name} loaded from ${config.weights} (${imported.format}, ${imported.tensorsLoaded} tensors)`, ...imported.notes];
    return { model, variant, buildOptions, fromScratch: false, notes };
  } finally {
    imported.model.dispose();
  }
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

/** Which layer names train in this mode. */
function trainingLayerTest(variant: VariantSpec, config: TrainConfig): (name: string) => boolean {
  if (config.mode === 'full') return () => true;
  if (config.mode === 'head') return (name) => name === 'predictions' || name === 'top_dropout';
  const blocks = planArchitecture(variant).blocks;
  const top = blocks.slice(blocks.length - (config.topBlocks ?? 1)).map((b) => `${b.name}_`);
  return (name) => name === 'predictions' || name.startsWith('top_') || top.some((prefix) => name.startsWith(prefix));
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

/** The run's BatchNorm momentum (timm's --bn-momentum), when it differs from the variant's. */
function setBatchNormMomentum(model: tfl.LayersModel, momentum: number | null): void {
  if (momentum === null) return;
  for (const layer of model.layers) if (isBatchNorm(layer)) (layer as unknown as { momentum: number }).momentum = momentum;
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
