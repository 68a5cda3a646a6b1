/**
 * Training on the WASM backend. tfjs-backend-wasm 4.22 has fast SIMD kernels (XNNPACK convolutions
 * and matrix products) but no Conv2DBackpropFilter and no depthwise gradients, so tf.layers
 * training fails there. This module registers them for backendName 'wasm':
 *
 * - Conv2DBackpropFilter and Conv2DBackpropInput become transposes plus BatchMatMul on the wasm
 *   backend's own kernels: dW = Xᵀ·dY and dX = dY·Wᵀ for 1×1 stride-1 convolutions (all of
 *   EfficientNet V1's but the stem), the same on im2col chunks (built in JS) for k×k ones (V2's
 *   fused blocks). XNNPACK's product is ~6× faster than ours in JS; its transposeA/transposeB
 *   paths are not (a separate Transpose first is ~8× faster).
 * - The depthwise gradients and Tile (the stock wasm Tile is ~8× slower than ours) run the JS
 *   kernels of this folder on views of the wasm heap.
 *
 * The JS kernels read inputs through views of the wasm memory; those stay valid because nothing
 * allocates on the wasm heap until the kernel hands its finished output to makeOutput.
 */
import {
  BatchMatMul,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  getKernel,
  registerKernel,
  Tile,
  Transpose,
  unregisterKernel,
  type DataId,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { conv2dInfo, isNhwc } from './conv-attrs';
import { conv2dBackpropFilter } from './conv2d-backprop-filter';
import { conv2dBackpropInput } from './conv2d-backprop-input';
import { depthwiseConv2dBackpropFilter, depthwiseConv2dBackpropInput } from './depthwise-conv2d';
import { col2imAdd, im2col, isPointwise } from './im2col';
import type { CpuBackendLike, FastKernel } from './tensor-data';
import { tile } from './tile';

const BACKEND = 'wasm';

/** The part of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackendLike {
  typedArrayFromHeap(t: TensorInfo): ArrayLike<number>;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): TensorInfo;
  disposeData(dataId: DataId): boolean;
}

type KernelParams = Parameters<KernelFunc>[0];

/** Run a JS kernel of this folder on the wasm backend; null when it declines the case. */
function runJsKernel(fast: FastKernel, params: KernelParams): TensorInfo | null {
  const wasm = params.backend as WasmBackendLike;
  const inputs = params.inputs as Record<string, TensorInfo>;
  const views = new Map<DataId, Float32Array>();
  for (const t of Object.values(inputs)) {
    if (t && t.dtype === 'float32') views.set(t.dataId, wasm.typedArrayFromHeap(t) as Float32Array);
  }
  const io: CpuBackendLike = {
    data: { get: (dataId) => ({ values: views.get(dataId) }) },
    makeTensorInfo: (shape, dtype, values) => wasm.makeOutput(shape, dtype, undefined, values),
  };
  return fast({ inputs, backend: io, attrs: params.attrs ?? {} });
}

function wasmKernel(name: string): KernelFunc {
  const config = getKernel(name, BACKEND);
  if (!config) throw new Error(`the wasm backend has no ${name} kernel; is @tensorflow/tfjs-backend-wasm imported?`);
  return config.kernelFunc;
}

/** [rows, cols] → [cols, rows] with the wasm Transpose kernel; the caller disposes the result. */
function transpose2d(params: KernelParams, x: TensorInfo, rows: number, cols: number): TensorInfo {
  return wasmKernel(Transpose)({
    inputs: { x: { dataId: x.dataId, shape: [rows, cols], dtype: x.dtype } },
    backend: params.backend,
    attrs: { perm: [1, 0] },
  }) as TensorInfo;
}

/** [1, m, k]·[1, k, n] with the wasm BatchMatMul kernel (XNNPACK), reshaped to outShape. */
function matMul(params: KernelParams, a: TensorInfo, m: number, k: number, b: TensorInfo, n: number, outShape: number[]): TensorInfo {
  const out = wasmKernel(BatchMatMul)({
    inputs: { a: { dataId: a.dataId, shape: [1, m, k], dtype: 'float32' }, b: { dataId: b.dataId, shape: [1, k, n], dtype: 'float32' } },
    backend: params.backend,
    attrs: { transposeA: false, transposeB: false },
  }) as TensorInfo;
  return { dataId: out.dataId, shape: outShape, dtype: 'float32' };
}

/** Floats per im2col chunk on the wasm path (4 MiB): big enough for XNNPACK, small next to activations. */
export const WASM_COLUMN_CHUNK_FLOATS = 1 << 20;

function nhwcInfo(inShape: readonly number[], filterShape: readonly number[], attrs: NamedAttrMap) {
  if (!isNhwc(attrs)) return null;
  return conv2dInfo(inShape, filterShape, attrs, { depthwise: false, dilations: false });
}

function filterGradient(params: KernelParams): TensorInfo {
  const { x, dy } = params.inputs as Record<string, TensorInfo>;
  const attrs = params.attrs ?? {};
  const info = x.dtype === 'float32' && dy.dtype === 'float32' ? nhwcInfo(x.shape, attrs.filterShape as number[], attrs) : null;
  if (!info) return runJsKernel(conv2dBackpropFilter, params) ?? unsupported(Conv2DBackpropFilter, attrs);
  const wasm = params.backend as WasmBackendLike;
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const outC = info.outChannels;
  if (isPointwise(info)) {
    const xt = transpose2d(params, x, pixels, info.inChannels);
    const dw = matMul(params, xt, info.inChannels, pixels, dy, outC, info.filterShape);
    wasm.disposeData(xt.dataId);
    return dw;
  }
  // dW[K, outC] = Σ over pixel chunks of colᵀ·dY, col = im2col(x) [rows, K].
  const rowLength = info.filterHeight * info.filterWidth * info.inChannels;
  const chunk = Math.max(1, Math.floor(WASM_COLUMN_CHUNK_FLOATS / rowLength));
  const col = new Float32Array(Math.min(chunk, pixels) * rowLength);
  const dw = new Float32Array(rowLength * outC);
  for (let p0 = 0; p0 < pixels; p0 += chunk) {
    const rows = Math.min(chunk, pixels - p0);
    // Views of the heap are taken afresh: the allocations of the previous chunk may have moved it.
    im2col(wasm.typedArrayFromHeap(x) as Float32Array, info, p0, rows, col);
    const colRows = wasm.makeOutput([rows, rowLength], 'float32', undefined, col.subarray(0, rows * rowLength));
    const colTransposed = transpose2d(params, colRows, rows, rowLength);
    wasm.disposeData(colRows.dataId);
    const dyRows = rows === pixels ? dy : dyRowsCopy(wasm, dy, p0, rows, outC);
    const part = matMul(params, colTransposed, rowLength, rows, dyRows, outC, [rowLength, outC]);
    const partValues = wasm.typedArrayFromHeap(part) as Float32Array;
    for (let i = 0; i < dw.length; i++) dw[i] += partValues[i];
    for (const t of [colTransposed, part, ...(dyRows === dy ? [] : [dyRows])]) wasm.disposeData(t.dataId);
  }
  return wasm.makeOutput(info.filterShape, 'float32', undefined, dw);
}

/**
 * Rows p0 .. p0+rows-1 of dy [pixels, outC] as a new wasm tensor. Copied out of the heap first:
 * the allocation of the new tensor can grow the heap, which detaches views of the old one.
 */
function dyRowsCopy(wasm: WasmBackendLike, dy: TensorInfo, p0: number, rows: number, outC: number): TensorInfo {
  const rowsValues = (wasm.typedArrayFromHeap(dy) as Float32Array).slice(p0 * outC, (p0 + rows) * outC);
  return wasm.makeOutput([rows, outC], 'float32', undefined, rowsValues);
}

function inputGradient(stockInputGradient: KernelFunc) {
  return (params: KernelParams): TensorInfo | TensorInfo[] => {
    const { dy, filter } = params.inputs as Record<string, TensorInfo>;
    const attrs = params.attrs ?? {};
    const info = dy.dtype === 'float32' && filter.dtype === 'float32' ? nhwcInfo(attrs.inputShape as number[], filter.shape, attrs) : null;
    if (!info) return runJsKernel(conv2dBackpropInput, params) ?? stockInputGradient(params);
    const wasm = params.backend as WasmBackendLike;
    const pixels = info.batchSize * info.outHeight * info.outWidth;
    const outC = info.outChannels;
    const rowLength = info.filterHeight * info.filterWidth * info.inChannels;
    const wt = transpose2d(params, filter, rowLength, outC);
    if (isPointwise(info)) {
      const dx = matMul(params, dy, pixels, outC, wt, info.inChannels, info.inShape);
      wasm.disposeData(wt.dataId);
      return dx;
    }
    // dX = col2im(dY·Wᵀ), one chunk of pixels at a time.
    const chunk = Math.max(1, Math.floor(WASM_COLUMN_CHUNK_FLOATS / rowLength));
    const dx = new Float32Array(info.batchSize * info.inHeight * info.inWidth * info.inChannels);
    for (let p0 = 0; p0 < pixels; p0 += chunk) {
      const rows = Math.min(chunk, pixels - p0);
      const dyRows = rows === pixels ? dy : dyRowsCopy(wasm, dy, p0, rows, outC);
      const dcol = matMul(params, dyRows, rows, outC, wt, rowLength, [rows, rowLength]);
      col2imAdd(wasm.typedArrayFromHeap(dcol) as Float32Array, info, p0, rows, dx);
      for (const t of [dcol, ...(dyRows === dy ? [] : [dyRows])]) wasm.disposeData(t.dataId);
    }
    wasm.disposeData(wt.dataId);
    return wasm.makeOutput(info.inShape, 'float32', undefined, dx);
  };
}

function jsOnly(name: string, fast: FastKernel): KernelFunc {
  return (params) => runJsKernel(fast, params) ?? unsupported(name, params.attrs ?? {});
}

function jsOrStock(fast: FastKernel, stock: KernelFunc): KernelFunc {
  return (params) => runJsKernel(fast, params) ?? stock(params);
}

function unsupported(name: string, attrs: NamedAttrMap): never {
  throw new Error(`${name} on the wasm backend is implemented for float32 NHWC without dilation only (attributes: ${JSON.stringify(attrs)})`);
}

const replaced = new Map<string, KernelConfig | undefined>();
const ours = new Map<string, KernelConfig>();

/**
 * Register the training kernels for the 'wasm' backend (idempotent). Call after importing
 * @tensorflow/tfjs-backend-wasm and before or after tf.setBackend('wasm').
 */
export function registerWasmTrainingKernels(): void {
  // Registered before the wasm backend's own kernels, ours would be overwritten by them on import.
  if (getKernel(BatchMatMul, BACKEND) === undefined) {
    throw new Error('registerWasmTrainingKernels: import @tensorflow/tfjs-backend-wasm first (its kernels are not registered)');
  }
  const build: Record<string, (stock: KernelConfig | undefined) => KernelFunc> = {
    [Conv2DBackpropFilter]: () => filterGradient,
    [Conv2DBackpropInput]: (stock) => inputGradient(stock?.kernelFunc ?? ((p) => unsupported(Conv2DBackpropInput, p.attrs ?? {}))),
    [DepthwiseConv2dNativeBackpropFilter]: () => jsOnly(DepthwiseConv2dNativeBackpropFilter, depthwiseConv2dBackpropFilter),
    [DepthwiseConv2dNativeBackpropInput]: () => jsOnly(DepthwiseConv2dNativeBackpropInput, depthwiseConv2dBackpropInput),
    [Tile]: (stock) => (stock ? jsOrStock(tile, stock.kernelFunc) : jsOnly(Tile, tile)),
  };
  for (const [name, make] of Object.entries(build)) {
    const current = getKernel(name, BACKEND);
    if (current !== undefined && current === ours.get(name)) continue;
    const stock = replaced.has(name) ? replaced.get(name) : current;
    replaced.set(name, stock);
    const config: KernelConfig = { kernelName: name, backendName: BACKEND, kernelFunc: make(stock) };
    ours.set(name, config);
    if (current !== undefined) unregisterKernel(name, BACKEND);
    registerKernel(config);
  }
}

/** Put back what the wasm backend had before (and remove the kernels it did not have). */
export function unregisterWasmTrainingKernels(): void {
  for (const [name, stock] of replaced) {
    const current = getKernel(name, BACKEND);
    if (current === undefined || current !== ours.get(name)) continue;
    unregisterKernel(name, BACKEND);
    if (stock) registerKernel(stock);
  }
}
