/**
 * Honest figures for a variant before anything is built: trainable parameters, multiply-adds and
 * the memory a training step needs at a batch size. All come from the layer table (layers.ts),
 * which tests check against built models.
 */
import type { ArchitectureFigures } from '../contract/calls-models';
import { describeLayers, type LayerInfo } from './layers';
import { NAMED_VARIANTS, getVariant, planArchitecture, type VariantSpec } from './variants';
import type { BuildOptions } from './build-options';

const BYTES_PER_FLOAT = 4;

/**
 * Bytes a tf.js training step keeps per activation element of the layer table. Measured with
 * tf.profile on the cpu backend (peak bytes of tf.variableGrads, slope over batch size): 7.8–8.1 for
 * φ=−6, B0, V2-B0 at 32–128 px. tf.js keeps every op's output for backprop, not only each layer's
 * (BatchNorm's x − mean, swish's sigmoid, SE's broadcasts), and holds each tensor's gradient until
 * the backward pass ends, hence ≈ 8 floats per layer-output element.
 */
export const TFJS_ACTIVATION_FLOATS_PER_ELEMENT = 8;
/*
 * Per trainable parameter, a step also holds its gradient plus one gradient-sized temporary
 * (measured 2.1–2.2 floats with tf.profile) and Adam's two moments. This assumes the optimizer
 * update frees its temporaries variable by variable: the stock tf.train.adam runs the whole update
 * in one tidy and so keeps about 11 more floats per parameter until it ends.
 */

export function trainableParams(layers: readonly LayerInfo[]): number {
  return sum(layers.flatMap((l) => l.weights.filter((w) => w.trainable).map((w) => product(w.shape))));
}

export function allParams(layers: readonly LayerInfo[]): number {
  return sum(layers.flatMap((l) => l.weights.map((w) => product(w.shape))));
}

/** Multiply-adds per image: Σ conv output positions × kernel volume, plus the classifier. */
export function multiplyAdds(layers: readonly LayerInfo[]): number {
  return sum(layers.map((l) => l.macs));
}

/** Σ over layers of output elements per image (input included): what backprop keeps, in layer units. */
export function activationElements(layers: readonly LayerInfo[]): number {
  return sum(layers.map((l) => product(l.outputShape)));
}

export interface TrainingMemory {
  /** activations kept for backprop and their gradients: 8 floats per layer-output element per image */
  activations: number;
  /** all weights, BatchNorm statistics included */
  weights: number;
  /** the gradient of every trainable weight plus one gradient-sized temporary */
  gradients: number;
  /** Adam's first and second moments */
  optimizerState: number;
  total: number;
}

/**
 * Training-step memory in bytes at a batch size:
 *   4 · ( 8 · batch · Σ layer-output elements      activations and their gradients (tf.js)
 *       + all weights (incl. BatchNorm statistics)
 *       + 2 · trainable params                      gradients + one temporary
 *       + 2 · trainable params )                    Adam's first and second moments
 * Data pipeline buffers and the backend's own workspace are not included.
 */
export function trainingMemory(layers: readonly LayerInfo[], batch: number): TrainingMemory {
  const trainable = trainableParams(layers);
  const parts = {
    activations: BYTES_PER_FLOAT * TFJS_ACTIVATION_FLOATS_PER_ELEMENT * batch * activationElements(layers),
    weights: BYTES_PER_FLOAT * allParams(layers),
    gradients: BYTES_PER_FLOAT * 2 * trainable,
    optimizerState: BYTES_PER_FLOAT * 2 * trainable,
  };
  return { ...parts, total: parts.activations + parts.weights + parts.gradients + parts.optimizerState };
}

/**
 * Training-step memory of top-N mode when the frozen trunk runs outside the training backend (on
 * ONNX Runtime): only the layers from block `firstBlock` on keep activations and gradients, their
 * input is the trunk's output, and only their weights have gradients and optimizer moments. The
 * whole model's weights still live in the backend (the run saves the whole model).
 */
export function topTrainingMemory(layers: readonly LayerInfo[], batch: number, firstBlock: string): TrainingMemory {
  const start = layers.findIndex((l) => l.name.startsWith(`${firstBlock}_`));
  if (start < 1) return trainingMemory(layers, batch);
  const top = layers.slice(start);
  const trainable = trainableParams(top);
  const elements = activationElements(top) + product(layers[start - 1].outputShape);
  const parts = {
    activations: BYTES_PER_FLOAT * TFJS_ACTIVATION_FLOATS_PER_ELEMENT * batch * elements,
    weights: BYTES_PER_FLOAT * allParams(layers),
    gradients: BYTES_PER_FLOAT * 2 * trainable,
    optimizerState: BYTES_PER_FLOAT * 2 * trainable,
  };
  return { ...parts, total: parts.activations + parts.weights + parts.gradients + parts.optimizerState };
}

/**
 * Figures for one variant (named or custom) at its own resolution unless options say otherwise:
 * trainable parameters with the given class count (published figures use 1000), and the memory of
 * one training step at `batch` (see trainingMemory).
 */
export function describeVariant(variantOrId: VariantSpec | string, batch: number, options: BuildOptions = {}): ArchitectureFigures {
  const variant = typeof variantOrId === 'string' ? getVariant(variantOrId) : variantOrId;
  const layers = describeLayers(variant, options);
  return {
    id: variant.id,
    name: variant.name,
    family: variant.family,
    resolution: options.resolution ?? variant.resolution,
    params: trainableParams(layers),
    flops: multiplyAdds(layers),
    trainingMemoryBytes: trainingMemory(layers, batch).total,
    batch,
    top1: variant.top1,
    width: variant.width,
    depth: variant.depth,
    dropout: variant.dropout,
    blocks: planArchitecture(variant).blocks.length,
  };
}

/** Every published variant at its native resolution with a 1000-class head (the CLI's `models --json`). */
export function describeVariants(batch: number): ArchitectureFigures[] {
  return NAMED_VARIANTS.map((v) => describeVariant(v, batch));
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
