/**
 * The network as the engine's graph: the same walk of the block plan that builds the tf.layers
 * model (model/recipe.ts walkNetwork), recorded as a list of nodes with NHWC shapes and the
 * parameters each layer owns, named as Keras names its weights (`stem_conv/kernel`,
 * `block1a_bn/gamma`, ...). One walk feeds the tf.layers builder, the layer table and this graph,
 * so the engine trains exactly the model that checkpoints, evaluation and export read.
 *
 * The step planner (step-plan.ts) lays the values and parameters out in the arena and turns each
 * node into forward and backward dispatches.
 */
import { resolveBuildOptions, type BuildOptions, type ResolvedBuildOptions } from '../../model/build-options';
import { walkNetwork, type ConvLayer, type DepthwiseLayer, type LayerOps } from '../../model/recipe';
import { planArchitecture, type VariantSpec } from '../../model/variants';

/** [height, width, channels] of one image; the batch is the plan's. */
export type Shape = readonly [number, number, number];

export interface Value {
  readonly id: number;
  readonly shape: Shape;
  /** the node that computes it (−1: the input) */
  readonly producer: number;
}

export interface Param {
  /** Keras weight name, `layer/weight` */
  readonly name: string;
  readonly shape: readonly number[];
  /** trained by the optimizer (false: BatchNorm moving statistics, the frozen preprocessing) */
  readonly trainable: boolean;
  readonly layer: string;
}

interface NodeBase {
  readonly index: number;
  /** Keras layer name */
  readonly name: string;
  readonly inputs: readonly number[];
  readonly output: number;
  /** parameter names this node owns, in Keras' weight order */
  readonly params: readonly string[];
}

export type GraphNode =
  | (NodeBase & { kind: 'preprocess' })
  | (NodeBase & { kind: 'conv'; layer: ConvLayer })
  | (NodeBase & { kind: 'depthwise'; layer: DepthwiseLayer })
  | (NodeBase & { kind: 'batchNorm'; momentum: number; epsilon: number })
  | (NodeBase & { kind: 'swish' })
  | (NodeBase & { kind: 'globalPool'; pooling: 'avg' | 'max' })
  | (NodeBase & { kind: 'multiply' })
  | (NodeBase & { kind: 'add' })
  | (NodeBase & { kind: 'dropout'; rate: number })
  | (NodeBase & { kind: 'dropBranch'; rate: number })
  | (NodeBase & { kind: 'dense'; units: number });

export interface NetworkGraph {
  readonly variant: VariantSpec;
  readonly options: ResolvedBuildOptions;
  readonly values: readonly Value[];
  readonly nodes: readonly GraphNode[];
  readonly params: ReadonlyMap<string, Param>;
  readonly input: number;
  /** the logits (the dense layer's output before its softmax) */
  readonly output: number;
}

/** SAME padding: output size, and the padding before (the extra pixel goes after), as TensorFlow computes it. */
export function samePadding(size: number, kernel: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return { out, before: Math.floor(total / 2) };
}

export function buildNetworkGraph(variant: VariantSpec, build: BuildOptions): NetworkGraph {
  const options = resolveBuildOptions(variant, build);
  if (!options.includeTop) throw new Error('the engine trains classifiers: includeTop must be true');
  if (options.padding !== 'tf-same') throw new Error("the engine computes TensorFlow SAME padding only ('tf-same'); symmetric (PyTorch) padding is not planned");
  if (options.classifierActivation !== 'softmax') throw new Error('the engine trains with softmax cross-entropy: classifierActivation must be softmax');
  const recorder = new GraphRecorder();
  walkNetwork(planArchitecture(variant, options.dropConnect), options, recorder);
  return { variant, options, values: recorder.values, nodes: recorder.nodes, params: recorder.params, input: 0, output: recorder.logits };
}

class GraphRecorder implements LayerOps<number> {
  values: Value[] = [];
  nodes: GraphNode[] = [];
  params = new Map<string, Param>();
  logits = -1;

  private value(shape: Shape, producer: number): number {
    const id = this.values.length;
    this.values.push({ id, shape, producer });
    return id;
  }

  private shape(v: number): Shape {
    return this.values[v].shape;
  }

  private param(layer: string, weight: string, shape: readonly number[], trainable: boolean): string {
    const name = `${layer}/${weight}`;
    if (this.params.has(name)) throw new Error(`engine graph: parameter ${name} twice`);
    this.params.set(name, { name, shape, trainable, layer });
    return name;
  }

  private node<K extends GraphNode['kind']>(kind: K, name: string, inputs: number[], shape: Shape, params: string[], extra: Omit<Extract<GraphNode, { kind: K }>, keyof NodeBase | 'kind'>): number {
    const index = this.nodes.length;
    const output = this.value(shape, index);
    this.nodes.push({ kind, index, name, inputs, output, params, ...extra } as GraphNode);
    return output;
  }

  input(_name: string, shape: readonly [number, number, number]): number {
    return this.value(shape, -1);
  }

  preprocess(x: number, name: string): number {
    const c = this.shape(x)[2];
    // a frozen 1×1 depthwise convolution with bias (builder.ts preprocessWeights)
    const params = [this.param(name, 'depthwise_kernel', [1, 1, c, 1], false), this.param(name, 'bias', [c], false)];
    return this.node('preprocess', name, [x], this.shape(x), params, {});
  }

  pad(): number {
    throw new Error('engine graph: explicit padding layers come only with symmetric padding, which the engine does not plan');
  }

  conv(x: number, layer: ConvLayer): number {
    const [h, w, c] = this.shape(x);
    if (layer.padding !== 'same') throw new Error(`engine graph: ${layer.name} uses ${layer.padding} padding`);
    const params = [this.param(layer.name, 'kernel', [layer.kernel, layer.kernel, c, layer.filters], true)];
    if (layer.useBias) params.push(this.param(layer.name, 'bias', [layer.filters], true));
    const out: Shape = [samePadding(h, layer.kernel, layer.stride).out, samePadding(w, layer.kernel, layer.stride).out, layer.filters];
    return this.node('conv', layer.name, [x], out, params, { layer });
  }

  depthwise(x: number, layer: DepthwiseLayer): number {
    const [h, w, c] = this.shape(x);
    if (layer.padding !== 'same') throw new Error(`engine graph: ${layer.name} uses ${layer.padding} padding`);
    const params = [this.param(layer.name, 'depthwise_kernel', [layer.kernel, layer.kernel, c, 1], true)];
    const out: Shape = [samePadding(h, layer.kernel, layer.stride).out, samePadding(w, layer.kernel, layer.stride).out, c];
    return this.node('depthwise', layer.name, [x], out, params, { layer });
  }

  batchNorm(x: number, name: string, momentum: number, epsilon: number): number {
    const c = this.shape(x)[2];
    const params = [
      this.param(name, 'gamma', [c], true),
      this.param(name, 'beta', [c], true),
      this.param(name, 'moving_mean', [c], false),
      this.param(name, 'moving_variance', [c], false),
    ];
    return this.node('batchNorm', name, [x], this.shape(x), params, { momentum, epsilon });
  }

  swish(x: number, name: string): number {
    return this.node('swish', name, [x], this.shape(x), [], {});
  }

  globalPool(x: number, pooling: 'avg' | 'max', name: string): number {
    if (pooling !== 'avg') throw new Error(`engine graph: ${name} is ${pooling} pooling; the engine plans average pooling`);
    return this.node('globalPool', name, [x], [1, 1, this.shape(x)[2]], [], { pooling });
  }

  reshape(x: number, shape: readonly [number, number, number]): number {
    const [h, w, c] = this.shape(x);
    if (h * w * c !== shape[0] * shape[1] * shape[2]) throw new Error('engine graph: reshape changes the size');
    // [1, 1, C] after a pool is the pool's own layout: a reshape is the same memory
    return x;
  }

  multiply(x: number, y: number, name: string): number {
    return this.node('multiply', name, [x, y], this.shape(x), [], {});
  }

  add(x: number, y: number, name: string): number {
    return this.node('add', name, [x, y], this.shape(x), [], {});
  }

  dropout(x: number, rate: number, name: string): number {
    return this.node('dropout', name, [x], this.shape(x), [], { rate });
  }

  dropBranch(x: number, rate: number, name: string): number {
    return this.node('dropBranch', name, [x], this.shape(x), [], { rate });
  }

  dense(x: number, units: number, _activation: 'softmax' | 'linear', name: string): number {
    const c = this.shape(x)[2];
    const params = [this.param(name, 'kernel', [c, units], true), this.param(name, 'bias', [units], true)];
    this.logits = this.node('dense', name, [x], [1, 1, units], params, { units });
    return this.logits;
  }
}
