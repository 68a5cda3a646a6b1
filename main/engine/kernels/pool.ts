/**
 * Global average pooling (NHWC → [n, c]) and the squeeze-and-excitation scale y = x·s[n, c], with
 * their gradients.
 *
 * The SE backward is two kernels because of the order its gradients become known: ds (Σ over h, w
 * of dy·x, optionally through the sigmoid that made s) comes first and feeds the two SE dense
 * layers' backward, which yield the pooled gradient; only then is dx known, dy·s plus that pooled
 * gradient spread over h·w — the pool's backward folded into the same pass (seScaleInputGrad's
 * poolGrad) so the block input's gradient is written once.
 *
 * The reductions over h·w run one workgroup per (sample, tile of channels): consecutive threads
 * read consecutive channels, lanes stride over the positions, and the lanes are added up in shared
 * memory or with subgroup shuffles (lane-reduce.ts).
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { ARENA_BINDING, KernelParams, load, perElementWgsl, requireLengths, writer } from '../dispatch';
import { activationGradWgsl, type Activation } from './activation';
import { laneReduction } from './lane-reduce';

const WORKGROUP = 256;

export interface SpatialShape {
  n: number;
  h: number;
  w: number;
  c: number;
}

/** y[n, c] = mean over h, w of x[n, h, w, c]. */
export function globalAvgPool(ctx: KernelContext, x: TensorRange, y: TensorRange, s: SpatialShape): Dispatch {
  check([x, s.n * s.h * s.w * s.c], [y, s.n * s.c]);
  const p = new KernelParams();
  const value = load(p, 'x', x, 'i');
  const inv = p.f('1/hw', 1 / (s.h * s.w));
  return reduceSpatial(ctx, p, 'global average pool', value, (sum) => `${sum} * ${inv}`, y, s);
}

/** The flat [n, c] index of element i of an [n, h, w, c] tensor. */
function sampleChannel(p: KernelParams, s: SpatialShape): string {
  return `let nc = (i / ${p.u('hwc', s.h * s.w * s.c)}) * ${p.u('c', s.c)} + i % ${p.u('c', s.c)};`;
}

/** dx[n, h, w, c] = dy[n, c] / (h·w); with `accumulate`, added to what dx holds. */
export function globalAvgPoolBackward(ctx: KernelContext, dy: TensorRange, dx: TensorRange, s: SpatialShape, accumulate = false): Dispatch {
  const total = s.n * s.h * s.w * s.c;
  check([dy, s.n * s.c], [dx, total]);
  const p = new KernelParams();
  const DX = writer(p, 'dx', dx);
  const code = perElementWgsl(WORKGROUP, p.u('count', total), `  ${sampleChannel(p, s)}
  let g = ${load(p, 'dy', dy, 'nc')} * ${p.f('1/hw', 1 / (s.h * s.w))};
  ${DX('i', accumulate ? `${load(p, 'dx', dx, 'i')} + g` : 'g')};`);
  return ctx.dispatch('global average pool backward', code, Math.ceil(total / WORKGROUP), p);
}

/** y[n, h, w, c] = x[n, h, w, c] · s[n, c]. */
export function seScale(ctx: KernelContext, x: TensorRange, scale: TensorRange, y: TensorRange, s: SpatialShape): Dispatch {
  const total = s.n * s.h * s.w * s.c;
  check([x, total], [scale, s.n * s.c], [y, total]);
  const p = new KernelParams();
  const count = p.u('count', total);
  const nc = sampleChannel(p, s);
  const Y = writer(p, 'y', y);
  const code = perElementWgsl(WORKGROUP, count, `  ${nc}
  ${Y('i', `${load(p, 'x', x, 'i')} * ${load(p, 'scale', scale, 'nc')}`)};`);
  return ctx.dispatch('squeeze-excitation scale', code, Math.ceil(total / WORKGROUP), p);
}

export interface ScaleGradOptions {
  /** s = f(pre): ds is then with respect to `pre` (ds·f'(pre)), fusing the gate's backward */
  through?: { activation: Activation; pre: TensorRange };
}

/** ds[n, c] = Σ over h, w of dy·x (times f'(pre[n, c]) with `through`). */
export function seScaleGrad(ctx: KernelContext, x: TensorRange, dy: TensorRange, ds: TensorRange, s: SpatialShape, options: ScaleGradOptions = {}): Dispatch {
  check([x, s.n * s.h * s.w * s.c], [dy, s.n * s.h * s.w * s.c], [ds, s.n * s.c], ...(options.through ? [[options.through.pre, s.n * s.c] as [TensorRange, number]] : []));
  const through = options.through;
  const p = new KernelParams();
  const value = `${load(p, 'dy', dy, 'i')} * ${load(p, 'x', x, 'i')}`;
  const pre = through ? p.at('pre', through.pre) : '';
  const finish = through ? (sum: string) => `${sum} * ${activationGradWgsl(through.activation, `mem[${pre} + nc]`)}` : (sum: string) => sum;
  return reduceSpatial(ctx, p, `squeeze-excitation scale grad${through ? ` through ${through.activation}` : ''}`, value, finish, ds, s);
}

export interface InputGradOptions {
  /** [n, c] gradient of the pooled input (SE: from the squeeze layers' backward), spread over h·w and added */
  poolGrad?: TensorRange;
}

/** dx[n, h, w, c] = dy·s[n, c] (+ poolGrad[n, c] / (h·w)). */
export function seScaleInputGrad(ctx: KernelContext, dy: TensorRange, scale: TensorRange, dx: TensorRange, s: SpatialShape, options: InputGradOptions = {}): Dispatch {
  const total = s.n * s.h * s.w * s.c;
  check([dy, total], [scale, s.n * s.c], [dx, total], ...(options.poolGrad ? [[options.poolGrad, s.n * s.c] as [TensorRange, number]] : []));
  const p = new KernelParams();
  const nc = sampleChannel(p, s);
  const product = `${load(p, 'dy', dy, 'i')} * ${load(p, 'scale', scale, 'nc')}`;
  const pool = options.poolGrad ? ` + ${load(p, 'poolGrad', options.poolGrad, 'nc')} * ${p.f('1/hw', 1 / (s.h * s.w))}` : '';
  const count = p.u('count', total);
  const DX = writer(p, 'dx', dx);
  const code = perElementWgsl(WORKGROUP, count, `  ${nc}
  ${DX('i', `${product}${pool}`)};`);
  return ctx.dispatch(`squeeze-excitation scale input grad${pool ? ' + pool grad' : ''}`, code, Math.ceil(total / WORKGROUP), p);
}

/**
 * out[n, c] = finish(Σ over h, w of value(i)), `value` a WGSL expression of the element index `i`,
 * `finish` of the sum (may use `nc`, the output index). One workgroup per (n, channel tile); the
 * tile (4, 8 or 16 channels) is the pipeline's variant, the sizes are parameters in `p`.
 */
function reduceSpatial(ctx: KernelContext, p: KernelParams, label: string, value: string, finish: (sum: string) => string, out: TensorRange, s: SpatialShape): Dispatch {
  let tile = 4;
  while (tile < s.c && tile < 16) tile *= 2;
  const lanes = WORKGROUP / tile;
  const C = p.u('c', s.c);
  const positions = p.u('hw', s.h * s.w);
  const OUT = writer(p, 'out', out);
  const r = laneReduction({ name: 'red', type: 'f32', combine: (a, b) => `${a} + ${b}`, tile, lanes, subgroupSize: ctx.subgroupSize });
  const code = `${r.enable}${ARENA_BINDING}
${r.decls}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let cl = lid % ${tile}u;
  let lane = lid / ${tile}u;
  let c = wid.x * ${tile}u + cl;
  let n = wid.y;
  var acc = 0.0;
  if (c < ${C}) {
    for (var p = lane; p < ${positions}; p += ${lanes}u) {
      let i = (n * ${positions} + p) * ${C} + c;
      acc += ${value};
    }
  }
  let sum = red_reduce(acc, lid);
  let oc = wid.x * ${tile}u + ${r.channel};
  if (${r.owner} && oc < ${C}) {
    let nc = n * ${C} + oc;
    ${OUT('nc', finish('sum'))};
  }
}`;
  return ctx.dispatch(label, code, [Math.ceil(s.c / tile), s.n, 1], p);
}

const check = (...pairs: [TensorRange, number][]) => requireLengths('pool', ...pairs);
