/**
 * Conv2D and FusedConv2D (conv + bias + activation, what tf.layers' Conv2D calls) as matrix
 * products: Y[P, outC] = X[P, inC]·W[inC, outC] for 1×1 stride-1 convolutions, im2col chunks
 * times W[fh·fw·inC, outC] otherwise. The stock kernel loops over every (pixel, tap, channel).
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { conv2dInfo, isNhwc } from './conv-attrs';
import { gemm } from './gemm';
import { im2col, isPointwise, rowsPerChunk } from './im2col';
import { float32Values, type FastKernel, type KernelArgs } from './tensor-data';

export const conv2d: FastKernel = ({ inputs, backend, attrs }) => {
  if (!isNhwc(attrs)) return null;
  const x = float32Values(backend, inputs.x);
  const w = float32Values(backend, inputs.filter);
  if (!x || !w) return null;
  const info = conv2dInfo(inputs.x.shape, inputs.filter.shape, attrs, { depthwise: false });
  if (!info) return null;
  return backend.makeTensorInfo(info.outShape, 'float32', convolve(x, w, info));
};

const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid']);

export const fusedConv2d: FastKernel = (args: KernelArgs) => {
  const { inputs, backend, attrs } = args;
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  if (!ACTIVATIONS.has(activation) || !isNhwc(attrs)) return null;
  const bias = inputs.bias as TensorInfo | undefined;
  let biasValues: Float32Array | null = null;
  if (bias) {
    biasValues = float32Values(backend, bias);
    if (!biasValues) return null;
  }
  const x = float32Values(backend, inputs.x);
  const w = float32Values(backend, inputs.filter);
  if (!x || !w) return null;
  const info = conv2dInfo(inputs.x.shape, inputs.filter.shape, attrs, { depthwise: false });
  if (!info) return null;
  // The stock kernel broadcasts the bias against the output; per-channel and scalar are the cases here.
  if (bias && !isChannelOrScalarBias(bias.shape, info.outChannels)) return null;
  const y = convolve(x, w, info);
  if (biasValues) addBias(y, biasValues, info.outChannels);
  applyActivation(y, activation, (attrs.leakyreluAlpha as number | undefined) ?? 0.2);
  return backend.makeTensorInfo(info.outShape, 'float32', y);
};

function convolve(x: Float32Array, w: Float32Array, info: backend_util.Conv2DInfo): Float32Array {
  const outC = info.outChannels;
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const y = new Float32Array(pixels * outC);
  if (isPointwise(info)) {
    const inC = info.inChannels;
    gemm(pixels, outC, inC, x, 0, inC, 1, w, 0, outC, 1, y, 0, outC, false);
    return y;
  }
  const rowLength = info.filterHeight * info.filterWidth * info.inChannels;
  const chunk = rowsPerChunk(rowLength);
  const col = new Float32Array(Math.min(chunk, pixels) * rowLength);
  for (let p0 = 0; p0 < pixels; p0 += chunk) {
    const rows = Math.min(chunk, pixels - p0);
    im2col(x, info, p0, rows, col);
    gemm(rows, outC, rowLength, col, 0, rowLength, 1, w, 0, outC, 1, y, p0 * outC, outC, false);
  }
  return y;
}

/** [], [1], [C], [1, 1, 1, C] and the like: shapes whose broadcast adds one value per channel or one overall. */
function isChannelOrScalarBias(shape: readonly number[], channels: number): boolean {
  if (shape.length > 4) return false;
  return shape.every((d, i) => d === 1 || (i === shape.length - 1 && d === channels));
}

function addBias(y: Float32Array, bias: Float32Array, channels: number): void {
  if (bias.length === 1) {
    const v = bias[0];
    for (let i = 0; i < y.length; i++) y[i] += v;
    return;
  }
  for (let o = 0; o < y.length; o += channels) {
    for (let c = 0; c < channels; c++) y[o + c] += bias[c];
  }
}

/** Same formulas as tfjs-backend-cpu's Relu, Relu6, Elu, LeakyRelu and Sigmoid kernels. */
function applyActivation(y: Float32Array, activation: string, alpha: number): void {
  const n = y.length;
  switch (activation) {
    case 'relu':
      for (let i = 0; i < n; i++) if (y[i] < 0) y[i] = 0;
      break;
    case 'relu6':
      for (let i = 0; i < n; i++) y[i] = Math.min(Math.max(0, y[i]), 6);
      break;
    case 'elu':
      for (let i = 0; i < n; i++) if (y[i] < 0) y[i] = Math.exp(y[i]) - 1;
      break;
    case 'leakyrelu':
      for (let i = 0; i < n; i++) if (y[i] < 0) y[i] *= alpha;
      break;
    case 'sigmoid':
      for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-y[i]));
      break;
    default:
      break;
  }
}
