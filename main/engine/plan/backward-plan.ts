/**
 * The backward pass of a training plan, in reverse node order, from the logits' gradient (the loss
 * kernel writes it) to the first value that needs one: weight gradients of the trained layers into
 * their slots of the flat gradient buffer, value gradients only where something below trains (top
 * mode stops at the first trained layer).
 *
 * A value read by several nodes (the SE input: pool and multiply; a residual input: the add and
 * the block's first layer) gets the sum of their contributions: the first contribution in reverse
 * order writes, later ones accumulate, through the kernel's own accumulate option where it has one
 * and otherwise through a temporary tensor and an add (contribute). The SE input's two
 * contributions are fused into one pass instead: the multiply's share is held back until the pool's
 * gradient is known, and seScaleInputGrad writes dy·s + poolGrad/(h·w) at once.
 */
import type { TensorRange } from '../arena';
import type { Dispatch } from '../dispatch';
import { activationBackward } from '../kernels/activation';
import { batchNormBackward, batchNormFrozenBackward, batchNormScratch } from '../kernels/batchnorm';
import { convInputGrad, convWeightGrad, convWeightGradScratchElements } from '../kernels/conv';
import { depthwiseFilterGrad, depthwiseFilterGradScratch, depthwiseInputGrad } from '../kernels/depthwise';
import { columnReduce, columnReduceScratchElements } from '../kernels/gemm';
import { globalAvgPoolBackward, seScaleGrad, seScaleInputGrad, type SpatialShape } from '../kernels/pool';
import { dropoutBackward, stochasticDepthBackward } from '../kernels/random';
import { subRange } from '../arena';
import { recordsNothing } from './graph-analysis';
import { batchNormOutput, convInput, convShapeOf, depthwiseShapeOf, gemmScratched, isPointwise, shapeOf, slot, valueOf, type Recorder } from './forward-plan';
import type { GraphNode } from './network-graph';
import { accumulateInto, copyTensor } from './plan-kernels';

export function recordBackward(r: Recorder): Dispatch[] {
  return new Backward(r).record();
}

class Backward {
  private readonly out: Dispatch[] = [];
  /** gradient tensors that already hold a contribution this step */
  private readonly written = new Set<TensorRange>();
  /** SE input (representative value) → the multiply's share, waiting for the pool's */
  private readonly pendingScale = new Map<number, { dy: TensorRange; scale: TensorRange; shape: SpatialShape }>();
  /** conv nodes whose pre-activation gradient the SE scale's backward already wrote */
  private readonly preGradReady = new Set<number>();

  constructor(private readonly r: Recorder) {}

  record(): Dispatch[] {
    const { a } = this.r;
    this.written.add(this.grad(a.graph.output));
    for (let i = a.graph.nodes.length - 1; i >= 0; i--) {
      const node = a.graph.nodes[i];
      if (recordsNothing(a, node)) continue;
      this.r.nextSlot();
      const outValue = node.kind === 'batchNorm' ? batchNormOutput(this.r, node) : node.output;
      // every reader of this node's output has run: a held-back SE share can go now
      this.flushPending(a.rep(outValue));
      if (!a.needsGrad(outValue)) continue;
      this.node(node, outValue);
    }
    this.r.nextSlot();
    for (const v of [...this.pendingScale.keys()]) this.flushPending(v);
    return this.out;
  }

  private grad(v: number): TensorRange {
    const g = this.r.t.grads.get(this.r.a.rep(v));
    if (!g) throw new Error(`engine plan: value ${v} has no gradient tensor`);
    return g;
  }

  /** dy of a node's output: it must hold every contribution by now */
  private dy(v: number): TensorRange {
    const g = this.grad(v);
    if (!this.written.has(g)) throw new Error(`engine plan: the gradient of value ${v} is read before anything wrote it`);
    return g;
  }

  /** Add one contribution to the gradient of `v`: `emit(dst, accumulate)` writes it. */
  private contribute(v: number, canAccumulate: boolean, emit: (dst: TensorRange, accumulate: boolean) => Dispatch[]): void {
    if (!this.r.a.needsGrad(v)) return;
    const g = this.grad(v);
    if (!this.written.has(g)) {
      this.written.add(g);
      this.out.push(...emit(g, false));
    } else if (canAccumulate) {
      this.out.push(...emit(g, true));
    } else {
      const temp = subRange(this.r.t.gradTemp!, `${g.name} contribution`, 0, g.length);
      this.out.push(...emit(temp, false), accumulateInto(this.r.ctx, temp, g, g.length));
    }
  }

  /** The gradient passed through unchanged (a residual add's inputs). */
  private passThrough(v: number, dy: TensorRange): void {
    if (!this.r.a.needsGrad(v)) return;
    const g = this.grad(v);
    if (g === dy) return; // shares the add's buffer (step-layout.ts)
    this.contribute(v, true, (dst, accumulate) => [accumulate ? accumulateInto(this.r.ctx, dy, dst, dy.length) : copyTensor(this.r.ctx, dy, dst, dy.length)]);
  }

  private flushPending(v: number): void {
    const p = this.pendingScale.get(v);
    if (!p) return;
    this.pendingScale.delete(v);
    this.contribute(v, false, (dst) => [seScaleInputGrad(this.r.ctx, p.dy, p.scale, dst, p.shape)]);
  }

  private paramGrad(name: string): TensorRange {
    const s = this.r.t.params.slots.get(name);
    if (!s?.grad) throw new Error(`engine plan: parameter ${name} has no gradient slot`);
    return s.grad;
  }

  private columnSums(src: TensorRange, dst: TensorRange, rows: number, cols: number): void {
    const need = columnReduceScratchElements(rows, cols);
    this.out.push(...columnReduce(this.r.ctx, src, dst, { rows, cols }, need > 0 ? { scratch: this.r.scratch(need) } : {}));
  }

  private node(node: GraphNode, outValue: number): void {
    const { r } = this;
    const { ctx, a, t } = r;
    const B = t.batch;
    const input = node.inputs[0];
    // a projection with the SE scale fused reads the multiply's input (its own input has no tensor)
    const x = node.kind === 'add' ? t.values.get(a.rep(node.output))! : node.kind === 'conv' ? convInput(r, node).x : valueOf(r, input);
    const [h, w, c] = shapeOf(r, input);
    const trains = a.trains[node.index];
    switch (node.kind) {
      case 'preprocess':
        return;
      case 'conv':
      case 'dense': {
        const pre = t.pre.get(node.index);
        let g: TensorRange;
        if (pre && this.preGradReady.has(node.index)) g = pre.grad!;
        else if (pre && node.kind === 'conv') {
          this.out.push(activationBackward(ctx, node.layer.activation!, pre.value, this.dy(outValue), pre.grad!));
          g = pre.grad!;
        } else g = this.dy(outValue);
        const kernel = slot(r, `${node.name}/kernel`);
        const cout = node.kind === 'dense' ? node.units : node.layer.filters;
        const useBias = node.kind === 'dense' || node.layer.useBias;
        const rows = node.kind === 'dense' ? B : B * h * w;
        if (node.kind === 'dense' || isPointwise(node)) {
          if (trains) {
            // an SE product fused into this projection is re-formed in the prologue here too
            const input = node.kind === 'conv' ? convInput(r, node) : { x };
            this.out.push(...gemmScratched(r, input.x, g, this.paramGrad(`${node.name}/kernel`), { M: c, N: cout, K: rows, transA: true }, { aScale: input.aScale }));
            if (useBias) this.columnSums(g, this.paramGrad(`${node.name}/bias`), rows, cout);
          }
          this.contribute(input, true, (dst, accumulate) => gemmScratched(r, g, kernel, dst, { M: rows, N: c, K: cout, transB: true }, { accumulate }));
        } else {
          const shape = convShapeOf(r, node);
          const [oh, ow] = shapeOf(r, node.output);
          if (trains) {
            const need = convWeightGradScratchElements(shape);
            this.out.push(...convWeightGrad(ctx, x, g, this.paramGrad(`${node.name}/kernel`), shape, need > 0 ? { scratch: r.scratch(need) } : {}));
            if (useBias) this.columnSums(g, this.paramGrad(`${node.name}/bias`), B * oh * ow, cout);
          }
          this.contribute(input, true, (dst, accumulate) => convInputGrad(ctx, g, kernel, dst, shape, { accumulate }));
        }
        return;
      }
      case 'depthwise': {
        const s = depthwiseShapeOf(r, node);
        const dy = this.dy(outValue);
        const filter = slot(r, `${node.name}/depthwise_kernel`);
        if (trains) {
          const need = depthwiseFilterGradScratch(s);
          this.out.push(...depthwiseFilterGrad(ctx, x, dy, this.paramGrad(`${node.name}/depthwise_kernel`), need > 0 ? r.scratch(need) : null, s));
        }
        this.contribute(input, false, (dst) => [depthwiseInputGrad(ctx, dy, filter, dst, s)]);
        return;
      }
      case 'batchNorm': {
        const s = { rows: B * h * w, c, epsilon: node.epsilon, momentum: node.momentum };
        const [gamma, beta, movingMean, movingVariance] = node.params.map((p) => slot(r, p));
        const dy = this.dy(outValue);
        const activation = a.fusedSwish[node.index] ? 'swish' : 'none';
        const stats = t.stats.get(node.index);
        if (!stats) {
          this.contribute(input, false, (dst) => [batchNormFrozenBackward(ctx, { x, dy, mean: movingMean, variance: movingVariance, gamma, beta, dx: dst }, s, activation)]);
          return;
        }
        const need = batchNormScratch(s);
        const tensors = (dx: TensorRange) => ({ x, dy, ...stats, gamma, beta, dx, dgamma: this.paramGrad(node.params[0]), dbeta: this.paramGrad(node.params[1]), scratch: need > 0 ? r.scratch(need) : null });
        // the dgamma/dbeta pass and the dx pass are one kernel: dx goes to a temporary when nothing below needs it
        if (a.needsGrad(input)) this.contribute(input, false, (dst) => batchNormBackward(ctx, tensors(dst), s, activation));
        else this.out.push(...batchNormBackward(ctx, tensors(subRange(t.gradTemp!, 'unused dx', 0, s.rows * c)), s, activation));
        return;
      }
      case 'swish': {
        const dy = this.dy(outValue);
        this.contribute(input, false, (dst) => [activationBackward(ctx, 'swish', x, dy, dst)]);
        return;
      }
      case 'globalPool': {
        const dy = this.dy(outValue);
        const shape = { n: B, h, w, c };
        const held = this.pendingScale.get(a.rep(input));
        if (held) {
          this.pendingScale.delete(a.rep(input));
          this.contribute(input, false, (dst) => [seScaleInputGrad(ctx, held.dy, held.scale, dst, shape, { poolGrad: dy })]);
        } else {
          this.contribute(input, true, (dst, accumulate) => [globalAvgPoolBackward(ctx, dy, dst, shape, accumulate)]);
        }
        return;
      }
      case 'multiply': {
        const dy = this.dy(outValue);
        const sv = node.inputs[1];
        const shape = { n: B, h, w, c };
        const gate = a.graph.nodes[a.graph.values[sv].producer];
        const pre = gate && t.pre.get(gate.index);
        const fuse = gate?.kind === 'conv' && pre?.grad && (a.consumers.get(a.rep(sv)) ?? []).length === 1;
        if (a.needsGrad(sv)) {
          if (fuse && gate.kind === 'conv') {
            this.out.push(seScaleGrad(ctx, x, dy, pre.grad!, shape, { through: { activation: gate.layer.activation!, pre: pre.value } }));
            this.preGradReady.add(gate.index);
          } else {
            this.contribute(sv, false, (dst) => [seScaleGrad(ctx, x, dy, dst, shape)]);
          }
        }
        if (a.needsGrad(input)) this.pendingScale.set(a.rep(input), { dy, scale: valueOf(r, sv), shape });
        return;
      }
      case 'add': {
        const dy = this.dy(outValue);
        const drop = a.dropIntoAdd[node.index];
        if (drop >= 0) {
          const d = a.graph.nodes[drop] as Extract<GraphNode, { kind: 'dropBranch' }>;
          this.contribute(d.inputs[0], false, (dst) => [stochasticDepthBackward(ctx, dy, dst, t.rngScalars, { rate: d.rate, stream: drop, n: B })]);
        } else {
          this.passThrough(node.inputs[0], dy);
        }
        this.passThrough(node.inputs[1], dy);
        return;
      }
      case 'dropout': {
        const dy = this.dy(outValue);
        this.contribute(input, false, (dst) => [dropoutBackward(ctx, dy, dst, t.rngScalars, { rate: node.rate, stream: node.index })]);
        return;
      }
      case 'dropBranch': {
        const dy = this.dy(outValue);
        this.contribute(input, false, (dst) => [stochasticDepthBackward(ctx, dy, dst, t.rngScalars, { rate: node.rate, stream: node.index, n: B })]);
        return;
      }
    }
  }
}
