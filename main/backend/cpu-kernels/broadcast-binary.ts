/**
 * Add, Sub, Multiply and RealDiv on float32 with broadcasting done by strides instead of per-element
 * index arithmetic. The stock kernels convert every output index to coordinates and back
 * (util.indexToLoc / locToIndex, two array allocations per element) whenever shapes differ, which
 * makes the squeeze-and-excitation product [b, h, w, c]·[b, 1, 1, c] and the BatchNorm and Adam
 * arithmetic slow. Results are bit-identical to the stock ones (same operation, same rounding).
 *
 * The broadcast is first reduced to a few dimensions: size-1 output axes are dropped and
 * neighbouring axes where a and b are each either full or broadcast in the same way are merged.
 * [b, h, w, c]·[b, 1, 1, c] becomes [b, h·w, c] with b's stride 0 on the middle axis, and the
 * innermost axis runs as one tight loop.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import { float32Values, type FastKernel } from './tensor-data';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

export interface BroadcastPlan {
  outShape: number[];
  size: number;
  /** collapsed axes, outermost first; the last one is the inner loop */
  sizes: number[];
  aStrides: number[];
  bStrides: number[];
}

export function broadcastPlan(aShape: readonly number[], bShape: readonly number[]): BroadcastPlan {
  const outShape = backend_util.assertAndGetBroadcastShape(aShape as number[], bShape as number[]);
  const rank = outShape.length;
  const sizes: number[] = [];
  const aFull: boolean[] = [];
  const bFull: boolean[] = [];
  for (let d = 0; d < rank; d++) {
    const n = outShape[d];
    if (n === 1) continue;
    const ad = aShape[d - (rank - aShape.length)] ?? 1;
    const bd = bShape[d - (rank - bShape.length)] ?? 1;
    const last = sizes.length - 1;
    if (last >= 0 && aFull[last] === (ad === n) && bFull[last] === (bd === n)) {
      sizes[last] *= n;
    } else {
      sizes.push(n);
      aFull.push(ad === n);
      bFull.push(bd === n);
    }
  }
  const aStrides = stridesOf(sizes, aFull);
  const bStrides = stridesOf(sizes, bFull);
  let size = 1;
  for (const n of outShape) size *= n;
  return { outShape, size, sizes, aStrides, bStrides };
}

/** Element strides of an operand over the collapsed axes: 0 where it is broadcast. */
function stridesOf(sizes: number[], full: boolean[]): number[] {
  const strides = new Array<number>(sizes.length).fill(0);
  let stride = 1;
  for (let d = sizes.length - 1; d >= 0; d--) {
    if (full[d]) {
      strides[d] = stride;
      stride *= sizes[d];
    }
  }
  return strides;
}

export function broadcastBinary(op: BinaryOp, plan: BroadcastPlan, a: Float32Array, b: Float32Array, out: Float32Array): void {
  const { sizes, aStrides, bStrides } = plan;
  const rank = sizes.length;
  if (rank === 0) {
    inner(op, out, 0, a, 0, 0, b, 0, 0, 1);
    return;
  }
  const n = sizes[rank - 1];
  const sa = aStrides[rank - 1];
  const sb = bStrides[rank - 1];
  const outerRank = rank - 1;
  const index = new Array<number>(outerRank).fill(0);
  let ao = 0;
  let bo = 0;
  for (let o = 0; o < plan.size; o += n) {
    inner(op, out, o, a, ao, sa, b, bo, sb, n);
    // Odometer over the outer axes.
    for (let d = outerRank - 1; d >= 0; d--) {
      ao += aStrides[d];
      bo += bStrides[d];
      if (++index[d] < sizes[d]) break;
      ao -= aStrides[d] * sizes[d];
      bo -= bStrides[d] * sizes[d];
      index[d] = 0;
    }
  }
}

/**
 * One innermost run. Each (op, stride pattern) has its own loop so that V8 compiles every loop
 * for a single arithmetic operation (a shared loop calling op(a, b) would not be inlined).
 */
function inner(op: BinaryOp, out: Float32Array, o: number, a: Float32Array, ao: number, sa: number, b: Float32Array, bo: number, sb: number, n: number): void {
  switch (op) {
    case 'add':
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[o + i] = a[ao + i] + b[bo + i];
      else if (sa === 1) { const v = b[bo]; for (let i = 0; i < n; i++) out[o + i] = a[ao + i] + v; }
      else if (sb === 1) { const v = a[ao]; for (let i = 0; i < n; i++) out[o + i] = v + b[bo + i]; }
      else { const v = a[ao] + b[bo]; for (let i = 0; i < n; i++) out[o + i] = v; }
      return;
    case 'sub':
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[o + i] = a[ao + i] - b[bo + i];
      else if (sa === 1) { const v = b[bo]; for (let i = 0; i < n; i++) out[o + i] = a[ao + i] - v; }
      else if (sb === 1) { const v = a[ao]; for (let i = 0; i < n; i++) out[o + i] = v - b[bo + i]; }
      else { const v = a[ao] - b[bo]; for (let i = 0; i < n; i++) out[o + i] = v; }
      return;
    case 'mul':
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[o + i] = a[ao + i] * b[bo + i];
      else if (sa === 1) { const v = b[bo]; for (let i = 0; i < n; i++) out[o + i] = a[ao + i] * v; }
      else if (sb === 1) { const v = a[ao]; for (let i = 0; i < n; i++) out[o + i] = v * b[bo + i]; }
      else { const v = a[ao] * b[bo]; for (let i = 0; i < n; i++) out[o + i] = v; }
      return;
    case 'div':
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[o + i] = a[ao + i] / b[bo + i];
      else if (sa === 1) { const v = b[bo]; for (let i = 0; i < n; i++) out[o + i] = a[ao + i] / v; }
      else if (sb === 1) { const v = a[ao]; for (let i = 0; i < n; i++) out[o + i] = v / b[bo + i]; }
      else { const v = a[ao] / b[bo]; for (let i = 0; i < n; i++) out[o + i] = v; }
      return;
  }
}

export function binaryKernel(op: BinaryOp): FastKernel {
  return ({ inputs, backend }) => {
    const a = float32Values(backend, inputs.a);
    const b = float32Values(backend, inputs.b);
    if (!a || !b) return null;
    const plan = broadcastPlan(inputs.a.shape, inputs.b.shape);
    const out = new Float32Array(plan.size);
    broadcastBinary(op, plan, a, b, out);
    return backend.makeTensorInfo(plan.outShape, 'float32', out);
  };
}
