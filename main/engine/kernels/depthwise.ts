/**
 * Depthwise k×k convolution (Keras DepthwiseConv2D, depth multiplier 1, no bias), NHWC, filter
 * [kh, kw, c, 1] as Keras stores it: forward (activation optionally fused), input gradient and
 * filter gradient.
 *
 * Padding is TF's SAME (out = ceil(in / stride), the odd pixel after), VALID, or a symmetric zero
 * border of p pixels followed by VALID — the explicit ZeroPadding2D the 'symmetric' recipe puts
 * before stride-2 layers, fused here so the padded tensor never exists.
 *
 * The filter gradient is channel-parallel: each workgroup owns a tile of channels and a chunk of the
 * N·OH·OW output positions, every thread accumulates all k² taps of its channel over its share of
 * the positions, and the workgroup reduces them in shared memory. With more than one chunk the
 * chunks' partial sums go to a scratch tensor and a second small pass adds them up. (tfjs runs one
 * thread per filter element looping over every position: 288 threads for B0's first layer.)
 *
 * The kernel size and the stride stay in the WGSL (the tap loops unroll; stride 1 skips the
 * on-grid test); sizes, padding and offsets are kernel parameters (dispatch.ts), so every depthwise
 * layer of a kind (k, stride, activation) shares one pipeline.
 *
 * The backward kernels take the gradient with respect to the convolution's own output; where an
 * activation was fused into the forward, its gradient is applied by the neighbour (BatchNorm's
 * backward in the block plan) or activationBackward.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { ARENA_BINDING, ENTRY_ARGS, FLAT_WORKGROUP, KernelParams, load, loadAbsolute, perElementWgsl, requireLengths, writer } from '../dispatch';
import { activationWgsl, type Activation } from './activation';
import { laneReduction } from './lane-reduce';

const WORKGROUP = 256;

export type Padding = 'same' | 'valid' | number;

export interface DepthwiseShape {
  n: number;
  h: number;
  w: number;
  c: number;
  /** kernel size (square) */
  k: number;
  stride: number;
  padding: Padding;
}

export interface ConvGeometry {
  oh: number;
  ow: number;
  /** zero rows above / columns left of the input */
  padTop: number;
  padLeft: number;
}

/** Output size and leading pad of one spatial axis under `padding`. */
export function paddedAxis(size: number, k: number, stride: number, padding: Padding): { out: number; before: number } {
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + k - size, 0);
    return { out, before: Math.floor(total / 2) };
  }
  const pad = padding === 'valid' ? 0 : padding;
  const out = Math.floor((size + 2 * pad - k) / stride) + 1;
  return { out, before: pad };
}

export function depthwiseGeometry(s: DepthwiseShape): ConvGeometry {
  const rows = paddedAxis(s.h, s.k, s.stride, s.padding);
  const cols = paddedAxis(s.w, s.k, s.stride, s.padding);
  if (rows.out < 1 || cols.out < 1) throw new Error(`depthwise: a ${s.k}×${s.k} kernel does not fit a ${s.h}×${s.w} input with padding ${s.padding}`);
  return { oh: rows.out, ow: cols.out, padTop: rows.before, padLeft: cols.before };
}

/** Output elements: n · oh · ow · c. */
export function depthwiseOutputLength(s: DepthwiseShape): number {
  const g = depthwiseGeometry(s);
  return s.n * g.oh * g.ow * s.c;
}

/** The sizes every depthwise kernel reads, as kernel parameters (u32; the `i` forms i32 for signed index math). */
function sizes(p: KernelParams, s: DepthwiseShape, g: ConvGeometry) {
  return {
    C: p.u('c', s.c),
    H: p.u('h', s.h),
    W: p.u('w', s.w),
    OH: p.u('oh', g.oh),
    OW: p.u('ow', g.ow),
    WC: p.u('w·c', s.w * s.c),
    OWC: p.u('ow·c', g.ow * s.c),
    hI: `i32(${p.u('h', s.h)})`,
    wI: `i32(${p.u('w', s.w)})`,
    ohI: `i32(${p.u('oh', g.oh)})`,
    owI: `i32(${p.u('ow', g.ow)})`,
    padTop: p.i('padTop', g.padTop),
    padLeft: p.i('padLeft', g.padLeft),
  };
}

/** y = f(depthwise(x, filter)); y is [n, oh, ow, c]. */
export function depthwiseForward(ctx: KernelContext, x: TensorRange, filter: TensorRange, y: TensorRange, s: DepthwiseShape, activation: Activation = 'none'): Dispatch {
  const g = depthwiseGeometry(s);
  const total = s.n * g.oh * g.ow * s.c;
  check([x, s.n * s.h * s.w * s.c], [filter, s.k * s.k * s.c], [y, total]);
  const p = new KernelParams();
  const count = p.u('count', total);
  const z = sizes(p, s, g);
  const X = p.at('x', x);
  const F = p.at('filter', filter);
  const Y = writer(p, 'y', y);
  const code = perElementWgsl(WORKGROUP, count, `  let c = i % ${z.C};
  let p = i / ${z.C};
  let ow = p % ${z.OW};
  let q = p / ${z.OW};
  let oh = q % ${z.OH};
  let n = q / ${z.OH};
  var acc = 0.0;
  for (var ki = 0u; ki < ${s.k}u; ki++) {
    let ih = i32(oh * ${s.stride}u + ki) - ${z.padTop};
    if (ih < 0 || ih >= ${z.hI}) { continue; }
    let row = ${X} + (n * ${z.H} + u32(ih)) * ${z.WC} + c;
    for (var kj = 0u; kj < ${s.k}u; kj++) {
      let iw = i32(ow * ${s.stride}u + kj) - ${z.padLeft};
      if (iw < 0 || iw >= ${z.wI}) { continue; }
      acc += ${loadAbsolute(x, `row + u32(iw) * ${z.C}`)} * mem[${F} + (ki * ${s.k}u + kj) * ${z.C} + c];
    }
  }
  ${Y('i', activationWgsl(activation, 'acc'))};`);
  return ctx.dispatch(`depthwise ${s.k}x${s.k}/${s.stride} forward`, code, Math.ceil(total / WORKGROUP), p);
}

/** dx[n, ih, iw, c] = Σ over the taps that read it of dy · filter (one thread per input element). */
export function depthwiseInputGrad(ctx: KernelContext, dy: TensorRange, filter: TensorRange, dx: TensorRange, s: DepthwiseShape): Dispatch {
  const g = depthwiseGeometry(s);
  const total = s.n * s.h * s.w * s.c;
  check([dy, s.n * g.oh * g.ow * s.c], [filter, s.k * s.k * s.c], [dx, total]);
  const p = new KernelParams();
  const count = p.u('count', total);
  const z = sizes(p, s, g);
  const DY = p.at('dy', dy);
  const F = p.at('filter', filter);
  const DX = writer(p, 'dx', dx);
  // an input pixel at ih + padTop = oh·stride + ki is read by tap ki of output row oh
  const onGrid = (v: string) => (s.stride === 1 ? '' : `if (${v} % ${s.stride} != 0) { continue; }`);
  const code = perElementWgsl(WORKGROUP, count, `  let c = i % ${z.C};
  let p = i / ${z.C};
  let iw = i32(p % ${z.W});
  let q = p / ${z.W};
  let ih = i32(q % ${z.H});
  let n = q / ${z.H};
  var acc = 0.0;
  for (var ki = 0; ki < ${s.k}; ki++) {
    let th = ih + ${z.padTop} - ki;
    if (th < 0) { continue; }
    ${onGrid('th')}
    let oh = th / ${s.stride};
    if (oh >= ${z.ohI}) { continue; }
    let row = ${DY} + (n * ${z.OH} + u32(oh)) * ${z.OWC} + c;
    for (var kj = 0; kj < ${s.k}; kj++) {
      let tw = iw + ${z.padLeft} - kj;
      if (tw < 0) { continue; }
      ${onGrid('tw')}
      let ow = tw / ${s.stride};
      if (ow >= ${z.owI}) { continue; }
      acc += ${loadAbsolute(dy, `row + u32(ow) * ${z.C}`)} * mem[${F} + u32(ki * ${s.k} + kj) * ${z.C} + c];
    }
  }
  ${DX('i', 'acc')};`);
  return ctx.dispatch(`depthwise ${s.k}x${s.k}/${s.stride} input grad`, code, Math.ceil(total / WORKGROUP), p);
}

export interface FilterGradOptions {
  /** split of the output positions over workgroups (default: enough workgroups to fill a GPU) */
  chunks?: number;
}

interface FilterGradPlan {
  tile: number;
  lanes: number;
  tiles: number;
  chunks: number;
  positions: number;
  perChunk: number;
}

function filterGradPlan(s: DepthwiseShape, options: FilterGradOptions): FilterGradPlan {
  const g = depthwiseGeometry(s);
  const tile = channelTile(s.c);
  const lanes = WORKGROUP / tile;
  const tiles = Math.ceil(s.c / tile);
  const positions = s.n * g.oh * g.ow;
  // ~512 workgroups in all, but every lane keeps at least 16 positions to add up
  const auto = Math.min(Math.ceil(512 / tiles), Math.floor(positions / (lanes * 16)), 256);
  const chunks = Math.max(1, Math.min(options.chunks ?? auto, positions));
  return { tile, lanes, tiles, chunks, positions, perChunk: Math.ceil(positions / chunks) };
}

/** Scratch elements depthwiseFilterGrad needs (0: none, pass null). */
export function depthwiseFilterGradScratch(s: DepthwiseShape, options: FilterGradOptions = {}): number {
  const plan = filterGradPlan(s, options);
  return plan.chunks > 1 ? plan.chunks * s.k * s.k * s.c : 0;
}

/** dfilter[ki, kj, c] = Σ over n, oh, ow of dy[n, oh, ow, c] · x[n, oh·s + ki − padTop, ow·s + kj − padLeft, c]. */
export function depthwiseFilterGrad(ctx: KernelContext, x: TensorRange, dy: TensorRange, dfilter: TensorRange, scratch: TensorRange | null, s: DepthwiseShape, options: FilterGradOptions = {}): Dispatch[] {
  const g = depthwiseGeometry(s);
  const plan = filterGradPlan(s, options);
  const taps = s.k * s.k;
  check([x, s.n * s.h * s.w * s.c], [dy, plan.positions * s.c], [dfilter, taps * s.c]);
  const needed = depthwiseFilterGradScratch(s, options);
  if (needed > 0 && (!scratch || scratch.length < needed)) throw new Error(`depthwise filter grad: scratch needs ${needed} elements, got ${scratch?.length ?? 'none'}`);
  const out = needed > 0 ? scratch! : dfilter;
  // one block for both passes
  const p = new KernelParams();
  const z = sizes(p, s, g);
  const PER_CHUNK = p.u('perChunk', plan.perChunk);
  const POSITIONS = p.u('positions', plan.positions);
  const CHUNKS = p.u('chunks', plan.chunks);
  const TAPS_C = p.u('taps·c', taps * s.c);
  const X = p.at('x', x);
  const DY = p.at('dy', dy);
  const OUT = p.at('out', out);
  const DFILTER = p.at('dfilter', dfilter);
  const r = laneReduction({ name: 'red', type: 'f32', combine: (a, b) => `${a} + ${b}`, tile: plan.tile, lanes: plan.lanes, subgroupSize: ctx.subgroupSize, repeated: true });
  const partial = `${r.enable}${ARENA_BINDING}
${r.decls}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let cl = lid % ${plan.tile}u;
  let lane = lid / ${plan.tile}u;
  let c = wid.x * ${plan.tile}u + cl;
  let chunk = wid.y;
  var acc: array<f32, ${taps}>;
  if (c < ${z.C}) {
    let end = min((chunk + 1u) * ${PER_CHUNK}, ${POSITIONS});
    for (var p = chunk * ${PER_CHUNK} + lane; p < end; p += ${plan.lanes}u) {
      let ow = p % ${z.OW};
      let q = p / ${z.OW};
      let oh = q % ${z.OH};
      let n = q / ${z.OH};
      let d = ${load(p, 'dy', dy, `p * ${z.C} + c`)};
      for (var ki = 0u; ki < ${s.k}u; ki++) {
        let ih = i32(oh * ${s.stride}u + ki) - ${z.padTop};
        if (ih < 0 || ih >= ${z.hI}) { continue; }
        let row = ${X} + (n * ${z.H} + u32(ih)) * ${z.WC} + c;
        for (var kj = 0u; kj < ${s.k}u; kj++) {
          let iw = i32(ow * ${s.stride}u + kj) - ${z.padLeft};
          if (iw < 0 || iw >= ${z.wI}) { continue; }
          acc[ki * ${s.k}u + kj] += d * ${loadAbsolute(x, `row + u32(iw) * ${z.C}`)};
        }
      }
    }
  }
  let oc = wid.x * ${plan.tile}u + ${r.channel};
  for (var t = 0u; t < ${taps}u; t++) {
    let sum = red_reduce(acc[t], lid);
    if (${r.owner} && oc < ${z.C}) { mem[${OUT} + (chunk * ${taps}u + t) * ${z.C} + oc] = sum; }
  }
}`;
  const label = `depthwise ${s.k}x${s.k}/${s.stride} filter grad`;
  const first = ctx.dispatch(label, partial, [plan.tiles, plan.chunks, 1], p);
  if (needed === 0) return [first];
  const sum = `${ARENA_BINDING}
@compute @workgroup_size(${WORKGROUP})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let i = wg * ${WORKGROUP}u + lid;
  if (i >= ${TAPS_C}) { return; }
  var acc = 0.0;
  for (var chunk = 0u; chunk < ${CHUNKS}; chunk++) { acc += mem[${OUT} + chunk * ${TAPS_C} + i]; }
  mem[${DFILTER} + i] = acc;
}`;
  return [first, ctx.dispatch(`${label} (sum of chunks)`, sum, Math.ceil((taps * s.c) / WORKGROUP), p)];
}

/** Channels per workgroup: the next power of two up to 32 (consecutive threads read consecutive channels). */
function channelTile(c: number): number {
  let tile = 4;
  while (tile < c && tile < 32) tile *= 2;
  return tile;
}

const check = (...pairs: [TensorRange, number][]) => requireLengths('depthwise', ...pairs);
