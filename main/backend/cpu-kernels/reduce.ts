/**
 * Sum and Mean over any set of axes of a float32 tensor, in one pass over the input in memory
 * order. The stock kernels first transpose the input so the reduced axes are innermost — a full
 * copy with per-element index arithmetic — which is most of the cost of BatchNorm's moments
 * (axes [0, 1, 2] of NHWC) and of the SE and broadcast gradients. Sums are kept in doubles, as
 * in the stock kernels.
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import { float32Values, type FastKernel } from './tensor-data';

export function reduceSum(x: Float32Array, shape: readonly number[], axes: readonly number[]): Float64Array {
  // Collapse: drop size-1 axes, merge neighbours that are both reduced or both kept.
  const sizes: number[] = [];
  const reduced: boolean[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const r = axes.includes(d);
    const last = sizes.length - 1;
    if (last >= 0 && reduced[last] === r) sizes[last] *= shape[d];
    else {
      sizes.push(shape[d]);
      reduced.push(r);
    }
  }
  let outSize = 1;
  for (let d = 0; d < sizes.length; d++) if (!reduced[d]) outSize *= sizes[d];
  const acc = new Float64Array(outSize);
  if (x.length === 0) return acc;
  if (sizes.length === 0) {
    acc[0] = x[0];
    return acc;
  }
  // Stride of each collapsed axis in the output (0 for reduced axes).
  const outStrides = new Array<number>(sizes.length).fill(0);
  let stride = 1;
  for (let d = sizes.length - 1; d >= 0; d--) {
    if (!reduced[d]) {
      outStrides[d] = stride;
      stride *= sizes[d];
    }
  }
  const rank = sizes.length;
  const n = sizes[rank - 1];
  const innerReduced = reduced[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  let accOff = 0;
  for (let xo = 0; xo < x.length; xo += n) {
    if (innerReduced) {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[xo + i];
      acc[accOff] += s;
    } else {
      for (let i = 0; i < n; i++) acc[accOff + i] += x[xo + i];
    }
    for (let d = rank - 2; d >= 0; d--) {
      accOff += outStrides[d];
      if (++index[d] < sizes[d]) break;
      accOff -= outStrides[d] * sizes[d];
      index[d] = 0;
    }
  }
  return acc;
}

function reduceKernel(mean: boolean): FastKernel {
  return ({ inputs, backend, attrs }) => {
    const x = float32Values(backend, inputs.x);
    if (!x) return null;
    const shape = inputs.x.shape;
    const axes = util.parseAxisParam(attrs.axis as number | number[], shape);
    const [outShape, reduceShape] = backend_util.computeOutAndReduceShapes(shape, axes);
    const count = util.sizeFromShape(reduceShape);
    if (count === 0) return null; // the stock kernels define the empty case
    const acc = reduceSum(x, shape, axes);
    const out = new Float32Array(acc.length);
    if (mean) {
      for (let i = 0; i < out.length; i++) out[i] = acc[i] / count;
    } else {
      out.set(acc);
    }
    const shapeOut = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return backend.makeTensorInfo(shapeOut, 'float32', out);
  };
}

export const sum = reduceKernel(false);
export const mean = reduceKernel(true);
