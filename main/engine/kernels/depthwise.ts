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
 * The backward kernels take the gradient with respect to the convolution's own output; where an
 * activation was fused into the forward, its gradient is applied by the neighbour (BatchNorm's
 * backward in the block plan) or activationBackward.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { ARENA_BINDING, at, ENTRY_ARGS, FLAT_WORKGROUP, perElementWgsl, requireLengths } from '../dispatch';
import { activationWgsl, type Activation } from './activation';

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

/** y = f(depthwise(x, filter)); y is [n, oh, ow, c]. */
export function depthwiseForward(ctx: KernelContext, x: TensorRange, filter: TensorRange, y: TensorRange, s: DepthwiseShape, activation: Activation = 'none'): Dispatch {
  const g = depthwiseGeometry(s);
  const total = s.n * g.oh * g.ow * s.c;
  check([x, s.n * s.h * s.w * s.c], [filter, s.k * s.k * s.c], [y, total]);
  const code = perElementWgsl(WORKGROUP, total, `  let c = i % ${s.c}u;
  let p = i / ${s.c}u;
  let ow = p % ${g.ow}u;
  let q = p / ${g.ow}u;
  let oh = q % ${g.oh}u;
  let n = q / ${g.oh}u;
  var acc = 0.0;
  for (var ki = 0u; ki < ${s.k}u; ki++) {
    let ih = i32(oh * ${s.stride}u + ki) - ${g.padTop};
    if (ih < 0 || ih >= ${s.h}) { continue; }
    let row = ${at(x)} + (n * ${s.h}u + u32(ih)) * ${s.w * s.c}u + c;
    for (var kj = 0u; kj < ${s.k}u; kj++) {
      let iw = i32(ow * ${s.stride}u + kj) - ${g.padLeft};
      if (iw < 0 || iw >= ${s.w}) { continue; }
      acc += mem[row + u32(iw) * ${s.c}u] * mem[${at(filter)} + (ki * ${s.k}u + kj) * ${s.c}u + c];
    }
  }
  mem[${at(y)} + i] = ${activationWgsl(activation, 'acc')};`);
  return ctx.dispatch(`depthwise ${s.k}x${s.k}/${s.stride} forward`, code, Math.ceil(total / WORKGROUP));
}

/** dx[n, ih, iw, c] = Σ over the taps that read it of dy · filter (one thread per input element). */
export function depthwiseInputGrad(ctx: KernelContext, dy: TensorRange, filter: TensorRange, dx: TensorRange, s: DepthwiseShape): Dispatch {
  const g = depthwiseGeometry(s);
  const total = s.n * s.h * s.w * s.c;
  check([dy, s.n * g.oh * g.ow * s.c], [filter, s.k * s.k * s.c], [dx, total]);
  // an input pixel at ih + padTop = oh·stride + ki is read by tap ki of output row oh
  const onGrid = (v: string) => (s.stride === 1 ? '' : `if (${v} % ${s.stride} != 0) { continue; }`);
  const code = perElementWgsl(WORKGROUP, total, `  let c = i % ${s.c}u;
  let p = i / ${s.c}u;
  let iw = i32(p % ${s.w}u);
  let q = p / ${s.w}u;
  let ih = i32(q % ${s.h}u);
  let n = q / ${s.h}u;
  var acc = 0.0;
  for (var ki = 0; ki < ${s.k}; ki++) {
    let th = ih + ${g.padTop} - ki;
    if (th < 0) { continue; }
    ${onGrid('th')}
    let oh = th / ${s.stride};
    if (oh >= ${g.oh}) { continue; }
    let row = ${at(dy)} + (n * ${g.oh}u + u32(oh)) * ${g.ow * s.c}u + c;
    for (var kj = 0; kj < ${s.k}; kj++) {
      let tw = iw + ${g.padLeft} - kj;
      if (tw < 0) { continue; }
      ${onGrid('tw')}
      let ow = tw / ${s.stride};
      if (ow >= ${g.ow}) { continue; }
      acc += mem[row + u32(ow) * ${s.c}u] * mem[${at(filter)} + u32(ki * ${s.k} + kj) * ${s.c}u + c];
    }
  }
  mem[${at(dx)} + i] = acc;`);
  return ctx.dispatch(`depthwise ${s.k}x${s.k}/${s.stride} input grad`, code, Math.ceil(total / WORKGROUP));
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
  const partial = `${ARENA_BINDING}
var<workgroup> red: array<f32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let cl = lid % ${plan.tile}u;
  let lane = lid / ${plan.tile}u;
  let c = wid.x * ${plan.tile}u + cl;
  let chunk = wid.y;
  var acc: array<f32, ${taps}>;
  if (c < ${s.c}u) {
    let end = min((chunk + 1u) * ${plan.perChunk}u, ${plan.positions}u);
    for (var p = chunk * ${plan.perChunk}u + lane; p < end; p += ${plan.lanes}u) {
      let ow = p % ${g.ow}u;
      let q = p / ${g.ow}u;
      let oh = q % ${g.oh}u;
      let n = q / ${g.oh}u;
      let d = mem[${at(dy)} + p * ${s.c}u + c];
      for (var ki = 0u; ki < ${s.k}u; ki++) {
        let ih = i32(oh * ${s.stride}u + ki) - ${g.padTop};
        if (ih < 0 || ih >= ${s.h}) { continue; }
        let row = ${at(x)} + (n * ${s.h}u + u32(ih)) * ${s.w * s.c}u + c;
        for (var kj = 0u; kj < ${s.k}u; kj++) {
          let iw = i32(ow * ${s.stride}u + kj) - ${g.padLeft};
          if (iw < 0 || iw >= ${s.w}) { continue; }
          acc[ki * ${s.k}u + kj] += d * mem[row + u32(iw) * ${s.c}u];
        }
      }
    }
  }
  for (var t = 0u; t < ${taps}u; t++) {
    red[lid] = acc[t];
    workgroupBarrier();
    for (var half = ${plan.lanes / 2}u; half > 0u; half = half >> 1u) {
      if (lane < half) { red[lid] += red[lid + half * ${plan.tile}u]; }
      workgroupBarrier();
    }
    if (lane == 0u && c < ${s.c}u) { mem[${at(out)} + (chunk * ${taps}u + t) * ${s.c}u + c] = red[cl]; }
  }
}`;
  const label = `depthwise ${s.k}x${s.k}/${s.stride} filter grad`;
  const first = ctx.dispatch(label, partial, [plan.tiles, plan.chunks, 1]);
  if (needed === 0) return [first];
  const sum = `${ARENA_BINDING}
@compute @workgroup_size(${WORKGROUP})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let i = wg * ${WORKGROUP}u + lid;
  if (i >= ${taps * s.c}u) { return; }
  var acc = 0.0;
  for (var chunk = 0u; chunk < ${plan.chunks}u; chunk++) { acc += mem[${at(out)} + chunk * ${taps * s.c}u + i]; }
  mem[${at(dfilter)} + i] = acc;
}`;
  return [first, ctx.dispatch(`${label} (sum of chunks)`, sum, Math.ceil((taps * s.c) / WORKGROUP))];
}

/** Channels per workgroup: the next power of two up to 32 (consecutive threads read consecutive channels). */
function channelTile(c: number): number {
  let tile = 4;
  while (tile < c && tile < 32) tile *= 2;
  return tile;
}

const check = (...pairs: [TensorRange, number][]) => requireLengths('depthwise', ...pairs);
