/**
 * tf.layers calls → ONNX nodes. Image tensors (rank 4 with the batch) live in NCHW inside the
 * ONNX graph, everything else in the Keras layout; a value's Keras shape says which it is, and
 * Reshape/Flatten/the graph output transpose back where the memory order differs.
 *
 * Two rewrites keep the graph what a hand-written one would be: a ZeroPadding2D read only by a
 * convolution becomes that convolution's pads, and a BatchNormalization that is the only reader of
 * a linear convolution is folded into its weights and bias.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../../contract/contract';
import { emitActivation, SUPPORTED_ACTIVATIONS } from './activations';
import { attr, type OnnxGraph } from './graph';
import { soleConsumer, type LayerCall, type ModelGraph } from './model-graph';

type SymbolicTensor = tfl.SymbolicTensor;
type Config = Record<string, unknown>;

/** A value of the ONNX graph and the Keras shape (without the batch) of the tensor it holds. */
export interface Value {
  readonly name: string;
  readonly shape: readonly number[];
}

/** [top, bottom, left, right] */
type Pads2d = readonly [number, number, number, number];

/** A ZeroPadding2D output not written to the graph yet: a convolution may take the pads over. */
interface PendingPad {
  readonly source: Value;
  readonly pads: Pads2d;
  readonly shape: readonly number[];
  readonly base: string;
  materialized?: Value;
}

type Slot = { value: Value } | { pad: PendingPad };

export const SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'Activation', 'Dense', 'Dropout',
  'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Reshape', 'Flatten', 'ZeroPadding2D', 'Rescaling',
  'Add', 'Multiply', 'Average', 'Maximum', 'Minimum',
];

export class LayerConverter {
  private readonly slots = new Map<number, Slot>();
  /** BatchNormalization calls already folded into their convolution */
  private readonly folded = new Set<string>();

  constructor(
    private readonly graph: OnnxGraph,
    private readonly model: ModelGraph,
  ) {}

  /** Bind a graph input; image inputs are transposed to NCHW once, here. */
  bindInput(tensor: SymbolicTensor, name: string): void {
    const shape = kerasShape(tensor);
    const value = isImage(shape) ? this.graph.op('Transpose', [name], `${name}_nchw`, [attr.ints('perm', [0, 3, 1, 2])]) : name;
    this.slots.set(tensor.id, { value: { name: value, shape } });
  }

  /** The value of a model output in the Keras layout (NHWC for images). */
  outputValue(tensor: SymbolicTensor): Value {
    const value = this.value(tensor);
    // an image output (a trunk cut) always gets its Transpose, even where both layouts hold the same
    // order: the graph's declared NHWC output shape must match what the last node produces
    if (isImage(value.shape)) return { name: this.graph.op('Transpose', [value.name], `${value.name}_nhwc`, [attr.ints('perm', [0, 2, 3, 1])]), shape: value.shape };
    return { name: this.kerasOrder(value, value.name), shape: value.shape };
  }

  convert(call: LayerCall): void {
    if (this.folded.has(call.key)) return;
    const config = call.layer.getConfig() as Config;
    switch (call.className) {
      case 'InputLayer':
        return; // bound by bindInput
      case 'Conv2D':
      case 'DepthwiseConv2D':
        return this.conv(call, config);
      case 'BatchNormalization':
        return this.batchNorm(call, config);
      case 'Activation':
        return this.setValue(call, this.activate(call, this.value(call.inputs[0]), String(config.activation)));
      case 'Dense':
        return this.dense(call, config);
      case 'Dropout':
        // the identity at inference, stochastic-depth Dropout (noiseShape) included
        return void this.slots.set(call.outputs[0].id, this.slot(call.inputs[0]));
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D':
        return this.globalPool(call, config);
      case 'Reshape':
        return this.reshape(call);
      case 'Flatten':
        return this.flatten(call);
      case 'ZeroPadding2D':
        return this.zeroPadding(call, config);
      case 'Rescaling':
        return this.rescaling(call, config);
      case 'Add':
      case 'Multiply':
      case 'Average':
      case 'Maximum':
      case 'Minimum':
        return this.merge(call);
      default:
        throw new ApiError(
          'invalid_input',
          `layer "${call.layer.name}" (${call.className}) cannot be exported to ONNX: the converter knows ${SUPPORTED_LAYERS.join(', ')}`,
        );
    }
  }

  // ---- values

  private slot(tensor: SymbolicTensor): Slot {
    const slot = this.slots.get(tensor.id);
    if (!slot) throw new Error(`internal error: tensor ${tensor.name} is read before it is computed`);
    return slot;
  }

  private value(tensor: SymbolicTensor): Value {
    const slot = this.slot(tensor);
    if ('value' in slot) return slot.value;
    const p = slot.pad;
    if (!p.materialized) {
      const [top, bottom, left, right] = p.pads;
      const pads = this.graph.int64Constant(`${p.base}_pads`, [0, 0, top, left, 0, 0, bottom, right]);
      p.materialized = { name: this.graph.op('Pad', [p.source.name, pads], p.base), shape: p.shape };
    }
    return p.materialized;
  }

  private setValue(call: LayerCall, name: string, shape = kerasShape(call.outputs[0])): void {
    this.slots.set(call.outputs[0].id, { value: { name, shape } });
  }

  /** The input of a convolution and the zero padding it may take over from a ZeroPadding2D. */
  private paddedInput(call: LayerCall): { x: Value; pads: Pads2d } {
    const tensor = call.inputs[0];
    const slot = this.slot(tensor);
    if ('pad' in slot && !slot.pad.materialized && soleConsumer(this.model, tensor) === call) return { x: slot.pad.source, pads: slot.pad.pads };
    return { x: this.value(tensor), pads: [0, 0, 0, 0] };
  }

  /**
   * A value's name with the Keras memory order. NHWC and NCHW hold the same order when the image
   * is 1×1 or has one channel; otherwise it takes a Transpose.
   */
  private kerasOrder(value: Value, base: string): string {
    if (!isImage(value.shape) || sameOrderBothLayouts(value.shape)) return value.name;
    return this.graph.op('Transpose', [value.name], `${base}_nhwc`, [attr.ints('perm', [0, 2, 3, 1])]);
  }

  // ---- layers

  private conv(call: LayerCall, config: Config): void {
    const name = call.layer.name;
    const depthwise = call.className === 'DepthwiseConv2D';
    if (config.dataFormat !== 'channelsLast') throw unsupported(call, `dataFormat ${String(config.dataFormat)}`);
    const [kh, kw] = pair(config.kernelSize);
    const [sh, sw] = pair(config.strides);
    const [dh, dw] = pair(config.dilationRate);
    // tf.layers' DepthwiseConv2D accepts dilationRate but computes without it (Keras applies it), so
    // no single ONNX graph matches both
    if (depthwise && (dh !== 1 || dw !== 1)) throw unsupported(call, `dilationRate ${dh}×${dw}, which TF.js ignores for DepthwiseConv2D,`);
    const { x, pads: extra } = this.paddedInput(call);
    const [inH, inW, inC] = x.shape;
    const h = inH + extra[0] + extra[1];
    const w = inW + extra[2] + extra[3];
    let same: [number, number, number, number];
    if (config.padding === 'same') same = [...samePads(h, kh, sh, dh), ...samePads(w, kw, sw, dw)] as [number, number, number, number];
    else if (config.padding === 'valid') same = [0, 0, 0, 0];
    else throw unsupported(call, `padding ${String(config.padding)}`);

    const weights = namedWeights(call);
    const kernel = weights.get(depthwise ? 'depthwise_kernel' : 'kernel');
    if (!kernel) throw new Error(`internal error: layer ${name} has no kernel`);
    // tf [kh, kw, in, out] → ONNX [out, in, kh, kw]; depthwise tf [kh, kw, C, m] → ONNX [C·m, 1, kh, kw] with group C
    const outC = depthwise ? inC * Number(config.depthMultiplier) : Number(config.filters);
    const tfOut = depthwise ? outC / inC : outC;
    const W = new Float32Array(kh * kw * inC * tfOut);
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let c = 0; c < inC; c++)
          for (let o = 0; o < tfOut; o++) {
            const dst = depthwise ? ((c * tfOut + o) * kh + i) * kw + j : ((o * inC + c) * kh + i) * kw + j;
            W[dst] = kernel[((i * kw + j) * inC + c) * tfOut + o];
          }
    let bias = weights.get('bias') ?? null;

    const activation = String(config.activation);
    const bn = activation === 'linear' ? this.foldableBatchNorm(call) : null;
    let output = call;
    if (bn) {
      ({ bias } = foldBatchNorm(W, bias, outC, bn.params));
      this.folded.add(bn.call.key);
      output = bn.call;
    }

    const inputs = [x.name, this.graph.weight(`${name}_weight`, W, depthwise ? [outC, 1, kh, kw] : [outC, inC, kh, kw], 0)];
    if (bias) inputs.push(this.graph.floatConstant(`${name}_bias`, bias, [outC]));
    const top = extra[0] + same[0];
    const bottom = extra[1] + same[1];
    const left = extra[2] + same[2];
    const right = extra[3] + same[3];
    const y = this.graph.op('Conv', inputs, bn ? `${name}_bn` : name, [
      attr.ints('kernel_shape', [kh, kw]),
      attr.ints('strides', [sh, sw]),
      attr.ints('dilations', [dh, dw]),
      attr.ints('pads', [top, left, bottom, right]),
      attr.int('group', depthwise ? inC : 1),
    ]);
    const shape = kerasShape(call.outputs[0]);
    this.setValue(output, this.activate(call, { name: y, shape }, activation), shape);
  }

  /** The BatchNormalization that alone reads this convolution's output, over its channels. */
  private foldableBatchNorm(conv: LayerCall): { call: LayerCall; params: BatchNormParams } | null {
    const next = soleConsumer(this.model, conv.outputs[0]);
    if (!next || next.className !== 'BatchNormalization') return null;
    const config = next.layer.getConfig() as Config;
    if (!isLastAxis(config.axis, 4)) return null;
    return { call: next, params: batchNormParams(next, config) };
  }

  private batchNorm(call: LayerCall, config: Config): void {
    const x = this.value(call.inputs[0]);
    // ONNX normalizes axis 1: the channels of NCHW images and of [N, C] vectors
    if (!(x.shape.length === 3 || x.shape.length === 1) || !isLastAxis(config.axis, x.shape.length + 1)) {
      throw unsupported(call, `normalization over axis ${String(config.axis)} of a rank-${x.shape.length + 1} tensor`);
    }
    const p = batchNormParams(call, config);
    const c = p.mean.length;
    const name = call.layer.name;
    const y = this.graph.op(
      'BatchNormalization',
      [
        x.name,
        this.graph.floatConstant(`${name}_scale`, p.gamma, [c]),
        this.graph.floatConstant(`${name}_shift`, p.beta, [c]),
        this.graph.floatConstant(`${name}_mean`, p.mean, [c]),
        this.graph.floatConstant(`${name}_variance`, p.variance, [c]),
      ],
      name,
      [attr.float('epsilon', p.epsilon)],
    );
    this.setValue(call, y);
  }

  private dense(call: LayerCall, config: Config): void {
    const x = this.value(call.inputs[0]);
    if (x.shape.length !== 1) throw unsupported(call, `a rank-${x.shape.length + 1} input (only [batch, features] is supported)`);
    const weights = namedWeights(call);
    const units = Number(config.units);
    const name = call.layer.name;
    const kernel = weights.get('kernel');
    if (!kernel) throw new Error(`internal error: layer ${name} has no kernel`);
    const inputs = [x.name, this.graph.weight(`${name}_weight`, kernel, [x.shape[0], units], 1)];
    const bias = weights.get('bias');
    if (bias) inputs.push(this.graph.floatConstant(`${name}_bias`, bias, [units]));
    const y = this.graph.op('Gemm', inputs, name);
    this.setValue(call, this.activate(call, { name: y, shape: [units] }, String(config.activation)));
  }

  private globalPool(call: LayerCall, config: Config): void {
    if (config.dataFormat !== 'channelsLast') throw unsupported(call, `dataFormat ${String(config.dataFormat)}`);
    const x = this.value(call.inputs[0]);
    const name = call.layer.name;
    const pooled = this.graph.op(call.className === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], `${name}_nchw`);
    this.setValue(call, this.graph.op('Flatten', [pooled], name, [attr.int('axis', 1)]));
  }

  private reshape(call: LayerCall): void {
    const x = this.value(call.inputs[0]);
    const target = kerasShape(call.outputs[0]);
    const name = call.layer.name;
    const flat = this.kerasOrder(x, name);
    let y: string;
    if (isImage(target) && !sameOrderBothLayouts(target)) {
      const nhwc = this.graph.op('Reshape', [flat, this.graph.int64Constant(`${name}_shape`, [-1, ...target])], `${name}_nhwc`);
      y = this.graph.op('Transpose', [nhwc], name, [attr.ints('perm', [0, 3, 1, 2])]);
    } else {
      const dims = isImage(target) ? [target[2], target[0], target[1]] : target;
      y = this.graph.op('Reshape', [flat, this.graph.int64Constant(`${name}_shape`, [-1, ...dims])], name);
    }
    this.setValue(call, y, target);
  }

  private flatten(call: LayerCall): void {
    const x = this.value(call.inputs[0]);
    const name = call.layer.name;
    this.setValue(call, this.graph.op('Flatten', [this.kerasOrder(x, name)], name, [attr.int('axis', 1)]));
  }

  private zeroPadding(call: LayerCall, config: Config): void {
    if (config.dataFormat !== 'channelsLast') throw unsupported(call, `dataFormat ${String(config.dataFormat)}`);
    const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
    const source = this.value(call.inputs[0]);
    const pad: PendingPad = { source, pads: [top, bottom, left, right], shape: kerasShape(call.outputs[0]), base: call.layer.name };
    this.slots.set(call.outputs[0].id, { pad });
  }

  private rescaling(call: LayerCall, config: Config): void {
    const x = this.value(call.inputs[0]);
    const name = call.layer.name;
    const scale = this.graph.floatConstant(`${name}_scale`, Float32Array.of(Number(config.scale)), []);
    const offset = this.graph.floatConstant(`${name}_offset`, Float32Array.of(Number(config.offset ?? 0)), []);
    this.setValue(call, this.graph.op('Add', [this.graph.op('Mul', [x.name, scale], `${name}_scaled`), offset], name));
  }

  /** Keras merges broadcast like numpy; with equal ranks that survives the NCHW permutation. */
  private merge(call: LayerCall): void {
    const xs = call.inputs.map((t) => this.value(t));
    if (xs.some((x) => x.shape.length !== xs[0].shape.length)) throw unsupported(call, 'inputs of different ranks');
    const name = call.layer.name;
    const names = xs.map((x) => x.name);
    const op = { Add: 'Sum', Multiply: 'Mul', Average: 'Mean', Maximum: 'Max', Minimum: 'Min' }[call.className as 'Add'];
    let y: string;
    if (op === 'Mul') y = names.slice(1).reduce((acc, n, i) => this.graph.op('Mul', [acc, n], i === names.length - 2 ? name : `${name}_partial`), names[0]);
    else if (op === 'Sum' && names.length === 2) y = this.graph.op('Add', names, name);
    else y = this.graph.op(op, names, name);
    this.setValue(call, y);
  }

  private activate(call: LayerCall, x: Value, activation: string): string {
    if (activation === 'linear') return x.name;
    const y = emitActivation(this.graph, activation, x.name, `${call.layer.name}_${activation}`, isImage(x.shape) ? 1 : -1);
    if (y === null) throw unsupported(call, `activation "${activation}" (the converter knows ${SUPPORTED_ACTIVATIONS.join(', ')})`);
    return y;
  }
}

// ---- helpers

interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

function batchNormParams(call: LayerCall, config: Config): BatchNormParams {
  const w = namedWeights(call);
  const mean = w.get('moving_mean');
  const variance = w.get('moving_variance');
  if (!mean || !variance) throw new Error(`internal error: layer ${call.layer.name} has no moving statistics`);
  const c = mean.length;
  return {
    gamma: w.get('gamma') ?? new Float32Array(c).fill(1),
    beta: w.get('beta') ?? new Float32Array(c),
    mean,
    variance,
    epsilon: Number(config.epsilon),
  };
}

/**
 * y = γ·(conv(x) + b − μ)/√(σ² + ε) + β  ⇒  W' = W·s, b' = (b − μ)·s + β with s = γ/√(σ² + ε),
 * per output channel; computed in float64 so folding adds no rounding of its own.
 */
function foldBatchNorm(W: Float32Array, bias: Float32Array | null, outC: number, p: BatchNormParams): { bias: Float32Array } {
  const perOut = W.length / outC;
  const folded = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    const s = p.gamma[o] / Math.sqrt(p.variance[o] + p.epsilon);
    for (let k = 0; k < perOut; k++) W[o * perOut + k] = W[o * perOut + k] * s;
    folded[o] = ((bias ? bias[o] : 0) - p.mean[o]) * s + p.beta[o];
  }
  return { bias: folded };
}

/** TensorFlow SAME: output ⌈n/s⌉, total padding split with the extra pixel at the end (bottom/right). */
export function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** A layer's weights by their own names (kernel, bias, gamma, moving_mean, ...), as float32 copies. */
function namedWeights(call: LayerCall): Map<string, Float32Array> {
  const values = call.layer.getWeights();
  const map = new Map<string, Float32Array>();
  call.layer.weights.forEach((w, i) => {
    const short = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
    map.set(short, Float32Array.from(values[i].dataSync() as Float32Array));
  });
  return map;
}

function kerasShape(tensor: SymbolicTensor): number[] {
  const dims = tensor.shape.slice(1);
  if (dims.some((d) => d === null)) throw new ApiError('invalid_input', `tensor ${tensor.name} has a dimension of unknown size ${JSON.stringify(tensor.shape)}: ONNX export needs fixed sizes besides the batch`);
  return dims as number[];
}

function isImage(shape: readonly number[]): boolean {
  return shape.length === 3;
}

function sameOrderBothLayouts(shape: readonly number[]): boolean {
  return shape[0] * shape[1] === 1 || shape[2] === 1;
}

function isLastAxis(axis: unknown, rank: number): boolean {
  const a = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : NaN) : axis;
  return a === -1 || a === rank - 1;
}

function pair(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a.length > 1 ? a[1] : a[0]];
}

function unsupported(call: LayerCall, what: string): ApiError {
  return new ApiError('invalid_input', `layer "${call.layer.name}" (${call.className}) cannot be exported to ONNX: ${what} is not supported`);
}
