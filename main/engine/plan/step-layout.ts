/**
 * Every tensor of a plan: the parameters (param-layout.ts), each materialised value for the whole
 * batch, each needed value gradient, per-BatchNorm batch statistics, the pre-activations of the
 * convolutions with a fused activation (SE), input pixels, labels, class weights, metrics and the
 * per-step scalars.
 *
 * Each is asked of a StepAllocator as fixed or transient. Fixed tensors get a range of their own
 * for the life of the plan: whatever is read before the step writes it, kept from one step to the
 * next, or read by the host (parameters and optimizer state, pixels, labels, class weights, the
 * scalars, metrics, the logits and probabilities). Transient ones (values, their gradients,
 * statistics, pre-activations, the gradient temporary) are first written within the step and
 * share memory by lifetime (tensor-lifetimes.ts). The scratch is not laid out here (step-plan.ts
 * puts it last, sized by the first recording).
 *
 * Gradients are aliased where that saves a copy and is safe: an identity's gradient is its input's
 * (they share the value), and a residual add passes its gradient unchanged to both inputs, so
 * both use the add's own gradient buffer when the add is the last reader of its residual input (then
 * in reverse order it is the first contribution, and the branch's first layer accumulates onto it).
 * An alias is the same range object, so it is one tensor to the lifetimes too.
 *
 * In a mixed-precision plan the values (activations) are float16 (StepAllocator.transientHalf), as
 * in PyTorch's autocast: they are most of the step's memory and of its memory traffic. Gradients,
 * statistics, pre-activations, parameters, optimizer state, pixels and logits stay float32, and
 * every kernel computes in f32 (it converts as it loads and stores).
 */
import { type ArenaLayout, type TensorRange } from '../arena';
import { OPTIMIZER_SCALARS } from '../kernels/optimizer';
import { RNG_SCALARS } from '../kernels/random';
import type { GraphAnalysis } from './graph-analysis';
import { layoutParams, type ParamLayout } from './param-layout';

export interface StepTensors {
  readonly batch: number;
  readonly params: ParamLayout;
  /** representative value → its batch tensor */
  readonly values: ReadonlyMap<number, TensorRange>;
  /** representative value → its gradient */
  readonly grads: ReadonlyMap<number, TensorRange>;
  /** BatchNorm node → batch mean and variance */
  readonly stats: ReadonlyMap<number, { mean: TensorRange; variance: TensorRange }>;
  /** conv node with an activation → its pre-activation and that one's gradient */
  readonly pre: ReadonlyMap<number, { value: TensorRange; grad: TensorRange | null }>;
  readonly pixels: TensorRange;
  readonly labels: TensorRange;
  readonly classWeights: TensorRange | null;
  readonly metrics: TensorRange;
  readonly optimizerScalars: TensorRange;
  readonly rngScalars: TensorRange;
  /** softmax of the logits (inference plan) */
  readonly probabilities: TensorRange | null;
  /** a second gradient contribution from a kernel that cannot accumulate lands here first */
  readonly gradTemp: TensorRange | null;
}

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export interface StepAllocator {
  /** a range of its own for the life of the plan */
  readonly fixed: ArenaLayout;
  /** a range that is first written within the step and may share memory with tensors alive at other times */
  readonly transient: (name: string, length: number) => TensorRange;
  /**
   * a mixed-precision plan's: a transient float16 range in the half arena (arena.ts), for the
   * activations (the values of the batch but for the pixels and the logits); absent: all float32
   */
  readonly transientHalf?: (name: string, length: number) => TensorRange;
}

export function layoutStep(alloc: StepAllocator, a: GraphAnalysis, batch: number, withClassWeights: boolean): StepTensors {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`engine plan: batch ${batch} must be a whole number ≥ 1`);
  const { graph } = a;
  const { fixed: layout, transient } = alloc;
  const activation = alloc.transientHalf ?? transient;
  const params = layoutParams(layout, graph, (p) => a.paramTrains(p.name));
  const values = new Map<number, TensorRange>();
  const size = (v: number) => batch * elements(graph.values[v].shape);
  const pixels = layout.add('pixels', size(graph.input));
  values.set(graph.input, pixels);
  const stats = new Map<number, { mean: TensorRange; variance: TensorRange }>();
  const pre = new Map<number, { value: TensorRange; grad: TensorRange | null }>();
  const training = a.phase === 'train';
  for (const node of graph.nodes) {
    const out = node.output;
    if (a.identity[node.index] || a.fusedIntoAdd[node.index]) continue;
    // a BatchNorm with its swish fused writes the swish's output; its own is never stored
    // the logits are read by the host after a step (StepPlan.logits, ForwardPlan.read)
    // an SE product read through its projection's prologue is never stored either
    if (!a.fusedSwish[node.index] && !a.fusedIntoConv[node.index]) values.set(out, out === graph.output ? layout.add(node.name, size(out)) : activation(node.name, size(out)));
    if (node.kind === 'batchNorm' && !a.frozenBn[node.index]) {
      const c = graph.values[out].shape[2];
      stats.set(node.index, { mean: transient(`${node.name}:mean`, c), variance: transient(`${node.name}:variance`, c) });
    }
    if (node.kind === 'conv' && node.layer.activation) {
      const value = transient(`${node.name}:pre`, size(out));
      pre.set(node.index, { value, grad: training && a.needsGrad(out) ? transient(`${node.name}:pre:grad`, size(out)) : null });
    }
  }
  const grads = new Map<number, TensorRange>();
  let largestGrad = 0;
  if (training) {
    // allocate in reverse, so the add's gradient exists when its inputs look for an alias
    for (let i = graph.nodes.length - 1; i >= 0; i--) {
      const node = graph.nodes[i];
      const out = a.rep(node.output);
      // identities share their input's gradient; a fused drop's input gets its gradient at the add;
      // a BatchNorm with its swish fused has no output tensor: the gradient is the swish's
      if (a.identity[i] || a.fusedIntoAdd[i] || a.fusedSwish[i] || !a.needsGrad(out)) continue;
      if (!grads.has(out)) grads.set(out, transient(`${node.name}:grad`, size(out)));
      largestGrad = Math.max(largestGrad, size(out));
      if (node.kind === 'add') {
        const [branch, residual] = node.inputs.map(a.rep);
        const drop = a.dropIntoAdd[i];
        if (drop < 0 && a.needsGrad(branch) && (a.consumers.get(branch) ?? []).length === 1) grads.set(branch, grads.get(out)!);
        const readers = a.consumers.get(residual) ?? [];
        if (a.needsGrad(residual) && readers[readers.length - 1] === i && residual !== branch) grads.set(residual, grads.get(out)!);
      }
      if (node.kind === 'add' && a.dropIntoAdd[i] >= 0) {
        // the stochastic-depth node's input (the branch before the drop) gets its own gradient
        const branchIn = a.rep(graph.nodes[a.dropIntoAdd[i]].inputs[0]);
        if (a.needsGrad(branchIn) && !grads.has(branchIn)) grads.set(branchIn, transient(`${graph.nodes[a.dropIntoAdd[i]].name}:grad`, size(branchIn)));
      }
    }
    if (!grads.has(graph.output)) throw new Error('engine plan: nothing trains (no parameter of this mode is updated)');
  }
  const classes = graph.values[graph.output].shape[2];
  return {
    batch,
    params,
    values,
    grads,
    stats,
    pre,
    pixels,
    labels: layout.add('labels', batch),
    classWeights: withClassWeights ? layout.add('class weights', classes) : null,
    metrics: layout.add('metrics', 2),
    optimizerScalars: layout.add('optimizer scalars', OPTIMIZER_SCALARS),
    rngScalars: layout.add('rng scalars', RNG_SCALARS),
    probabilities: training ? null : layout.add('probabilities', batch * classes),
    gradTemp: training && largestGrad > 0 ? transient('gradient contribution', largestGrad) : null,
  };
}
