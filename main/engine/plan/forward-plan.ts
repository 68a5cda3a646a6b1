/**
 * The forward pass of a plan as dispatches, node by node in graph order: training mode (BatchNorm
 * batch statistics and the moving-average update, dropout and stochastic depth drawing from the
 * step's RNG scalars) or inference mode (BatchNorm on its moving statistics, dropout the identity),
 * decided per node by the analysis (graph-analysis.ts). Fusions: swish into the BatchNorm apply
 * before it, the SE convolutions' bias and activation into their GEMM epilogue (keeping the
 * pre-activation for the backward), stochastic depth into the residual add, the SE scale into the
 * 1×1 projection after it (convInput), and a training-mode BatchNorm's partial statistics into the
 * epilogue of the 1×1 convolution before it (statisticsInEpilogue).
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { activationForward } from '../kernels/activation';
import { batchNormApply, batchNormScratch, batchNormStatistics, batchNormStatisticsFromPartials } from '../kernels/batchnorm';
import { convForward, type ConvShape } from '../kernels/conv';
import { depthwiseForward, type DepthwiseShape } from '../kernels/depthwise';
import { gemm, gemmScratchElements, gemmStatisticsGroups, type GemmOptions, type GemmShape } from '../kernels/gemm';
import { globalAvgPool, seScale } from '../kernels/pool';
import { dropoutForward, stochasticDepthForward } from '../kernels/random';
import { recordsNothing, type GraphAnalysis } from './graph-analysis';
import type { GraphNode } from './network-graph';
import { addTensors, channelAffine } from './plan-kernels';
import type { StepTensors } from './step-layout';

export interface Recorder {
  readonly ctx: KernelContext;
  readonly a: GraphAnalysis;
  readonly t: StepTensors;
  /** a scratch tensor of at least `elements` values, shared by every kernel (they run one after another) */
  scratch(elements: number): TensorRange;
  /**
   * Called before each node's kernels (and the loss's, the optimizer's): the tensors used between
   * two calls are alive together, which is how the first recording learns lifetimes (tensor-lifetimes.ts).
   */
  nextSlot(): void;
}

export function valueOf(r: Recorder, v: number): TensorRange {
  const range = r.t.values.get(r.a.rep(v));
  if (!range) throw new Error(`engine plan: value ${v} has no tensor`);
  return range;
}

export function slot(r: Recorder, name: string): TensorRange {
  const s = r.t.params.slots.get(name);
  if (!s) throw new Error(`engine plan: no parameter ${name}`);
  return s.value;
}

export function shapeOf(r: Recorder, v: number): readonly [number, number, number] {
  return r.a.graph.values[v].shape;
}

/** gemm with the shared scratch when it runs split-K. */
export function gemmScratched(r: Recorder, a: TensorRange, b: TensorRange, c: TensorRange, shape: GemmShape, options: GemmOptions = {}): Dispatch[] {
  const need = gemmScratchElements(shape);
  return gemm(r.ctx, a, b, c, shape, need > 0 ? { ...options, scratch: r.scratch(need) } : options);
}

export function convShapeOf(r: Recorder, node: Extract<GraphNode, { kind: 'conv' }>): ConvShape {
  const [h, w, c] = shapeOf(r, node.inputs[0]);
  return { batch: r.t.batch, height: h, width: w, inChannels: c, outChannels: node.layer.filters, kernel: node.layer.kernel, stride: node.layer.stride };
}

/**
 * The A operand of a convolution: its input tensor, or, when the SE multiply before it is fused
 * into its prologue, the multiply's input with the gate as the prologue scale (one per image and
 * channel, so rowsPerGroup = H·W rows of X).
 */
export function convInput(r: Recorder, node: Extract<GraphNode, { kind: 'conv' }>): { x: TensorRange; aScale?: GemmOptions['aScale'] } {
  const m = r.a.scaleIntoConv[node.index];
  if (m < 0) return { x: valueOf(r, node.inputs[0]) };
  const multiply = r.a.graph.nodes[m];
  const [h, w] = shapeOf(r, node.inputs[0]);
  return { x: valueOf(r, multiply.inputs[0]), aScale: { scale: valueOf(r, multiply.inputs[1]), rowsPerGroup: h * w } };
}

/**
 * Whether a 1×1 convolution's GEMM writes the partial batch statistics of the training-mode
 * BatchNorm right after it (the expansion, projection and top convolutions): the partials go to the
 * shared scratch and the BatchNorm's merge, the next dispatch, reads them there instead of reading
 * the convolution's output once more. Null when the BatchNorm is frozen or the product runs split-K.
 */
export function statisticsInEpilogue(r: Recorder, conv: GraphNode): { groups: number; elements: number } | null {
  if (conv.kind !== 'conv' || !isPointwise(conv)) return null;
  const next = r.a.graph.nodes[conv.index + 1];
  if (!next || next.kind !== 'batchNorm' || r.a.rep(next.inputs[0]) !== r.a.rep(conv.output) || !r.t.stats.has(next.index)) return null;
  const [h, w, c] = shapeOf(r, conv.inputs[0]);
  const groups = gemmStatisticsGroups({ M: r.t.batch * h * w, N: conv.layer.filters, K: c });
  return groups > 0 ? { groups, elements: groups * conv.layer.filters * 3 } : null;
}

export function isPointwise(node: Extract<GraphNode, { kind: 'conv' }>): boolean {
  return node.layer.kernel === 1 && node.layer.stride === 1;
}

export function depthwiseShapeOf(r: Recorder, node: Extract<GraphNode, { kind: 'depthwise' }>): DepthwiseShape {
  const [h, w, c] = shapeOf(r, node.inputs[0]);
  return { n: r.t.batch, h, w, c, k: node.layer.kernel, stride: node.layer.stride, padding: 'same' };
}

/** The tensor a BatchNorm writes: its swish's output when the swish is fused. */
export function batchNormOutput(r: Recorder, node: GraphNode): number {
  if (!r.a.fusedSwish[node.index]) return node.output;
  return r.a.graph.nodes[r.a.consumers.get(r.a.rep(node.output))![0]].output;
}

export function recordForward(r: Recorder): Dispatch[] {
  const { ctx, a, t } = r;
  const out: Dispatch[] = [];
  const B = t.batch;
  for (const node of a.graph.nodes) {
    if (recordsNothing(a, node) || a.fusedIntoConv[node.index]) continue;
    r.nextSlot();
    // a residual add with stochastic depth fused reads the branch before the drop
    const drop = node.kind === 'add' ? a.dropIntoAdd[node.index] : -1;
    // and a projection with the SE scale fused reads the multiply's input (convInput)
    const x = node.kind === 'conv' ? convInput(r, node).x : valueOf(r, drop >= 0 ? a.graph.nodes[drop].inputs[0] : node.inputs[0]);
    const [h, w, c] = shapeOf(r, node.inputs[0]);
    switch (node.kind) {
      case 'preprocess':
        out.push(channelAffine(ctx, x, slot(r, node.params[0]), slot(r, node.params[1]), valueOf(r, node.output), c));
        break;
      case 'conv': {
        const y = valueOf(r, node.output);
        const epilogue = { bias: node.layer.useBias ? slot(r, `${node.name}/bias`) : undefined, activation: node.layer.activation, preActivation: t.pre.get(node.index)?.value };
        const kernel = slot(r, `${node.name}/kernel`);
        const input = convInput(r, node);
        const partials = statisticsInEpilogue(r, node);
        const statistics = partials ? r.scratch(partials.elements) : undefined;
        if (isPointwise(node)) out.push(...gemmScratched(r, input.x, kernel, y, { M: B * h * w, N: node.layer.filters, K: c }, { ...epilogue, aScale: input.aScale, statistics }));
        else out.push(...convForward(ctx, x, kernel, y, convShapeOf(r, node), epilogue));
        break;
      }
      case 'depthwise':
        out.push(depthwiseForward(ctx, x, slot(r, `${node.name}/depthwise_kernel`), valueOf(r, node.output), depthwiseShapeOf(r, node)));
        break;
      case 'batchNorm': {
        const s = { rows: B * h * w, c, epsilon: node.epsilon, momentum: node.momentum };
        const [gamma, beta, movingMean, movingVariance] = node.params.map((p) => slot(r, p));
        const y = valueOf(r, batchNormOutput(r, node));
        const activation = a.fusedSwish[node.index] ? 'swish' : 'none';
        const stats = t.stats.get(node.index);
        const producer = a.graph.nodes[node.index - 1];
        const partials = stats && producer ? statisticsInEpilogue(r, producer) : null;
        if (stats && partials) {
          out.push(batchNormStatisticsFromPartials(ctx, { partials: r.scratch(partials.elements), ...stats, movingMean, movingVariance }, { c, groups: partials.groups, momentum: node.momentum }));
          out.push(batchNormApply(ctx, { x, ...stats, gamma, beta, y }, s, activation));
        } else if (stats) {
          const need = batchNormScratch(s);
          out.push(...batchNormStatistics(ctx, { x, ...stats, movingMean, movingVariance, scratch: need > 0 ? r.scratch(need) : null }, s));
          out.push(batchNormApply(ctx, { x, ...stats, gamma, beta, y }, s, activation));
        } else {
          out.push(batchNormApply(ctx, { x, mean: movingMean, variance: movingVariance, gamma, beta, y }, s, activation));
        }
        break;
      }
      case 'swish':
        out.push(activationForward(ctx, 'swish', x, valueOf(r, node.output)));
        break;
      case 'globalPool':
        out.push(globalAvgPool(ctx, x, valueOf(r, node.output), { n: B, h, w, c }));
        break;
      case 'multiply':
        out.push(seScale(ctx, x, valueOf(r, node.inputs[1]), valueOf(r, node.output), { n: B, h, w, c }));
        break;
      case 'add': {
        const y = valueOf(r, node.output);
        if (drop >= 0) {
          const d = a.graph.nodes[drop] as Extract<GraphNode, { kind: 'dropBranch' }>;
          out.push(stochasticDepthForward(ctx, x, valueOf(r, node.inputs[1]), y, t.rngScalars, { rate: d.rate, stream: drop, n: B }));
        } else {
          out.push(addTensors(ctx, x, valueOf(r, node.inputs[1]), y, B * h * w * c));
        }
        break;
      }
      case 'dropout':
        out.push(dropoutForward(ctx, x, valueOf(r, node.output), t.rngScalars, { rate: node.rate, stream: node.index }));
        break;
      case 'dropBranch':
        out.push(stochasticDepthForward(ctx, x, null, valueOf(r, node.output), t.rngScalars, { rate: node.rate, stream: node.index, n: B }));
        break;
      case 'dense':
        out.push(...gemmScratched(r, x, slot(r, `${node.name}/kernel`), valueOf(r, node.output), { M: B, N: node.units, K: c }, { bias: slot(r, `${node.name}/bias`) }));
        break;
    }
  }
  return out;
}
