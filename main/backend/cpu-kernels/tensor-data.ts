/**
 * How the fast kernels read their inputs and hand back outputs on the JS CPU backend, and the
 * shape of a kernel that falls back to the stock one for cases it does not cover.
 */
import type { DataId, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-cpu's MathBackendCPU the kernels use. */
export interface CpuBackendLike {
  data: { get(dataId: DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

export interface KernelArgs {
  /** typed as always present; optional inputs (a fused kernel's bias) are checked where read */
  inputs: Record<string, TensorInfo>;
  backend: CpuBackendLike;
  attrs: NamedAttrMap;
}

/**
 * A fast kernel: returns its result, or null when the case is not one it implements (other
 * dtypes, NCHW, …), in which case the stock kernel runs instead.
 */
export type FastKernel = (args: KernelArgs) => TensorInfo | null;

export function withFallback(fast: FastKernel, stock: KernelFunc): KernelFunc {
  return (params) => {
    const args = { inputs: params.inputs as Record<string, TensorInfo>, backend: params.backend as CpuBackendLike, attrs: params.attrs ?? {} };
    return fast(args) ?? stock(params);
  };
}

/** The float32 values of a tensor, or null when it is not a float32 tensor held in a Float32Array. */
export function float32Values(backend: CpuBackendLike, t: TensorInfo | undefined): Float32Array | null {
  if (t === undefined || t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : null;
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}
