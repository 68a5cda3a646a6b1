/**
 * The few elementwise kernels the step plan needs that no layer kernel provides: the preprocess
 * layer (a frozen per-channel x·k + b on the input pixels), a residual add without stochastic
 * depth, adding a gradient contribution into a buffer (for the kernels that cannot accumulate
 * themselves), and a row softmax for the inference plan's probabilities.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { at, perElementWgsl } from '../dispatch';

const WORKGROUP = 256;

function elementwise(ctx: KernelContext, label: string, count: number, body: string): Dispatch {
  const code = perElementWgsl(WORKGROUP, count, `  ${body}`);
  return ctx.dispatch(label, code, Math.ceil(count / WORKGROUP));
}

function need(kernel: string, ...pairs: [TensorRange, number][]): void {
  for (const [t, n] of pairs) if (t.length < n) throw new Error(`${kernel}: tensor ${t.name} holds ${t.length} values, needs ${n}`);
}

/** y[i] = x[i]·k[c] + b[c], c = i mod channels (the preprocess layer: a 1×1 depthwise convolution with bias). */
export function channelAffine(ctx: KernelContext, x: TensorRange, k: TensorRange, b: TensorRange, y: TensorRange, channels: number): Dispatch {
  const n = x.length;
  need('channel affine', [y, n], [k, channels], [b, channels]);
  return elementwise(ctx, 'preprocess (x·k + b)', n, `let c = i % ${channels}u;
  mem[${at(y)} + i] = mem[${at(x)} + i] * mem[${at(k)} + c] + mem[${at(b)} + c];`);
}

/** y = a + b over `count` values. */
export function addTensors(ctx: KernelContext, a: TensorRange, b: TensorRange, y: TensorRange, count: number): Dispatch {
  need('add', [a, count], [b, count], [y, count]);
  return elementwise(ctx, 'add', count, `mem[${at(y)} + i] = mem[${at(a)} + i] + mem[${at(b)} + i];`);
}

/** dst += src over `count` values (a second gradient contribution from a kernel without accumulate). */
export function accumulateInto(ctx: KernelContext, src: TensorRange, dst: TensorRange, count: number): Dispatch {
  need('accumulate', [src, count], [dst, count]);
  return elementwise(ctx, 'gradient accumulate', count, `mem[${at(dst)} + i] = mem[${at(dst)} + i] + mem[${at(src)} + i];`);
}

/** p[r, k] = softmax over k of z[r, k], one thread per row (the head has few classes). */
export function softmaxRows(ctx: KernelContext, z: TensorRange, p: TensorRange, rows: number, classes: number): Dispatch {
  need('softmax', [z, rows * classes], [p, rows * classes]);
  return elementwise(ctx, 'softmax', rows, `let base = i * ${classes}u;
  var mx = mem[${at(z)} + base];
  for (var k = 1u; k < ${classes}u; k++) { mx = max(mx, mem[${at(z)} + base + k]); }
  var sum = 0.0;
  for (var k = 0u; k < ${classes}u; k++) { sum += exp(mem[${at(z)} + base + k] - mx); }
  for (var k = 0u; k < ${classes}u; k++) { mem[${at(p)} + base + k] = exp(mem[${at(z)} + base + k] - mx) / sum; }`);
}

/** dst = src over `count` values (a residual add passing its gradient to an input that cannot share the buffer). */
export function copyTensor(ctx: KernelContext, src: TensorRange, dst: TensorRange, count: number): Dispatch {
  need('copy', [src, count], [dst, count]);
  return elementwise(ctx, 'gradient copy', count, `mem[${at(dst)} + i] = mem[${at(src)} + i];`);
}
