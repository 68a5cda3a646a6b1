/**
 * Conv2DBackpropFilter (the filter gradient, ~75 % of a stock CPU training step) as a matrix
 * product: dW[fh·fw·inC, outC] = colᵀ · dY, with col = X itself for 1×1 stride-1 convolutions
 * and im2col chunks otherwise. The stock kernel re-walks the whole batch for every filter element.
 */
import { conv2dInfo, isNhwc } from './conv-attrs';
import { gemm } from './gemm';
import { im2col, isPointwise, rowsPerChunk } from './im2col';
import { float32Values, type FastKernel } from './tensor-data';

export const conv2dBackpropFilter: FastKernel = ({ inputs, backend, attrs }) => {
  if (!isNhwc(attrs)) return null;
  const x = float32Values(backend, inputs.x);
  const dy = float32Values(backend, inputs.dy);
  if (!x || !dy) return null;
  const filterShape = attrs.filterShape as number[];
  const info = conv2dInfo(inputs.x.shape, filterShape, attrs, { depthwise: false, dilations: false });
  if (!info) return null;
  const outC = info.outChannels;
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const rowLength = info.filterHeight * info.filterWidth * info.inChannels;
  const dw = new Float32Array(rowLength * outC);
  if (isPointwise(info)) {
    // dW(ci, co) = Σ_p X(p, ci)·dY(p, co): A = Xᵀ read with strides (1, inC).
    gemm(rowLength, outC, pixels, x, 0, 1, rowLength, dy, 0, outC, 1, dw, 0, outC, false);
  } else {
    const chunk = rowsPerChunk(rowLength);
    const col = new Float32Array(Math.min(chunk, pixels) * rowLength);
    for (let p0 = 0; p0 < pixels; p0 += chunk) {
      const rows = Math.min(chunk, pixels - p0);
      im2col(x, info, p0, rows, col);
      gemm(rowLength, outC, rows, col, 0, 1, rowLength, dy, p0 * outC, outC, 1, dw, 0, outC, p0 > 0);
    }
  }
  return backend.makeTensorInfo(info.filterShape, 'float32', dw);
};
