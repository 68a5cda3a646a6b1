/**
 * Conv2DBackpropInput (the input gradient) as a matrix product: dX = col2im(dY · Wᵀ), with
 * dX = dY · Wᵀ directly for 1×1 stride-1 convolutions. Wᵀ is copied once into [outC, K] so the
 * product reads both operands along rows.
 */
import { conv2dInfo, isNhwc } from './conv-attrs';
import { gemm } from './gemm';
import { col2imAdd, isPointwise, rowsPerChunk } from './im2col';
import { float32Values, type FastKernel } from './tensor-data';

export const conv2dBackpropInput: FastKernel = ({ inputs, backend, attrs }) => {
  if (!isNhwc(attrs)) return null;
  const dy = float32Values(backend, inputs.dy);
  const w = float32Values(backend, inputs.filter);
  if (!dy || !w) return null;
  const inputShape = attrs.inputShape as number[];
  const info = conv2dInfo(inputShape, inputs.filter.shape, attrs, { depthwise: false, dilations: false });
  if (!info) return null;
  const outC = info.outChannels;
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const rowLength = info.filterHeight * info.filterWidth * info.inChannels;
  const wt = transpose(w, rowLength, outC);
  const dx = new Float32Array(info.batchSize * info.inHeight * info.inWidth * info.inChannels);
  if (isPointwise(info)) {
    gemm(pixels, rowLength, outC, dy, 0, outC, 1, wt, 0, rowLength, 1, dx, 0, rowLength, false);
  } else {
    const chunk = rowsPerChunk(rowLength);
    const dcol = new Float32Array(Math.min(chunk, pixels) * rowLength);
    for (let p0 = 0; p0 < pixels; p0 += chunk) {
      const rows = Math.min(chunk, pixels - p0);
      gemm(rows, rowLength, outC, dy, p0 * outC, outC, 1, wt, 0, rowLength, 1, dcol, 0, rowLength, false);
      col2imAdd(dcol, info, p0, rows, dx);
    }
  }
  return backend.makeTensorInfo(info.inShape, 'float32', dx);
};

/** [rows, cols] → [cols, rows]. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) t[c * rows + r] = m[o + c];
  }
  return t;
}
