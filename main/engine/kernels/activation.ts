/**
 * Swish (x·sigmoid(x)) and sigmoid, forward and backward, as elementwise kernels. In the step plan
 * they are fused into their neighbours where one exists (the BatchNorm apply kernel takes an
 * activation); these standalone forms serve where none does, and as the reference for the fused ones.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { KernelParams, load, perElementWgsl, store, writer } from '../dispatch';

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
  const p = new KernelParams();
  const code = perElementWgsl(WORKGROUP, p.u('count', n), `  let v = ${load(p, 'x', x, 'i')};
  ${store(p, 'y', y, 'i', activationWgsl(activation, 'v'))};`);
  return ctx.dispatch(`${activation} forward`, code, Math.ceil(n / WORKGROUP), p);
}

/** dx = dy · f'(x), x the pre-activation. */
export function activationBackward(ctx: KernelContext, activation: Activation, x: TensorRange, dy: TensorRange, dx: TensorRange): Dispatch {
  const n = x.length;
  const p = new KernelParams();
  const code = perElementWgsl(WORKGROUP, p.u('count', n), `  let v = ${load(p, 'x', x, 'i')};
  ${writer(p, 'dx', dx)('i', `${load(p, 'dy', dy, 'i')} * ${activationGradWgsl(activation, 'v')}`)};`);
  return ctx.dispatch(`${activation} backward`, code, Math.ceil(n / WORKGROUP), p);
}
