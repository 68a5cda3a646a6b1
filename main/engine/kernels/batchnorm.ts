/**
 * BatchNormalization over the channel axis of an NHWC tensor (viewed as [rows = n·h·w, c]), exactly
 * as tfjs-layers trains it (layers/normalization.js):
 * - training: batch mean and biased batch variance over the rows (tf.moments),
 *   y = gamma·(x − mean)/sqrt(var + eps) + beta, and the moving statistics updated as
 *   moving ← moving − (moving − batch)·(1 − momentum), the variance biased too (no n/(n−1));
 * - frozen (inference mode, top-N training of a frozen backbone): the moving statistics normalise,
 *   nothing is updated, and the backward is dx only.
 * An activation (swish, sigmoid) can be fused after the normalisation; the backward then takes dy
 * with respect to the activation's output and recomputes the pre-activation from x and the
 * statistics, so the forward stores nothing but y.
 *
 * The per-channel reductions (statistics; dgamma and dbeta) are channel-parallel: a workgroup owns a
 * tile of channels and a chunk of the rows; within it, lanes accumulate (Welford for the statistics,
 * numerically safe when the mean is large against the spread) and merge in shared memory or by
 * subgroup shuffles (lane-reduce.ts). With more
 * than one chunk, partial results go to a scratch tensor (batchNormScratch) and a second pass over the
 * chunks finishes them.
 *
 * Sizes, offsets, epsilon and momentum are kernel parameters (dispatch.ts); what tells one pipeline
 * from another is the channel tile (4 to 32), the fused activation and whether a scratch pass runs.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { ARENA_BINDING, ENTRY_ARGS, FLAT_WORKGROUP, KernelParams, load, perElementWgsl, reader, requireLengths, writer } from '../dispatch';
import { activationGradWgsl, activationWgsl, type Activation } from './activation';
import { laneReduction } from './lane-reduce';
import { WELFORD_MERGE_WGSL } from './welford';

const WORKGROUP = 256;

export interface BatchNormShape {
  /** n · h · w */
  rows: number;
  c: number;
  /** Keras default 1e-3 */
  epsilon: number;
  /** Keras default 0.99 */
  momentum: number;
  /** split of the rows over workgroups (default: enough workgroups to fill a GPU) */
  chunks?: number;
}

interface ReducePlan {
  tile: number;
  lanes: number;
  tiles: number;
  chunks: number;
  perChunk: number;
}

function reducePlan(s: BatchNormShape): ReducePlan {
  let tile = 4;
  while (tile < s.c && tile < 32) tile *= 2;
  const lanes = WORKGROUP / tile;
  const tiles = Math.ceil(s.c / tile);
  // ~512 workgroups in all, every lane keeping at least 16 rows to add up
  const auto = Math.min(Math.ceil(512 / tiles), Math.floor(s.rows / (lanes * 16)), 256);
  const chunks = Math.max(1, Math.min(s.chunks ?? auto, s.rows));
  return { tile, lanes, tiles, chunks, perChunk: Math.ceil(s.rows / chunks) };
}

/** Scratch elements the training statistics and backward need (0: none, pass null). */
export function batchNormScratch(s: BatchNormShape): number {
  const plan = reducePlan(s);
  return plan.chunks > 1 ? plan.chunks * s.c * 3 : 0;
}

export interface BatchNormStatsTensors {
  x: TensorRange;
  /** [c] outputs: the batch mean and biased batch variance (the apply and backward read them) */
  mean: TensorRange;
  variance: TensorRange;
  /** [c] Keras moving_mean / moving_variance, updated in place */
  movingMean: TensorRange;
  movingVariance: TensorRange;
  scratch: TensorRange | null;
}

/** Training statistics: batch mean and variance per channel, and the moving averages' update. */
export function batchNormStatistics(ctx: KernelContext, t: BatchNormStatsTensors, s: BatchNormShape): Dispatch[] {
  const plan = reducePlan(s);
  check(s, [t.x, s.rows * s.c], [t.mean, s.c], [t.variance, s.c], [t.movingMean, s.c], [t.movingVariance, s.c]);
  const scratch = scratchFor(s, t.scratch);
  // the two passes read the same block: one slot, and its parameters in the same words
  const p = new KernelParams();
  const C = p.u('c', s.c);
  const ROWS = p.u('rows', s.rows);
  const PER_CHUNK = p.u('perChunk', plan.perChunk);
  const CHUNKS = p.u('chunks', plan.chunks);
  const X = reader(p, 'x', t.x);
  const decay = p.f('1-momentum', 1 - s.momentum);
  const MEAN = p.at('mean', t.mean);
  const VARIANCE = p.at('variance', t.variance);
  const MM = p.at('movingMean', t.movingMean);
  const MV = p.at('movingVariance', t.movingVariance);
  const SCRATCH = scratch ? p.at('scratch', scratch) : '';
  // mean, variance, moving update of channel c from a merged (count, mean, M2)
  const finish = (c: string, m: string, q: string, count: string) => `
    mem[${MEAN} + ${c}] = ${m};
    let variance = ${q} / ${count};
    mem[${VARIANCE} + ${c}] = variance;
    let mm = mem[${MM} + ${c}];
    mem[${MM} + ${c}] = mm - (mm - ${m}) * ${decay};
    let mv = mem[${MV} + ${c}];
    mem[${MV} + ${c}] = mv - (mv - variance) * ${decay};`;
  const r = laneReduction({ name: 'red', type: 'vec3<f32>', combine: (a, b) => `merge(${a}, ${b})`, tile: plan.tile, lanes: plan.lanes, subgroupSize: ctx.subgroupSize });
  const partial = `${r.enable}${ARENA_BINDING}
${MERGE_WGSL}
${r.decls}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let cl = lid % ${plan.tile}u;
  let lane = lid / ${plan.tile}u;
  let c = wid.x * ${plan.tile}u + cl;
  let chunk = wid.y;
  // Welford over this lane's rows
  var count = 0.0;
  var m = 0.0;
  var q = 0.0;
  if (c < ${C}) {
    let end = min((chunk + 1u) * ${PER_CHUNK}, ${ROWS});
    for (var r = chunk * ${PER_CHUNK} + lane; r < end; r += ${plan.lanes}u) {
      let v = ${X(`r * ${C} + c`)};
      count += 1.0;
      let d = v - m;
      m += d / count;
      q += d * (v - m);
    }
  }
  let total = red_reduce(vec3<f32>(count, m, q), lid);
  let oc = wid.x * ${plan.tile}u + ${r.channel};
  if (${r.owner} && oc < ${C}) {
    ${
      scratch
        ? `let o = ${SCRATCH} + (chunk * ${C} + oc) * 3u;
    mem[o] = total.x;
    mem[o + 1u] = total.y;
    mem[o + 2u] = total.z;`
        : finish('oc', 'total.y', 'total.z', 'total.x')
    }
  }
}`;
  const first = ctx.dispatch('batchnorm statistics', partial, [plan.tiles, plan.chunks, 1], p);
  if (!scratch) return [first];
  const combine = `${ARENA_BINDING}
${MERGE_WGSL}
@compute @workgroup_size(64)
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let c = wg * 64u + lid;
  if (c >= ${C}) { return; }
  var acc = vec3<f32>(0.0, 0.0, 0.0);
  for (var chunk = 0u; chunk < ${CHUNKS}; chunk++) {
    let o = ${SCRATCH} + (chunk * ${C} + c) * 3u;
    acc = merge(acc, vec3<f32>(mem[o], mem[o + 1u], mem[o + 2u]));
  }
  ${finish('c', 'acc.y', 'acc.z', 'acc.x')}
}`;
  return [first, ctx.dispatch('batchnorm statistics (merge chunks)', combine, Math.ceil(s.c / 64), p)];
}

const MERGE_WGSL = WELFORD_MERGE_WGSL;

export interface BatchNormPartialsTensors {
  /** [groups, c, 3] (count, mean, M2) per group of rows: what the GEMM's statistics epilogue wrote */
  partials: TensorRange;
  mean: TensorRange;
  variance: TensorRange;
  movingMean: TensorRange;
  movingVariance: TensorRange;
}

/** Channels per workgroup of the partials' merge: few, so that the lanes go to the groups (thousands at B0's 112 px layers). */
const PARTIALS_TILE = 4;

/**
 * Training statistics finished from per-group partial summaries (GemmEpilogue.statistics): batch
 * mean and variance and the moving averages' update, as batchNormStatistics writes them, without
 * reading x. A workgroup owns 4 channels; its 64 lanes merge every 64th group, then each other.
 */
export function batchNormStatisticsFromPartials(ctx: KernelContext, t: BatchNormPartialsTensors, s: { c: number; groups: number; momentum: number }): Dispatch {
  if (!Number.isInteger(s.groups) || s.groups < 1) throw new Error(`batchnorm: groups must be a positive integer, got ${s.groups}`);
  const pairs: [TensorRange, number][] = [[t.partials, s.groups * s.c * 3], [t.mean, s.c], [t.variance, s.c], [t.movingMean, s.c], [t.movingVariance, s.c]];
  for (const [range, n] of pairs) if (range.length < n) throw new Error(`batchnorm: ${range.name} holds ${range.length} values, the kernel needs ${n}`);
  const lanes = WORKGROUP / PARTIALS_TILE;
  const p = new KernelParams();
  const C = p.u('c', s.c);
  const GROUPS = p.u('groups', s.groups);
  const PARTIALS = p.at('partials', t.partials);
  const decay = p.f('1-momentum', 1 - s.momentum);
  const MEAN = p.at('mean', t.mean);
  const VARIANCE = p.at('variance', t.variance);
  const MM = p.at('movingMean', t.movingMean);
  const MV = p.at('movingVariance', t.movingVariance);
  const r = laneReduction({ name: 'red', type: 'vec3<f32>', combine: (a, b) => `merge(${a}, ${b})`, tile: PARTIALS_TILE, lanes, subgroupSize: ctx.subgroupSize });
  const code = `${r.enable}${ARENA_BINDING}
${MERGE_WGSL}
${r.decls}
@compute @workgroup_size(${WORKGROUP})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let cl = lid % ${PARTIALS_TILE}u;
  let lane = lid / ${PARTIALS_TILE}u;
  let c = wg * ${PARTIALS_TILE}u + cl;
  var acc = vec3<f32>(0.0, 0.0, 0.0);
  if (c < ${C}) {
    for (var g = lane; g < ${GROUPS}; g += ${lanes}u) {
      let o = ${PARTIALS} + (g * ${C} + c) * 3u;
      acc = merge(acc, vec3<f32>(mem[o], mem[o + 1u], mem[o + 2u]));
    }
  }
  let total = red_reduce(acc, lid);
  let oc = wg * ${PARTIALS_TILE}u + ${r.channel};
  if (${r.owner} && oc < ${C}) {
    let m = total.y;
    let variance = total.z / total.x;
    mem[${MEAN} + oc] = m;
    mem[${VARIANCE} + oc] = variance;
    let mm = mem[${MM} + oc];
    mem[${MM} + oc] = mm - (mm - m) * ${decay};
    let mv = mem[${MV} + oc];
    mem[${MV} + oc] = mv - (mv - variance) * ${decay};
  }
}`;
  return ctx.dispatch('batchnorm statistics (from the GEMM epilogue)', code, Math.ceil(s.c / PARTIALS_TILE), p);
}

export interface BatchNormApplyTensors {
  x: TensorRange;
  /** [c]: the batch statistics in training, the moving ones in frozen mode */
  mean: TensorRange;
  variance: TensorRange;
  gamma: TensorRange;
  beta: TensorRange;
  y: TensorRange;
}

/** y = f(gamma·(x − mean)/sqrt(variance + eps) + beta), elementwise. */
export function batchNormApply(ctx: KernelContext, t: BatchNormApplyTensors, s: BatchNormShape, activation: Activation = 'none'): Dispatch {
  const total = s.rows * s.c;
  check(s, [t.x, total], [t.y, total], [t.mean, s.c], [t.variance, s.c], [t.gamma, s.c], [t.beta, s.c]);
  const p = new KernelParams();
  const code = perElementWgsl(WORKGROUP, p.u('count', total), `  let c = i % ${p.u('c', s.c)};
  let z = ${normalized(p, t, s, 'c', load(p, 'x', t.x, 'i'))} * mem[${p.at('gamma', t.gamma)} + c] + mem[${p.at('beta', t.beta)} + c];
  ${writer(p, 'y', t.y)('i', activationWgsl(activation, 'z'))};`);
  return ctx.dispatch(`batchnorm apply${activation === 'none' ? '' : ` + ${activation}`}`, code, Math.ceil(total / WORKGROUP), p);
}

export interface BatchNormBackwardTensors {
  /** the forward's input */
  x: TensorRange;
  /** gradient with respect to the forward's output (after the fused activation) */
  dy: TensorRange;
  /** [c] the batch statistics batchNormStatistics wrote */
  mean: TensorRange;
  variance: TensorRange;
  gamma: TensorRange;
  beta: TensorRange;
  dx: TensorRange;
  /** [c] outputs */
  dgamma: TensorRange;
  dbeta: TensorRange;
  scratch: TensorRange | null;
}

/**
 * Training-mode backward with batch statistics: with g = dy·f'(z) and x̂ = (x − mean)/σ,
 * dbeta = Σ g, dgamma = Σ g·x̂, dx = gamma/σ · (g − dbeta/rows − x̂·dgamma/rows).
 */
export function batchNormBackward(ctx: KernelContext, t: BatchNormBackwardTensors, s: BatchNormShape, activation: Activation = 'none'): Dispatch[] {
  const plan = reducePlan(s);
  const total = s.rows * s.c;
  check(s, [t.x, total], [t.dy, total], [t.dx, total], [t.mean, s.c], [t.variance, s.c], [t.gamma, s.c], [t.beta, s.c], [t.dgamma, s.c], [t.dbeta, s.c]);
  const scratch = scratchFor(s, t.scratch);
  // one block for the two or three passes
  const p = new KernelParams();
  const C = p.u('c', s.c);
  const ROWS = p.u('rows', s.rows);
  const PER_CHUNK = p.u('perChunk', plan.perChunk);
  const CHUNKS = p.u('chunks', plan.chunks);
  const COUNT = p.u('count', total);
  const EPS = p.f('epsilon', s.epsilon);
  const PER_ROW = p.f('1/rows', 1 / s.rows);
  const X = reader(p, 'x', t.x);
  const DY = reader(p, 'dy', t.dy);
  const DX = writer(p, 'dx', t.dx);
  const MEAN = p.at('mean', t.mean);
  const VARIANCE = p.at('variance', t.variance);
  const GAMMA = p.at('gamma', t.gamma);
  const BETA = p.at('beta', t.beta);
  const DGAMMA = p.at('dgamma', t.dgamma);
  const DBETA = p.at('dbeta', t.dbeta);
  const SCRATCH = scratch ? p.at('scratch', scratch) : '';
  const r = laneReduction({ name: 'red', type: 'vec2<f32>', combine: (a, b) => `${a} + ${b}`, tile: plan.tile, lanes: plan.lanes, subgroupSize: ctx.subgroupSize });
  const partial = `${r.enable}${ARENA_BINDING}
${r.decls}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let cl = lid % ${plan.tile}u;
  let lane = lid / ${plan.tile}u;
  let c = wid.x * ${plan.tile}u + cl;
  let chunk = wid.y;
  var sg = 0.0;
  var sgx = 0.0;
  if (c < ${C}) {
    let mean = mem[${MEAN} + c];
    let inv = inverseSqrt(mem[${VARIANCE} + c] + ${EPS});
    let gamma = mem[${GAMMA} + c];
    let beta = mem[${BETA} + c];
    let end = min((chunk + 1u) * ${PER_CHUNK}, ${ROWS});
    for (var r = chunk * ${PER_CHUNK} + lane; r < end; r += ${plan.lanes}u) {
      let i = r * ${C} + c;
      let xhat = (${X('i')} - mean) * inv;
      let z = xhat * gamma + beta;
      let g = ${DY('i')} * ${activationGradWgsl(activation, 'z')};
      sg += g;
      sgx += g * xhat;
    }
  }
  let total = red_reduce(vec2<f32>(sg, sgx), lid);
  let oc = wid.x * ${plan.tile}u + ${r.channel};
  if (${r.owner} && oc < ${C}) {
    ${
      scratch
        ? `let o = ${SCRATCH} + (chunk * ${C} + oc) * 2u;
    mem[o] = total.x;
    mem[o + 1u] = total.y;`
        : `mem[${DBETA} + oc] = total.x;
    mem[${DGAMMA} + oc] = total.y;`
    }
  }
}`;
  const dispatches = [ctx.dispatch('batchnorm backward: dgamma, dbeta', partial, [plan.tiles, plan.chunks, 1], p)];
  if (scratch) {
    const combine = `${ARENA_BINDING}
@compute @workgroup_size(64)
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let c = wg * 64u + lid;
  if (c >= ${C}) { return; }
  var sg = 0.0;
  var sgx = 0.0;
  for (var chunk = 0u; chunk < ${CHUNKS}; chunk++) {
    let o = ${SCRATCH} + (chunk * ${C} + c) * 2u;
    sg += mem[o];
    sgx += mem[o + 1u];
  }
  mem[${DBETA} + c] = sg;
  mem[${DGAMMA} + c] = sgx;
}`;
    dispatches.push(ctx.dispatch('batchnorm backward: dgamma, dbeta (sum of chunks)', combine, Math.ceil(s.c / 64), p));
  }
  const dx = `${ARENA_BINDING}
@compute @workgroup_size(${WORKGROUP})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let i = wg * ${WORKGROUP}u + lid;
  if (i >= ${COUNT}) { return; }
  let c = i % ${C};
  let inv = inverseSqrt(mem[${VARIANCE} + c] + ${EPS});
  let gamma = mem[${GAMMA} + c];
  let xhat = (${X('i')} - mem[${MEAN} + c]) * inv;
  let z = xhat * gamma + mem[${BETA} + c];
  let g = ${DY('i')} * ${activationGradWgsl(activation, 'z')};
  ${DX('i', `gamma * inv * (g - mem[${DBETA} + c] * ${PER_ROW} - xhat * (mem[${DGAMMA} + c] * ${PER_ROW}))`)};
}`;
  dispatches.push(ctx.dispatch(`batchnorm backward: dx${activation === 'none' ? '' : ` (${activation} fused)`}`, dx, Math.ceil(total / WORKGROUP), p));
  return dispatches;
}

export interface BatchNormFrozenBackwardTensors {
  x: TensorRange;
  dy: TensorRange;
  /** [c] the moving statistics */
  mean: TensorRange;
  variance: TensorRange;
  gamma: TensorRange;
  beta: TensorRange;
  dx: TensorRange;
}

/** Frozen mode: the statistics are constants, so dx = dy·f'(z)·gamma/sqrt(var + eps) and no parameter gradients. */
export function batchNormFrozenBackward(ctx: KernelContext, t: BatchNormFrozenBackwardTensors, s: BatchNormShape, activation: Activation = 'none'): Dispatch {
  const total = s.rows * s.c;
  check(s, [t.x, total], [t.dy, total], [t.dx, total], [t.mean, s.c], [t.variance, s.c], [t.gamma, s.c], [t.beta, s.c]);
  const p = new KernelParams();
  const count = p.u('count', total);
  const C = p.u('c', s.c);
  const EPS = p.f('epsilon', s.epsilon);
  const DY = reader(p, 'dy', t.dy);
  const GAMMA = p.at('gamma', t.gamma);
  const VARIANCE = p.at('variance', t.variance);
  // without an activation x is not needed: the gradient does not depend on it
  const z = activation === 'none' ? '' : `let z = (${load(p, 'x', t.x, 'i')} - mem[${p.at('mean', t.mean)} + c]) * inv * gamma + mem[${p.at('beta', t.beta)} + c];`;
  const g = activation === 'none' ? DY('i') : `${DY('i')} * ${activationGradWgsl(activation, 'z')}`;
  const code = perElementWgsl(WORKGROUP, count, `  let c = i % ${C};
  let inv = inverseSqrt(mem[${VARIANCE} + c] + ${EPS});
  let gamma = mem[${GAMMA} + c];
  ${z}
  ${writer(p, 'dx', t.dx)('i', `${g} * gamma * inv`)};`);
  return ctx.dispatch(`batchnorm frozen backward${activation === 'none' ? '' : ` (${activation} fused)`}`, code, Math.ceil(total / WORKGROUP), p);
}

/** WGSL: (x − mean)/sqrt(variance + eps) of channel `c`, as tfjs computes it (divide by the square root). */
function normalized(p: KernelParams, t: { mean: TensorRange; variance: TensorRange }, s: BatchNormShape, c: string, x: string): string {
  return `((${x} - mem[${p.at('mean', t.mean)} + ${c}]) / sqrt(mem[${p.at('variance', t.variance)} + ${c}] + ${p.f('epsilon', s.epsilon)}))`;
}

function scratchFor(s: BatchNormShape, scratch: TensorRange | null): TensorRange | null {
  const needed = batchNormScratch(s);
  if (needed === 0) return null;
  if (!scratch || scratch.length < needed) throw new Error(`batchnorm: scratch needs ${needed} elements, got ${scratch?.length ?? 'none'}`);
  return scratch;
}

/** Each tensor must hold what the shape says it does (a wrong range would read its neighbours). */
function check(s: BatchNormShape, ...pairs: [TensorRange, number][]): void {
  if (!(s.epsilon > 0) || !(s.momentum >= 0 && s.momentum <= 1)) throw new Error(`batchnorm: epsilon ${s.epsilon} and momentum ${s.momentum} must be > 0 and within [0, 1]`);
  requireLengths('batchnorm', ...pairs);
}
