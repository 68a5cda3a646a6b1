/**
 * The few elementwise kernels the step plan needs that no layer kernel provides: the preprocess
 * layer (a frozen per-channel x·k + b on the input pixels), a residual add without stochastic
 * depth, adding a gradient contribution into a buffer (for the kernels that cannot accumulate
 * themselves), and a row softmax for the inference plan's probabilities. Offsets and counts are
 * kernel parameters (dispatch.ts KernelParams), so each kind compiles one pipeline per plan.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { KernelParams, load, perElementWgsl, writer } from '../dispatch';

const WORKGROUP = 256;

/** One thread per element; `body(p)` registers the tensors' offsets in p and returns the WGSL. */
function elementwise(ctx: KernelContext, label: string, count: number, body: (p: KernelParams) => string): Dispatch {
  const p = new KernelParams();
  const code = perElementWgsl(WORKGROUP, p.u('count', count), `  ${body(p)}`);
  return ctx.dispatch(label, code, Math.ceil(count / WORKGROUP), p);
}

function need(kernel: string, ...pairs: [TensorRange, number][]): void {
  for (const [t, n] of pairs) if (t.length < n) throw new Error(`${kernel}: tensor ${t.name} holds ${t.length} values, needs ${n}`);
}

/** y[i] = x[i]·k[c] + b[c], c = i mod channels (the preprocess layer: a 1×1 depthwise convolution with bias). */
export function channelAffine(ctx: KernelContext, x: TensorRange, k: TensorRange, b: TensorRange, y: TensorRange, channels: number): Dispatch {
  const n = x.length;
  need('channel affine', [y, n], [k, channels], [b, channels]);
  return elementwise(ctx, 'preprocess (x·k + b)', n, (p) => {
    const C = p.u('channels', channels);
    const Y = writer(p, 'y', y);
    return `let c = i % ${C};
  ${Y('i', `${load(p, 'x', x, 'i')} * mem[${p.at('k', k)} + c] + mem[${p.at('b', b)} + c]`)};`;
  });
}

/** y = a + b over `count` values. */
export function addTensors(ctx: KernelContext, a: TensorRange, b: TensorRange, y: TensorRange, count: number): Dispatch {
  need('add', [a, count], [b, count], [y, count]);
  return elementwise(ctx, 'add', count, (p) => `${writer(p, 'y', y)('i', `${load(p, 'a', a, 'i')} + ${load(p, 'b', b, 'i')}`)};`);
}

/** dst += src over `count` values (a second gradient contribution from a kernel without accumulate). */
export function accumulateInto(ctx: KernelContext, src: TensorRange, dst: TensorRange, count: number): Dispatch {
  need('accumulate', [src, count], [dst, count]);
  return elementwise(ctx, 'gradient accumulate', count, (p) => `${writer(p, 'dst', dst)('i', `${load(p, 'dst', dst, 'i')} + ${load(p, 'src', src, 'i')}`)};`);
}

/** p[r, k] = softmax over k of z[r, k], one thread per row (the head has few classes). */
export function softmaxRows(ctx: KernelContext, z: TensorRange, probabilities: TensorRange, rows: number, classes: number): Dispatch {
  need('softmax', [z, rows * classes], [probabilities, rows * classes]);
  return elementwise(ctx, 'softmax', rows, (p) => {
    const K = p.u('classes', classes);
    const Z = p.at('z', z);
    const P = p.at('p', probabilities);
    return `let base = i * ${K};
  var mx = mem[${Z} + base];
  for (var k = 1u; k < ${K}; k++) { mx = max(mx, mem[${Z} + base + k]); }
  var sum = 0.0;
  for (var k = 0u; k < ${K}; k++) { sum += exp(mem[${Z} + base + k] - mx); }
  for (var k = 0u; k < ${K}; k++) { mem[${P} + base + k] = exp(mem[${Z} + base + k] - mx) / sum; }`;
  });
}

/** dst = src over `count` values (a residual add passing its gradient to an input that cannot share the buffer). */
export function copyTensor(ctx: KernelContext, src: TensorRange, dst: TensorRange, count: number): Dispatch {
  need('copy', [src, count], [dst, count]);
  return elementwise(ctx, 'gradient copy', count, (p) => `${writer(p, 'dst', dst)('i', load(p, 'src', src, 'i'))};`);
}
