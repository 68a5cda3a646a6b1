/**
 * Honest figures for a variant before anything is built: trainable parameters, multiply-adds and
 * the memory a training step needs at a batch size. All come from the layer table (layers.ts),
 * which tests check against built models.
 */
import { describeLayers, type LayerInfo } from './layers';
import { NAMED_VARIANTS, getVariant, type VariantSpec } from './variants';
import type { BuildOptions } from './builder';

const BYTES_PER_FLOAT = 4;

/**
 * Bytes a tf.js training step keeps per activation element of the layer table. Measured with
 * tf.profile on the cpu backend (peak bytes of tf.variableGrads, slope over batch size): 7.8–8.1 for
 * φ=−6, B0, V2-B0 at 32–128 px. tf.js keeps every op's output for backprop, not only each layer's
 * (BatchNorm's x − mean, swish's sigmoid, SE's broadcasts), and holds each tensor's gradient until
 * the backward pass ends, hence ≈ 8 floats per layer-output element.
 */
export const TFJS_ACTIVATION_FLOATS_PER_ELEMENT = 8;
/**
 * Floats per trainable parameter beyond the weights themselves: the gradient plus one gradient-sized
 * temporary (measured 2.1–2.2 with tf.profile), and Adam's two moments. Assumes the optimizer
 * update frees its temporaries variable by variable; the stock tf.train.adam keeps about 11 more
 * per parameter until the whole update ends (see the trainer).
 */
export const TRAINING_FLOATS_PER_PARAM = 2 + 2;

export interface VariantFigures {
  id: string;
  name: string;
  family: 'v1' | 'v2';
  resolution: number;
  /** trainable parameters with the given class count (published figures use 1000) */
  params: number;
  /** multiply-adds of one image at this resolution (convolutions and classifier) */
  flops: number;
  /** bytes of one training step at batch size `batch` (see trainingMemoryBytes) */
  trainingMemoryBytes: number;
  batch: number;
  top1: number | null;
  width: number;
  depth: number;
  dropout: number;
  blocks: number;
}

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

/**
 * Training-step memory in bytes at a batch size:
 *   4 · ( 8 · batch · Σ layer-output elements      activations and their gradients (tf.js)
 *       + all weights (incl. BatchNorm statistics)
 *       + 4 · trainable params )                   gradient + temporary, Adam first and second moment
 * Data pipeline buffers and the backend's own workspace are not included.
 */
export function trainingMemoryBytes(layers: readonly LayerInfo[], batch: number): number {
  const floats = TFJS_ACTIVATION_FLOATS_PER_ELEMENT * batch * activationElements(layers) + allParams(layers) + TRAINING_FLOATS_PER_PARAM * trainableParams(layers);
  return BYTES_PER_FLOAT * floats;
}

/** Figures for one variant (named or custom) at its own resolution unless options say otherwise. */
export function describeVariant(variantOrId: VariantSpec | string, batch: number, options: BuildOptions = {}): VariantFigures {
  const variant = typeof variantOrId === 'string' ? getVariant(variantOrId) : variantOrId;
  const layers = describeLayers(variant, options);
  return {
    id: variant.id,
    name: variant.name,
    family: variant.family,
    resolution: options.resolution ?? variant.resolution,
    params: trainableParams(layers),
    flops: multiplyAdds(layers),
    trainingMemoryBytes: trainingMemoryBytes(layers, batch),
    batch,
    top1: variant.top1,
    width: variant.width,
    depth: variant.depth,
    dropout: variant.dropout,
    blocks: layers.filter((l) => l.kind === 'batchnorm' && l.name.endsWith('project_bn')).length,
  };
}

/** Every published variant at its native resolution with a 1000-class head (the CLI's `models --json`). */
export function describeVariants(batch: number): VariantFigures[] {
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
