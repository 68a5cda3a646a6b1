/**
 * Softmax cross-entropy of logits [n, K] against integer labels (stored as float32 in the arena),
 * the same loss as the trainer's (train/loss.ts) on the model's softmax output:
 * targets t = (1 − ε)·onehot + ε/K, per-sample loss −Σ t·log(clip(p, 1e-7, 1)), times the label's
 * class weight when there are class weights, averaged over the batch.
 *
 * The gradient goes to the logits directly (the softmax's backward folded in), and keeps the clip's:
 * a probability below 1e-7 contributes no −t/p term, so dz_j = (w/n)·(p_j·T − t_j·[p_j ≥ 1e-7]) with
 * T the targets' sum over the unclipped classes (T = 1 when nothing is clipped: p − t).
 *
 * The batch's loss sum (Σ w·loss, what the trainer's epoch totals add: batch mean × n) and its
 * correct count (arg max of p, the first on ties, as tf.argMax) are added to two arena scalars, so
 * the host reads them every N steps without a readback per step. One workgroup does the batch: a
 * loss is a few thousand values, and one workgroup adds them up with no atomics (WGSL has no f32
 * atomics) and in a fixed order.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { ARENA_BINDING, f32Literal, KernelParams } from '../dispatch';
import { laneReduction } from './lane-reduce';

const WORKGROUP = 64;
/** Keras' clip of a softmax output before the log (train/loss.ts) */
const CLIP = 1e-7;

export interface LossShape {
  /** batch */
  n: number;
  classes: number;
  /** ε: targets (1 − ε)·onehot + ε/K */
  labelSmoothing: number;
}

export interface LossTensors {
  /** [n, K] */
  logits: TensorRange;
  /** [n] class indices as float32 */
  labels: TensorRange;
  /** [K] per-class weights, or null (every sample counts 1; evaluation) */
  classWeights: TensorRange | null;
  /** [n, K] gradient of the batch's mean loss; null: the loss and counts only (evaluation) */
  dlogits: TensorRange | null;
  /** [2]: loss sum and correct count, added to */
  metrics: TensorRange;
}

export function softmaxCrossEntropy(ctx: KernelContext, t: LossTensors, s: LossShape): Dispatch {
  const { n, classes: K } = s;
  if (!(s.labelSmoothing >= 0 && s.labelSmoothing < 1)) throw new Error(`loss: label smoothing ${s.labelSmoothing} must be within [0, 1)`);
  for (const [r, want] of [[t.logits, n * K], [t.labels, n], [t.metrics, 2], ...(t.classWeights ? [[t.classWeights, K]] : []), ...(t.dlogits ? [[t.dlogits, n * K]] : [])] as [TensorRange, number][]) {
    if (r.length < want) throw new Error(`loss: tensor ${r.name} holds ${r.length} values, the shape needs ${want}`);
  }
  const p = new KernelParams();
  const N = p.u('n', n);
  const classes = p.u('classes', K);
  // the targets as tf computes them: oneHot·(1 − ε) + ε/K, in float32
  const off = p.f('off', s.labelSmoothing / K);
  const on = p.f('on', Math.fround(1 - s.labelSmoothing) + Math.fround(s.labelSmoothing / K));
  const weight = t.classWeights ? `mem[${p.at('classWeights', t.classWeights)} + label]` : '1.0';
  const gradient = t.dlogits
    ? `let scale = w * ${p.f('1/n', 1 / n)};
    for (var k = 0u; k < ${classes}; k++) {
      let p = exp(mem[base + k] - mx) / sum;
      let tk = select(${off}, ${on}, k == label);
      mem[${p.at('dlogits', t.dlogits)} + r * ${classes} + k] = scale * (p * kept - select(0.0, tk, p >= ${f32Literal(CLIP)}));
    }`
    : '';
  const LOGITS = p.at('logits', t.logits);
  const LABELS = p.at('labels', t.labels);
  const METRICS = p.at('metrics', t.metrics);
  const r = laneReduction({ name: 'red', type: 'vec2<f32>', combine: (a, b) => `${a} + ${b}`, tile: 1, lanes: WORKGROUP, subgroupSize: ctx.subgroupSize });
  const code = `${r.enable}${ARENA_BINDING}
${r.decls}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  var lossSum = 0.0;
  var hits = 0.0;
  for (var r = lid; r < ${N}; r += ${WORKGROUP}u) {
    let base = ${LOGITS} + r * ${classes};
    let label = u32(mem[${LABELS} + r] + 0.5);
    var mx = mem[base];
    for (var k = 1u; k < ${classes}; k++) { mx = max(mx, mem[base + k]); }
    var sum = 0.0;
    for (var k = 0u; k < ${classes}; k++) { sum += exp(mem[base + k] - mx); }
    // loss, the unclipped targets' sum, arg max of p
    var loss = 0.0;
    var kept = 0.0;
    var best = -1.0;
    var arg = 0u;
    for (var k = 0u; k < ${classes}; k++) {
      let p = exp(mem[base + k] - mx) / sum;
      let tk = select(${off}, ${on}, k == label);
      loss -= tk * log(max(p, ${f32Literal(CLIP)}));
      if (p >= ${f32Literal(CLIP)}) { kept += tk; }
      if (p > best) { best = p; arg = k; }
    }
    let w = ${weight};
    lossSum += w * loss;
    hits += select(0.0, 1.0, arg == label);
    ${gradient}
  }
  let total = red_reduce(vec2<f32>(lossSum, hits), lid);
  if (lid == 0u) {
    mem[${METRICS}] += total.x;
    mem[${METRICS} + 1u] += total.y;
  }
}`;
  return ctx.dispatch(`softmax cross-entropy${t.dlogits ? ' + gradient' : ''}`, code, [1, 1, 1], p);
}
