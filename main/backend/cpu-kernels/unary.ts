/**
 * Float32 unary kernels that a training step calls on whole activations (Sigmoid in every swish)
 * or on every weight (Sqrt, Rsqrt in Adam and BatchNorm). The stock ones share one loop that calls
 * op(x) per element; shared by every unary kernel, that call site is megamorphic and V8 does not
 * inline it. Same formulas as the stock kernels, so results are identical.
 */
import { float32Values, type FastKernel } from './tensor-data';

function unaryKernel(loop: (x: Float32Array, out: Float32Array) => void): FastKernel {
  return ({ inputs, backend }) => {
    const x = float32Values(backend, inputs.x);
    if (!x) return null;
    const out = new Float32Array(x.length);
    loop(x, out);
    return backend.makeTensorInfo(inputs.x.shape, 'float32', out);
  };
}

export const sigmoid = unaryKernel((x, out) => {
  for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
});

export const sqrt = unaryKernel((x, out) => {
  for (let i = 0; i < x.length; i++) out[i] = Math.sqrt(x[i]);
});

export const rsqrt = unaryKernel((x, out) => {
  for (let i = 0; i < x.length; i++) out[i] = 1 / Math.sqrt(x[i]);
});
