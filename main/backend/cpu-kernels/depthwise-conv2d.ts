/**
 * Depthwise convolution forward and both gradients, NHWC, with the channel loop innermost so each
 * (pixel, tap) step is one contiguous run over channels. The stock kernels index through
 * TensorBuffer.get/set per element and re-walk the batch for every filter element.
 * Output channel o = c·mult + q for input channel c and multiplier q (filter [fh, fw, inC, mult]).
 */
import type { backend_util } from '@tensorflow/tfjs-core';
import { conv2dInfo } from './conv-attrs';
import { float32Values, type FastKernel } from './tensor-data';

type Conv2DInfo = backend_util.Conv2DInfo;

export const depthwiseConv2d: FastKernel = ({ inputs, backend, attrs }) => {
  const x = float32Values(backend, inputs.x);
  const w = float32Values(backend, inputs.filter);
  if (!x || !w || !isNhwcDepthwise(attrs.dataFormat)) return null;
  const info = conv2dInfo(inputs.x.shape, inputs.filter.shape, attrs, { depthwise: true });
  if (!info) return null;
  const y = new Float32Array(info.batchSize * info.outHeight * info.outWidth * info.outChannels);
  const mult = info.outChannels / info.inChannels;
  const ch = info.inChannels;
  forEachTap(info, (xo, yo, wo) => {
    if (mult === 1) {
      for (let c = 0; c < ch; c++) y[yo + c] += x[xo + c] * w[wo + c];
    } else {
      for (let c = 0; c < ch; c++) {
        const xv = x[xo + c];
        const base = c * mult;
        for (let q = 0; q < mult; q++) y[yo + base + q] += xv * w[wo + base + q];
      }
    }
  });
  return backend.makeTensorInfo(info.outShape, 'float32', y);
};

export const depthwiseConv2dBackpropFilter: FastKernel = ({ inputs, backend, attrs }) => {
  const x = float32Values(backend, inputs.x);
  const dy = float32Values(backend, inputs.dy);
  if (!x || !dy) return null;
  const info = conv2dInfo(inputs.x.shape, attrs.filterShape as number[], attrs, { depthwise: true });
  if (!info || !undilated(info)) return null;
  // Sums run over every output pixel of the batch: accumulate in doubles like the stock kernel.
  const acc = new Float64Array(info.filterHeight * info.filterWidth * info.outChannels);
  const mult = info.outChannels / info.inChannels;
  const ch = info.inChannels;
  forEachTap(info, (xo, yo, wo) => {
    if (mult === 1) {
      for (let c = 0; c < ch; c++) acc[wo + c] += x[xo + c] * dy[yo + c];
    } else {
      for (let c = 0; c < ch; c++) {
        const xv = x[xo + c];
        const base = c * mult;
        for (let q = 0; q < mult; q++) acc[wo + base + q] += xv * dy[yo + base + q];
      }
    }
  });
  return backend.makeTensorInfo(info.filterShape, 'float32', Float32Array.from(acc));
};

export const depthwiseConv2dBackpropInput: FastKernel = ({ inputs, backend, attrs }) => {
  const dy = float32Values(backend, inputs.dy);
  const w = float32Values(backend, inputs.filter);
  if (!dy || !w) return null;
  const info = conv2dInfo(attrs.inputShape as number[], inputs.filter.shape, attrs, { depthwise: true });
  if (!info || !undilated(info)) return null;
  const dx = new Float32Array(info.batchSize * info.inHeight * info.inWidth * info.inChannels);
  const mult = info.outChannels / info.inChannels;
  const ch = info.inChannels;
  forEachTap(info, (xo, yo, wo) => {
    if (mult === 1) {
      for (let c = 0; c < ch; c++) dx[xo + c] += dy[yo + c] * w[wo + c];
    } else {
      for (let c = 0; c < ch; c++) {
        const base = c * mult;
        let s = 0;
        for (let q = 0; q < mult; q++) s += dy[yo + base + q] * w[wo + base + q];
        dx[xo + c] += s;
      }
    }
  });
  return backend.makeTensorInfo(info.inShape, 'float32', dx);
};

/**
 * The stock gradient kernels ignore dilations (tfjs-core's gradient refuses dilation > 1 before
 * they are reached); a direct call with dilations goes to them unchanged rather than getting
 * different numbers here.
 */
function undilated(info: Conv2DInfo): boolean {
  return info.dilationHeight === 1 && info.dilationWidth === 1;
}

function isNhwcDepthwise(format: unknown): boolean {
  return format === undefined || format === 'NHWC';
}

/**
 * Calls visit(xOffset, yOffset, wOffset) for every (output pixel, filter tap) whose input pixel
 * lies inside the image (padding contributes nothing). Offsets point at channel 0 of the input
 * pixel, the output pixel and the filter tap.
 */
function forEachTap(info: Conv2DInfo, visit: (xo: number, yo: number, wo: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  for (let b = 0; b < batchSize; b++) {
    for (let yr = 0; yr < outHeight; yr++) {
      for (let yc = 0; yc < outWidth; yc++) {
        const yo = ((b * outHeight + yr) * outWidth + yc) * outChannels;
        for (let kr = 0; kr < fh; kr++) {
          const xr = yr * sh - top + kr * dh;
          if (xr < 0 || xr >= inHeight) continue;
          const rowBase = (b * inHeight + xr) * inWidth;
          for (let kc = 0; kc < fw; kc++) {
            const xc = yc * sw - left + kc * dw;
            if (xc < 0 || xc >= inWidth) continue;
            visit((rowBase + xc) * inChannels, yo, (kr * fw + kc) * outChannels);
          }
        }
      }
    }
  }
}
