/**
 * One multi-tensor optimizer kernel over the flat parameter buffer: every trainable parameter of
 * the network updated by one dispatch, with the same arithmetic as the trainer's TF.js optimizers
 * (train/optimizer.ts on tfjs-core 4.22):
 * - Adam (tf.train.adam): m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²,
 *   w ← w − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε), ε the backend's 1e-7;
 * - SGD with momentum (tf.train.momentum, not Nesterov): a ← μ·a + g, w ← w − lr·a;
 * - decoupled weight decay (AdamW, and SGD with a decay): after the update, w ← w·(1 − lr·decay),
 *   for the segments marked `decay` only (convolution and dense kernels, as the trainer decays).
 *
 * The learning rate and the bias corrections of step t live in arena scalars (optimizerScalars,
 * written with queue.writeBuffer once per step), so one recorded dispatch serves every step.
 * Segments say which ranges of the flat buffer are updated: frozen parameters (top-N mode) are
 * left out of them and never touched, and the kernel's threads cover only the updated elements.
 * Unlike the layer kernels, its offsets and segment table stay in the WGSL (`at`, dispatch.ts): a
 * plan has one optimizer dispatch, so there is no pipeline to share.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { ARENA_BINDING, at, ENTRY_ARGS, f32Literal, FLAT_WORKGROUP } from '../dispatch';

const WORKGROUP = 256;

export type OptimizerKind = 'adam' | 'sgd';

export interface OptimizerConfig {
  kind: OptimizerKind;
  /** decoupled decay per unit of learning rate (0: none) */
  weightDecay: number;
  /** Adam; tfjs defaults 0.9, 0.999 and the CPU backend's epsilon 1e-7 */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** SGD; the trainer's 0.9 (train/optimizer.ts SGD_MOMENTUM) */
  momentum?: number;
}

/** A range of the flat parameter buffer that the optimizer updates, in elements from its start. */
export interface ParameterSegment {
  start: number;
  length: number;
  /** weight decay applies (kernels; not biases or BatchNorm parameters) */
  decay: boolean;
}

/** Arena scalars the kernel reads: [learning rate, step t (1-based), 1 − β1^t, 1 − β2^t]. */
export const OPTIMIZER_SCALARS = 4;

const defaults = (c: OptimizerConfig) => ({ beta1: c.beta1 ?? 0.9, beta2: c.beta2 ?? 0.999, epsilon: c.epsilon ?? 1e-7, momentum: c.momentum ?? 0.9 });

/**
 * The scalars of step `step` (1 for the first update): what the host writes before submitting the
 * step. The bias corrections are 1 − β^t of β as float32 (tfjs keeps β^t as a float32 product).
 */
export function optimizerScalars(config: OptimizerConfig, lr: number, step: number): Float32Array {
  if (!Number.isInteger(step) || step < 1) throw new Error(`optimizer: step ${step} must be a whole number from 1`);
  const { beta1, beta2 } = defaults(config);
  return Float32Array.of(lr, step, 1 - Math.fround(beta1) ** step, 1 - Math.fround(beta2) ** step);
}

export interface OptimizerTensors {
  /** the flat parameter buffer */
  params: TensorRange;
  /** gradients, laid out as params */
  grads: TensorRange;
  /** Adam: first moments; SGD: the momentum accumulation (laid out as params) */
  m: TensorRange;
  /** Adam: second moments; null for SGD */
  v: TensorRange | null;
  /** OPTIMIZER_SCALARS values */
  scalars: TensorRange;
}

/** The update of every element in `segments`, in one dispatch. */
export function optimizerStep(ctx: KernelContext, t: OptimizerTensors, segments: readonly ParameterSegment[], config: OptimizerConfig): Dispatch {
  const { beta1, beta2, epsilon, momentum } = defaults(config);
  const size = t.params.length;
  for (const [r, want] of [[t.grads, size], [t.m, size], [t.scalars, OPTIMIZER_SCALARS], ...(t.v ? [[t.v, size]] : [])] as [TensorRange, number][]) {
    if (r.length < want) throw new Error(`optimizer: tensor ${r.name} holds ${r.length} values, needs ${want}`);
  }
  if (config.kind === 'adam' && !t.v) throw new Error('optimizer: Adam needs the second-moment tensor v');
  if (!(config.weightDecay >= 0)) throw new Error(`optimizer: weight decay ${config.weightDecay} must be ≥ 0`);
  const runs = mergeSegments(segments, size, config.weightDecay > 0);
  const total = runs.reduce((n, r) => n + r.length, 0);

  // element e of the flat buffer handled by thread j, and whether it decays
  const locate = `let found = locate(j);
  let e = found.x;
  let decay = found.y != 0u;`;

  const S = at(t.scalars);
  const update =
    config.kind === 'adam'
      ? `let m = ${f32Literal(beta1)} * mem[${at(t.m)} + e] + ${f32Literal(1 - beta1)} * g;
  let v = ${f32Literal(beta2)} * mem[${at(t.v!)} + e] + ${f32Literal(1 - beta2)} * (g * g);
  mem[${at(t.m)} + e] = m;
  mem[${at(t.v!)} + e] = v;
  let mHat = m / mem[${S} + 2u];
  let vHat = v / mem[${S} + 3u];
  var w = mem[${at(t.params)} + e] + (mHat / (sqrt(vHat) + ${f32Literal(epsilon)})) * -lr;`
      : `let a = ${f32Literal(momentum)} * mem[${at(t.m)} + e] + g;
  mem[${at(t.m)} + e] = a;
  var w = mem[${at(t.params)} + e] + -lr * a;`;
  const code = `${ARENA_BINDING}
${locateWgsl(runs)}
@compute @workgroup_size(${WORKGROUP})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let j = wg * ${WORKGROUP}u + lid;
  if (j >= ${total}u) { return; }
  ${locate}
  let lr = mem[${S}];
  let g = mem[${at(t.grads)} + e];
  ${update}
  ${config.weightDecay > 0 ? `if (decay) { w = w * (1.0 - lr * ${f32Literal(config.weightDecay)}); }` : ''}
  mem[${at(t.params)} + e] = w;
}`;
  return ctx.dispatch(`${config.kind}${config.weightDecay > 0 ? ' + weight decay' : ''} step over ${total} parameters`, code, Math.ceil(total / WORKGROUP));
}

/**
 * WGSL `locate(j) -> vec2<u32>`: (flat-buffer element, decays) of thread j, as a balanced tree of
 * comparisons against the runs' first threads. Code rather than a table: a constant array indexed
 * at run time can become a per-thread copy, while these branches agree across neighbouring
 * threads (they fall in the same run) and cost ~log2(runs) compares.
 */
function locateWgsl(runs: readonly ParameterSegment[]): string {
  let first = 0;
  const bases = runs.map((r) => ((first += r.length), first - r.length));
  const tree = (lo: number, hi: number, indent: string): string => {
    if (lo === hi) return `${indent}return vec2<u32>(j - ${bases[lo]}u + ${runs[lo].start}u, ${runs[lo].decay ? 1 : 0}u);`;
    const mid = Math.ceil((lo + hi) / 2);
    return `${indent}if (j < ${bases[mid]}u) {\n${tree(lo, mid - 1, indent + '  ')}\n${indent}}\n${tree(mid, hi, indent)}`;
  };
  return `fn locate(j: u32) -> vec2<u32> {\n${tree(0, runs.length - 1, '  ')}\n}`;
}

/** Sorted, checked segments with neighbours of the same kind joined (fewer runs, a shorter search). */
function mergeSegments(segments: readonly ParameterSegment[], size: number, decays: boolean): ParameterSegment[] {
  const sorted = [...segments].filter((s) => s.length > 0).sort((a, b) => a.start - b.start);
  if (sorted.length === 0) throw new Error('optimizer: no parameters to update (every segment is empty)');
  const runs: ParameterSegment[] = [];
  let end = 0;
  for (const s of sorted) {
    if (!Number.isInteger(s.start) || !Number.isInteger(s.length) || s.start < end || s.start + s.length > size) {
      throw new Error(`optimizer: segment ${s.start}..${s.start + s.length} overlaps another or leaves the ${size}-element parameter buffer`);
    }
    const decay = decays && s.decay;
    const last = runs[runs.length - 1];
    if (last && last.start + last.length === s.start && last.decay === decay) last.length += s.length;
    else runs.push({ start: s.start, length: s.length, decay });
    end = s.start + s.length;
  }
  return runs;
}
