/**
 * Depthwise convolution forward and both gradients, NHWC, with the channel loop innermost so each
 * (output pixel, filter tap) step is one contiguous run over channels. The stock kernels index
 * through TensorBuffer.get/set per element and re-walk the batch for every filter element.
 * Output channel o = c·mult + q for input channel c and multiplier q (filter [fh, fw, inC, mult]).
 *
 * All three walk the same loop nest — batch, output row, tap row, tap column, output column,
 * channel — written out in each: a shared walker taking a callback measured 2–4× slower (the
 * callback is not inlined and costs more than a short channel run). The channel-multiplier-1 case
 * (EfficientNet, MobileNet) has its own loops without the inner multiplier loop.
 */
import type { backend_util } from '@tensorflow/tfjs-core';
import { conv2dInfo } from './conv-attrs';
import { float32Values, type FastKernel } from './tensor-data';

type Conv2DInfo = backend_util.Conv2DInfo;

/** What the loops need, as plain numbers, plus per filter column kc the valid output columns. */
interface Walk {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  mult: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  dh: number;
  top: number;
  /** output columns [first[kc], end[kc]) read input columns xc = xcAtZero[kc] + yc·sw inside the image */
  first: Int32Array;
  end: Int32Array;
  xcAtZero: Int32Array;
}

function walkOf(info: Conv2DInfo): Walk {
  const fw = info.filterWidth;
  const first = new Int32Array(fw);
  const end = new Int32Array(fw);
  const xcAtZero = new Int32Array(fw);
  for (let kc = 0; kc < fw; kc++) {
    const offset = kc * info.dilationWidth - info.padInfo.left;
    xcAtZero[kc] = offset;
    first[kc] = Math.max(0, Math.ceil(-offset / info.strideWidth));
    end[kc] = Math.min(info.outWidth, Math.floor((info.inWidth - 1 - offset) / info.strideWidth) + 1);
  }
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    mult: info.outChannels / info.inChannels,
    fh: info.filterHeight,
    fw,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    top: info.padInfo.top,
    first,
    end,
    xcAtZero,
  };
}

export const depthwiseConv2d: FastKernel = ({ inputs, backend, attrs }) => {
  const x = float32Values(backend, inputs.x);
  const w = float32Values(backend, inputs.filter);
  if (!x || !w || !isNhwcDepthwise(attrs.dataFormat)) return null;
  const info = conv2dInfo(inputs.x.shape, inputs.filter.shape, attrs, { depthwise: true });
  if (!info) return null;
  const walk = walkOf(info);
  const y = new Float32Array(walk.batch * walk.outH * walk.outW * walk.outC);
  if (walk.mult === 1) forward1(x, w, y, walk);
  else forwardMulti(x, w, y, walk);
  return backend.makeTensorInfo(info.outShape, 'float32', y);
};

export const depthwiseConv2dBackpropFilter: FastKernel = ({ inputs, backend, attrs }) => {
  const x = float32Values(backend, inputs.x);
  const dy = float32Values(backend, inputs.dy);
  if (!x || !dy) return null;
  const info = conv2dInfo(inputs.x.shape, attrs.filterShape as number[], attrs, { depthwise: true });
  if (!info || !undilated(info)) return null;
  const walk = walkOf(info);
  // Sums run over every output pixel of the batch: accumulate in doubles like the stock kernel.
  const acc = new Float64Array(walk.fh * walk.fw * walk.outC);
  if (walk.mult === 1) filterGradient1(x, dy, acc, walk);
  else filterGradientMulti(x, dy, acc, walk);
  return backend.makeTensorInfo(info.filterShape, 'float32', Float32Array.from(acc));
};

export const depthwiseConv2dBackpropInput: FastKernel = ({ inputs, backend, attrs }) => {
  const dy = float32Values(backend, inputs.dy);
  const w = float32Values(backend, inputs.filter);
  if (!dy || !w) return null;
  const info = conv2dInfo(attrs.inputShape as number[], inputs.filter.shape, attrs, { depthwise: true });
  if (!info || !undilated(info)) return null;
  const walk = walkOf(info);
  const dx = new Float32Array(walk.batch * walk.inH * walk.inW * walk.inC);
  if (walk.mult === 1) inputGradient1(dy, w, dx, walk);
  else inputGradientMulti(dy, w, dx, walk);
  return backend.makeTensorInfo(info.inShape, 'float32', dx);
};

function forward1(x: Float32Array, w: Float32Array, y: Float32Array, g: Walk): void {
  const { batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, dh, top, first, end, xcAtZero } = g;
  for (let b = 0; b < batch; b++) {
    for (let yr = 0; yr < outH; yr++) {
      const yRow = (b * outH + yr) * outW;
      for (let kr = 0; kr < fh; kr++) {
        const xr = yr * sh - top + kr * dh;
        if (xr < 0 || xr >= inH) continue;
        const xRow = (b * inH + xr) * inW;
        for (let kc = 0; kc < fw; kc++) {
          const wo = (kr * fw + kc) * inC;
          const ycEnd = end[kc];
          const xAt = xRow + xcAtZero[kc];
          for (let yc = first[kc]; yc < ycEnd; yc++) {
            const xo = (xAt + yc * sw) * inC;
            const yo = (yRow + yc) * inC;
            for (let c = 0; c < inC; c++) y[yo + c] += x[xo + c] * w[wo + c];
          }
        }
      }
    }
  }
}

function forwardMulti(x: Float32Array, w: Float32Array, y: Float32Array, g: Walk): void {
  const { batch, inH, inW, inC, outH, outW, outC, mult, fh, fw, sh, sw, dh, top, first, end, xcAtZero } = g;
  for (let b = 0; b < batch; b++) {
    for (let yr = 0; yr < outH; yr++) {
      const yRow = (b * outH + yr) * outW;
      for (let kr = 0; kr < fh; kr++) {
        const xr = yr * sh - top + kr * dh;
        if (xr < 0 || xr >= inH) continue;
        const xRow = (b * inH + xr) * inW;
        for (let kc = 0; kc < fw; kc++) {
          const wo = (kr * fw + kc) * outC;
          const ycEnd = end[kc];
          const xAt = xRow + xcAtZero[kc];
          for (let yc = first[kc]; yc < ycEnd; yc++) {
            const xo = (xAt + yc * sw) * inC;
            const yo = (yRow + yc) * outC;
            for (let c = 0; c < inC; c++) {
              const xv = x[xo + c];
              const base = c * mult;
              for (let q = 0; q < mult; q++) y[yo + base + q] += xv * w[wo + base + q];
            }
          }
        }
      }
    }
  }
}

function filterGradient1(x: Float32Array, dy: Float32Array, acc: Float64Array, g: Walk): void {
  const { batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, dh, top, first, end, xcAtZero } = g;
  for (let b = 0; b < batch; b++) {
    for (let yr = 0; yr < outH; yr++) {
      const yRow = (b * outH + yr) * outW;
      for (let kr = 0; kr < fh; kr++) {
        const xr = yr * sh - top + kr * dh;
        if (xr < 0 || xr >= inH) continue;
        const xRow = (b * inH + xr) * inW;
        for (let kc = 0; kc < fw; kc++) {
          const wo = (kr * fw + kc) * inC;
          const ycEnd = end[kc];
          const xAt = xRow + xcAtZero[kc];
          for (let yc = first[kc]; yc < ycEnd; yc++) {
            const xo = (xAt + yc * sw) * inC;
            const yo = (yRow + yc) * inC;
            for (let c = 0; c < inC; c++) acc[wo + c] += x[xo + c] * dy[yo + c];
          }
        }
      }
    }
  }
}

function filterGradientMulti(x: Float32Array, dy: Float32Array, acc: Float64Array, g: Walk): void {
  const { batch, inH, inW, inC, outH, outW, outC, mult, fh, fw, sh, sw, dh, top, first, end, xcAtZero } = g;
  for (let b = 0; b < batch; b++) {
    for (let yr = 0; yr < outH; yr++) {
      const yRow = (b * outH + yr) * outW;
      for (let kr = 0; kr < fh; kr++) {
        const xr = yr * sh - top + kr * dh;
        if (xr < 0 || xr >= inH) continue;
        const xRow = (b * inH + xr) * inW;
        for (let kc = 0; kc < fw; kc++) {
          const wo = (kr * fw + kc) * outC;
          const ycEnd = end[kc];
          const xAt = xRow + xcAtZero[kc];
          for (let yc = first[kc]; yc < ycEnd; yc++) {
            const xo = (xAt + yc * sw) * inC;
            const yo = (yRow + yc) * outC;
            for (let c = 0; c < inC; c++) {
              const xv = x[xo + c];
              const base = c * mult;
              for (let q = 0; q < mult; q++) acc[wo + base + q] += xv * dy[yo + base + q];
            }
          }
        }
      }
    }
  }
}

function inputGradient1(dy: Float32Array, w: Float32Array, dx: Float32Array, g: Walk): void {
  const { batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, dh, top, first, end, xcAtZero } = g;
  for (let b = 0; b < batch; b++) {
    for (let yr = 0; yr < outH; yr++) {
      const yRow = (b * outH + yr) * outW;
      for (let kr = 0; kr < fh; kr++) {
        const xr = yr * sh - top + kr * dh;
        if (xr < 0 || xr >= inH) continue;
        const xRow = (b * inH + xr) * inW;
        for (let kc = 0; kc < fw; kc++) {
          const wo = (kr * fw + kc) * inC;
          const ycEnd = end[kc];
          const xAt = xRow + xcAtZero[kc];
          for (let yc = first[kc]; yc < ycEnd; yc++) {
            const xo = (xAt + yc * sw) * inC;
            const yo = (yRow + yc) * inC;
            for (let c = 0; c < inC; c++) dx[xo + c] += dy[yo + c] * w[wo + c];
          }
        }
      }
    }
  }
}

function inputGradientMulti(dy: Float32Array, w: Float32Array, dx: Float32Array, g: Walk): void {
  const { batch, inH, inW, inC, outH, outW, outC, mult, fh, fw, sh, sw, dh, top, first, end, xcAtZero } = g;
  for (let b = 0; b < batch; b++) {
    for (let yr = 0; yr < outH; yr++) {
      const yRow = (b * outH + yr) * outW;
      for (let kr = 0; kr < fh; kr++) {
        const xr = yr * sh - top + kr * dh;
        if (xr < 0 || xr >= inH) continue;
        const xRow = (b * inH + xr) * inW;
        for (let kc = 0; kc < fw; kc++) {
          const wo = (kr * fw + kc) * outC;
          const ycEnd = end[kc];
          const xAt = xRow + xcAtZero[kc];
          for (let yc = first[kc]; yc < ycEnd; yc++) {
            const xo = (xAt + yc * sw) * inC;
            const yo = (yRow + yc) * outC;
            for (let c = 0; c < inC; c++) {
              const base = c * mult;
              let s = 0;
              for (let q = 0; q < mult; q++) s += dy[yo + base + q] * w[wo + base + q];
              dx[xo + c] += s;
            }
          }
        }
      }
    }
  }
}

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
