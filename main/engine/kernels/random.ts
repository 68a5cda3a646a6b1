/**
 * A counter-based random number generator in WGSL, and the two stochastic layers built on it:
 * dropout (Keras Dropout: keep with probability 1 − rate, kept values scaled by 1/(1 − rate)) and
 * stochastic depth (Keras' Dropout with noise shape [batch, 1, 1, 1] on a residual branch: a
 * sample's whole branch kept or dropped, then the residual added).
 *
 * A draw is a pure function of (seed, step, stream, index): the PCG output permutation (O'Neill's
 * RXS-M-XS, as in Jarzynski & Olano's GPU hash survey) applied as pcg(pcg(index) ^ key), key =
 * pcg(pcg(pcg(stream) + seed) + step). Nothing is stored between forward and backward: the backward
 * draws the same numbers again. `stream` is fixed per layer (its index in the plan, a kernel
 * parameter like the rate, so every dropout layer shares one pipeline) so layers drop independently; seed and step are arena scalars the host writes each step (rngScalars), so
 * one recorded dispatch draws new masks every step and a resumed run can replay a step exactly.
 * uniformAt is the same function in JS, for tests and host-side checks.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { ARENA_BINDING, ENTRY_ARGS, f32Literal, FLAT_WORKGROUP, KernelParams, load, writer } from '../dispatch';

const WORKGROUP = 256;

/** Arena scalars: [seed, step], whole numbers below 2^24 (exact in float32). */
export const RNG_SCALARS = 2;
const LIMIT = 2 ** 24;

export function rngScalars(seed: number, step: number): Float32Array {
  for (const [name, v] of [['seed', seed], ['step', step]] as const) {
    if (!Number.isInteger(v) || v < 0 || v >= LIMIT) throw new Error(`random: ${name} ${v} must be a whole number in [0, 2^24)`);
  }
  return Float32Array.of(seed, step);
}

/**
 * WGSL: pcg(u32) and rngUniform(key, index) in [0, 1) with 24 random bits; rngKey(stream) reads seed
 * and step from the arena at `rng`, a WGSL u32 expression (a kernel parameter) or a tensor.
 */
export function rngWgsl(rng: TensorRange | string): string {
  const R = typeof rng === 'string' ? rng : `${rng.at}u`;
  return `fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
fn rngKey(stream: u32) -> u32 {
  return pcg(pcg(pcg(stream) + u32(mem[${R}])) + u32(mem[${R} + 1u]));
}
fn rngUniform(key: u32, index: u32) -> f32 {
  return f32(pcg(pcg(index) ^ key) >> 8u) * ${f32Literal(1 / LIMIT)};
}`;
}

function pcg(v: number): number {
  const s = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const w = Math.imul((s >>> ((s >>> 28) + 4)) ^ s, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** The draw the kernels make for (seed, step, stream, index), in JS. */
export function uniformAt(seed: number, step: number, stream: number, index: number): number {
  const key = pcg((pcg((pcg(stream) + seed) >>> 0) + step) >>> 0);
  return (pcg((pcg(index) ^ key) >>> 0) >>> 8) / LIMIT;
}

export interface DropoutOptions {
  /** fraction dropped, in [0, 1) */
  rate: number;
  /** the layer's stream number (distinct per stochastic layer of a plan) */
  stream: number;
}

/** y = x · mask / (1 − rate), mask[i] = uniform(i) < 1 − rate. */
export function dropoutForward(ctx: KernelContext, x: TensorRange, y: TensorRange, rng: TensorRange, o: DropoutOptions): Dispatch {
  return masked(ctx, 'dropout forward', x, y, rng, o, null);
}

/** dx = dy · mask / (1 − rate), the forward's mask drawn again. */
export function dropoutBackward(ctx: KernelContext, dy: TensorRange, dx: TensorRange, rng: TensorRange, o: DropoutOptions): Dispatch {
  return masked(ctx, 'dropout backward', dy, dx, rng, o, null);
}

export interface StochasticDepthShape extends DropoutOptions {
  /** samples in the batch; each holds length / n values */
  n: number;
}

/** y = branch · mask[n] / (1 − rate) + residual (residual null: no add), one draw per sample. */
export function stochasticDepthForward(ctx: KernelContext, branch: TensorRange, residual: TensorRange | null, y: TensorRange, rng: TensorRange, o: StochasticDepthShape): Dispatch {
  return masked(ctx, 'stochastic depth forward', branch, y, rng, o, perSample(branch, o), residual);
}

/** dbranch = dy · mask[n] / (1 − rate); the residual's gradient is dy itself. */
export function stochasticDepthBackward(ctx: KernelContext, dy: TensorRange, dbranch: TensorRange, rng: TensorRange, o: StochasticDepthShape): Dispatch {
  return masked(ctx, 'stochastic depth backward', dy, dbranch, rng, o, perSample(dy, o));
}

function perSample(t: TensorRange, o: StochasticDepthShape): number {
  if (!Number.isInteger(o.n) || o.n < 1 || t.length % o.n !== 0) throw new Error(`stochastic depth: ${t.name} holds ${t.length} values, not a whole number per sample of ${o.n}`);
  return t.length / o.n;
}

/** out = in · mask(draw) · 1/keep (+ add), the draw index i (dropout) or i / perSample (one per sample). */
function masked(ctx: KernelContext, label: string, input: TensorRange, out: TensorRange, rng: TensorRange, o: DropoutOptions, perSample: number | null, add: TensorRange | null = null): Dispatch {
  if (!(o.rate >= 0 && o.rate < 1)) throw new Error(`random: rate ${o.rate} must be within [0, 1)`);
  if (!Number.isInteger(o.stream) || o.stream < 0) throw new Error(`random: stream ${o.stream} must be a whole number`);
  const total = input.length;
  for (const [r, want] of [[out, total], [rng, RNG_SCALARS], ...(add ? [[add, total]] : [])] as [TensorRange, number][]) {
    if (r.length < want) throw new Error(`random: tensor ${r.name} holds ${r.length} values, needs ${want}`);
  }
  const keep = Math.fround(1 - o.rate);
  const p = new KernelParams();
  const count = p.u('count', total);
  const draw = perSample === null ? 'i' : `i / ${p.u('perSample', perSample)}`;
  const rngCode = rngWgsl(p.at('rng', rng));
  const kept = `rngUniform(rngKey(${p.u('stream', o.stream)}), ${draw}) < ${p.f('keep', keep)}`;
  const OUT = writer(p, 'out', out);
  const value = `select(0.0, ${load(p, 'in', input, 'i')} * ${p.f('1/keep', 1 / keep)}, kept)${add ? ` + ${load(p, 'add', add, 'i')}` : ''}`;
  // tfjs: x · (floor(u + keep) / keep), the multiplier 1/keep rounded to float32 first
  const code = `${ARENA_BINDING}
${rngCode}
@compute @workgroup_size(${WORKGROUP})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let i = wg * ${WORKGROUP}u + lid;
  if (i >= ${count}) { return; }
  let kept = ${kept};
  ${OUT('i', value)};
}`;
  return ctx.dispatch(`${label} (rate ${o.rate})`, code, Math.ceil(total / WORKGROUP), p);
}
