/**
 * The layer table of a built model, derived from the ArchitecturePlan without building it:
 * every layer's name, output shape, weights and multiply-adds, in the builder's order. It is the
 * same walk of the network recipe (recipe.ts) the builder makes, with shapes instead of tensors.
 * Parameter counts, FLOPs and memory estimates read this table, so B7 costs nothing to describe;
 * tests check it equals the layers of actually built models (names, shapes, weights).
 */
import { resolveBuildOptions, type BuildOptions } from './build-options';
import { walkNetwork, type ConvLayer, type DepthwiseLayer, type LayerOps } from './recipe';
import { planArchitecture, type VariantSpec } from './variants';

export type LayerKind =
  | 'input'
  | 'preprocess'
  | 'pad'
  | 'conv'
  | 'depthwise'
  | 'batchnorm'
  | 'activation'
  | 'pool'
  | 'reshape'
  | 'multiply'
  | 'add'
  | 'dropout'
  | 'dense';

export interface WeightInfo {
  /** weight name inside its layer, as tf.layers and Keras name it: kernel, depthwise_kernel, bias, gamma, … */
  readonly name: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
}

export interface LayerInfo {
  readonly name: string;
  readonly kind: LayerKind;
  /** output shape without the batch dimension */
  readonly outputShape: readonly number[];
  readonly weights: readonly WeightInfo[];
  /** multiply-adds for one image (convolutions and the classifier; elementwise work is not counted) */
  readonly macs: number;
}

type Shape = readonly number[];

export function describeLayers(variant: VariantSpec, options: BuildOptions = {}): LayerInfo[] {
  const opts = resolveBuildOptions(variant, options);
  const table = new LayerTable();
  walkNetwork(planArchitecture(variant, opts.dropConnect), opts, table);
  return table.layers;
}

/** The recipe's steps as rows: output shape (height, width, channels), weights as tf.layers names them, multiply-adds. */
class LayerTable implements LayerOps<Shape> {
  readonly layers: LayerInfo[] = [];

  input(name: string, shape: readonly [number, number, number]): Shape {
    return this.push(name, 'input', shape);
  }

  preprocess(s: Shape, name: string): Shape {
    return this.push(name, 'preprocess', s, [w('depthwise_kernel', [1, 1, 3, 1], false), w('bias', [3], false)]);
  }

  pad(s: Shape, pad: number, name: string): Shape {
    return this.push(name, 'pad', [s[0] + 2 * pad, s[1] + 2 * pad, s[2]]);
  }

  conv(s: Shape, c: ConvLayer): Shape {
    const inC = s[2];
    const out = outShape(s, c, c.filters);
    const weights = [w('kernel', [c.kernel, c.kernel, inC, c.filters]), ...(c.useBias ? [w('bias', [c.filters])] : [])];
    return this.push(c.name, 'conv', out, weights, out[0] * out[1] * c.filters * c.kernel * c.kernel * inC);
  }

  depthwise(s: Shape, c: DepthwiseLayer): Shape {
    const channels = s[2];
    const out = outShape(s, c, channels);
    return this.push(c.name, 'depthwise', out, [w('depthwise_kernel', [c.kernel, c.kernel, channels, 1])], out[0] * out[1] * channels * c.kernel * c.kernel);
  }

  batchNorm(s: Shape, name: string): Shape {
    const c = s[2];
    return this.push(name, 'batchnorm', s, [w('gamma', [c]), w('beta', [c]), w('moving_mean', [c], false), w('moving_variance', [c], false)]);
  }

  swish(s: Shape, name: string): Shape {
    return this.push(name, 'activation', s);
  }

  globalPool(s: Shape, _pooling: 'avg' | 'max', name: string): Shape {
    return this.push(name, 'pool', [s[2]]);
  }

  reshape(_s: Shape, shape: readonly [number, number, number], name: string): Shape {
    return this.push(name, 'reshape', shape);
  }

  multiply(s: Shape, _y: Shape, name: string): Shape {
    return this.push(name, 'multiply', s);
  }

  add(s: Shape, _y: Shape, name: string): Shape {
    return this.push(name, 'add', s);
  }

  dropout(s: Shape, _rate: number, name: string): Shape {
    return this.push(name, 'dropout', s);
  }

  dropBranch(s: Shape, _rate: number, name: string): Shape {
    return this.push(name, 'dropout', s);
  }

  dense(s: Shape, units: number, _activation: 'softmax' | 'linear', name: string): Shape {
    const c = s[0];
    return this.push(name, 'dense', [units], [w('kernel', [c, units]), w('bias', [units])], c * units);
  }

  private push(name: string, kind: LayerKind, outputShape: Shape, weights: WeightInfo[] = [], macs = 0): Shape {
    this.layers.push({ name, kind, outputShape, weights, macs });
    return outputShape;
  }
}

/** 'same': ceil(n/stride); 'valid' (after explicit symmetric padding): floor((n − k)/stride) + 1. */
function outShape(s: Shape, c: { kernel: number; stride: number; padding: 'same' | 'valid' }, channels: number): Shape {
  const size = (n: number) => (c.padding === 'valid' ? Math.floor((n - c.kernel) / c.stride) + 1 : Math.ceil(n / c.stride));
  return [size(s[0]), size(s[1]), channels];
}

function w(name: string, shape: number[], trainable = true): WeightInfo {
  return { name, shape, trainable };
}
