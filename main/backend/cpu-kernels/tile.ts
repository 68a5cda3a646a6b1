/**
 * Tile for float32: each input row is copied once and then replicated with copyWithin (memmove),
 * outermost repetitions last. The stock kernel computes coordinates per output element through a
 * TensorBuffer; BatchNorm's gradient tiles a [1, 1, 1, C] tensor to the full activation shape in
 * every layer, which made Tile one of the largest costs of a training step.
 */
import { float32Values, sizeOf, type FastKernel } from './tensor-data';

export function tileValues(x: Float32Array, shape: readonly number[], reps: readonly number[]): Float32Array {
  const rank = shape.length;
  if (rank === 0) return x.slice();
  const outShape = shape.map((s, d) => s * reps[d]);
  const out = new Float32Array(sizeOf(outShape));
  if (out.length === 0) return out;
  const inStrides = new Array<number>(rank);
  const outStrides = new Array<number>(rank);
  inStrides[rank - 1] = 1;
  outStrides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) {
    inStrides[d] = inStrides[d + 1] * shape[d + 1];
    outStrides[d] = outStrides[d + 1] * outShape[d + 1];
  }
  const fill = (d: number, src: number, dst: number): void => {
    const n = shape[d];
    if (d === rank - 1) {
      if (n === 1) {
        out.fill(x[src], dst, dst + reps[d]);
        return;
      }
      for (let i = 0; i < n; i++) out[dst + i] = x[src + i];
    } else {
      for (let i = 0; i < n; i++) fill(d + 1, src + i * inStrides[d], dst + i * outStrides[d]);
    }
    const block = n * outStrides[d];
    for (let r = 1; r < reps[d]; r++) out.copyWithin(dst + r * block, dst, dst + block);
  };
  fill(0, 0, 0);
  return out;
}

export const tile: FastKernel = ({ inputs, backend, attrs }) => {
  const x = float32Values(backend, inputs.x);
  const reps = attrs.reps as number[];
  if (!x || reps.length !== inputs.x.shape.length) return null;
  const values = tileValues(x, inputs.x.shape, reps);
  return backend.makeTensorInfo(inputs.x.shape.map((s, d) => s * reps[d]), 'float32', values);
};
