/**
 * Swish (x·sigmoid(x)) and sigmoid, forward and backward, as elementwise kernels. In the step plan
 * they are fused into their neighbours where one exists (the BatchNorm apply kernel takes an
 * activation); these standalone forms serve where none does, and as the reference for the fused ones.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { at, perElementWgsl } from '../dispatch';

export type Activation = 'none' | 'swish' | 'sigmoid';

const WORKGROUP = 256;

/** WGSL: f(x) for `activation`. */
export function activationWgsl(activation: Activation, x: string): string {
  if (activation === 'swish') return `(${x} / (1.0 + exp(-${x})))`;
  if (activation === 'sigmoid') return `(1.0 / (1.0 + exp(-${x})))`;
  return x;
}

/** WGSL: df/dx at pre-activation `x`. */
export function activationGradWgsl(activation: Activation, x: string): string {
  if (activation === 'swish') return `(1.0 / (1.0 + exp(-${x})) * (1.0 + ${x} * (1.0 - 1.0 / (1.0 + exp(-${x})))))`;
  if (activation === 'sigmoid') return `(1.0 / (1.0 + exp(-${x})) * (1.0 - 1.0 / (1.0 + exp(-${x}))))`;
  return '1.0';
}

/** y = f(x) over `x.length` values. */
export function activationForward(ctx: KernelContext, activation: Activation, x: TensorRange, y: TensorRange): Dispatch {
  const n = x.length;
  const code = perElementWgsl(WORKGROUP, n, `  let v = mem[${at(x)} + i];
  mem[${at(y)} + i] = ${activationWgsl(activation, 'v')};`);
  return ctx.dispatch(`${activation} forward`, code, Math.ceil(n / WORKGROUP));
}

/** dx = dy · f'(x), x the pre-activation. */
export function activationBackward(ctx: KernelContext, activation: Activation, x: TensorRange, dy: TensorRange, dx: TensorRange): Dispatch {
  const n = x.length;
  const code = perElementWgsl(WORKGROUP, n, `  let v = mem[${at(x)} + i];
  mem[${at(dx)} + i] = mem[${at(dy)} + i] * ${activationGradWgsl(activation, 'v')};`);
  return ctx.dispatch(`${activation} backward`, code, Math.ceil(n / WORKGROUP));
}
