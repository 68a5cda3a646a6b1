/// <reference types="@webgpu/types" />
/**
 * A whole training step of a network graph, planned once: every tensor in one arena (step-layout.ts),
 * every kernel recorded as a Dispatch — forward in training mode (forward-plan.ts), the loss with
 * its metrics accumulating on the GPU, the backward in reverse node order (backward-plan.ts) and one
 * optimizer dispatch over the trained tail of the flat parameter buffer. step(lr) writes the step's
 * scalars and submits the list as one compute pass in one command buffer; nothing is read back
 * until readMetrics().
 *
 * planForward is the inference plan (BatchNorm on moving statistics, no dropout): logits and
 * probabilities, for validation and parity with the tf.layers model; with batchStatistics, Precise
 * BN's forward. A mixed-precision run's forward plans store their activations as float16 too.
 *
 * Plans are recorded twice (layOut): first through a RecordingKernelContext (no compilation) over
 * stand-in ranges, to learn how much scratch the kernels need and when each transient tensor
 * (values, gradients, statistics) is alive; then the transient tensors are placed by lifetime in
 * one shared block (tensor-lifetimes.ts), the fixed ones follow, the scratch last, and the step is
 * recorded for real over that layout. countTrainingStep and countForward record the second time
 * without compiling either: dispatches, pipelines and arena bytes of any plan, with no GPU.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { Arena, ArenaLayout, subRange, type TensorRange } from '../arena';
import { encodeAndSubmit, KernelContext, kernelKind, type Dispatch } from '../dispatch';
import { deviceBindingBytes, type EngineDevice } from '../gpu-device';
import { softmaxCrossEntropy } from '../kernels/loss';
import { optimizerScalars, optimizerStep, type OptimizerConfig, type ParameterSegment } from '../kernels/optimizer';
import { rngScalars } from '../kernels/random';
import { recordBackward } from './backward-plan';
import { recordForward, type Recorder } from './forward-plan';
import { analyzeGraph, type GraphAnalysis } from './graph-analysis';
import type { NetworkGraph } from './network-graph';
import type { ParamLayout } from './param-layout';
import { softmaxRows } from './plan-kernels';
import { RecordingKernelContext } from './recording-context';
import { layoutStep, type StepTensors } from './step-layout';
import { arenaCapacity } from '../arena-pages';
import { LifetimeRecorder, placedAllocator, type TensorPlacement } from './tensor-lifetimes';
import { loadWeightsFromModel, saveWeightsToModel } from './weights-io';

export interface TrainingStepOptions {
  readonly batch: number;
  /** full: every layer trains; top: the layers `trainable` says (the last blocks and the head), BatchNorm frozen */
  readonly mode: 'full' | 'top';
  /** top mode: the Keras layer names that train, or a predicate on them */
  readonly trainable?: readonly string[] | ((layer: string) => boolean);
  /** full mode: BatchNorm in inference mode too (top mode always) */
  readonly freezeBatchNorm?: boolean;
  readonly optimizer: OptimizerConfig;
  readonly labelSmoothing: number;
  /** per class in output order, or null */
  readonly classWeights: Float32Array | null;
  /** the dropout / stochastic-depth RNG seed (whole number below 2^24) */
  readonly seed: number;
  /** hold each arena below this many bytes (default and at most: what the GPU's storage bindings hold, paged where one is not enough) */
  readonly maxArenaBytes?: number;
  /**
   * plan (or count, without a GPU) as on a GPU whose storage bindings hold this many bytes, at most
   * the device's own: arenas above it are paged (arena-pages.ts); to try paging on any GPU (tests)
   */
  readonly bindingBytes?: number;
  /**
   * mixed precision: the activations stored as float16 (step-layout.ts), everything else and all
   * arithmetic float32; needs a device with shader-f16 (gpu-device.ts features.f16)
   */
  readonly f16Activations?: boolean;
}

export interface StepPlan {
  readonly arena: Arena;
  readonly dispatches: readonly Dispatch[];
  readonly dispatchCount: number;
  readonly pipelineCount: number;
  /** [B, H, W, 3] RGB 0..255 */
  readonly pixels: TensorRange;
  /** [B] class indices as float32 */
  readonly labels: TensorRange;
  readonly params: ParamLayout;
  readonly logits: TensorRange;
  /** steps submitted so far (the optimizer's t of the next step is stepsDone + 1) */
  readonly stepsDone: number;
  /** Upload a batch (pixels 0..255 NHWC, labels as class indices). */
  setBatch(pixels: Float32Array, labels: Int32Array | readonly number[]): void;
  /** One training step: writes the scalars, then one encode and one submit. */
  step(lr: number): void;
  /** Loss sum (Σ over samples of weight·loss) and correct count since the last read; resets them. */
  readMetrics(): Promise<{ loss: number; correct: number }>;
  loadWeights(model: tfl.LayersModel): Promise<void>;
  saveWeights(model: tfl.LayersModel): Promise<void>;
  /** the optimizer's steps and moments of these weights (Adam: m and v; SGD: its momentum as m, v null) */
  readOptimizerState(names: readonly string[]): Promise<OptimizerState>;
  /** continue from a saved optimizer state (a resumed run): the next step is state.steps + 1 */
  writeOptimizerState(names: readonly string[], state: OptimizerState): void;
  destroy(): void;
}

export interface OptimizerState {
  steps: number;
  m: Float32Array[];
  v: Float32Array[] | null;
}

export interface ForwardPlan {
  readonly arena: Arena;
  readonly dispatches: readonly Dispatch[];
  readonly pixels: TensorRange;
  readonly logits: TensorRange;
  readonly probabilities: TensorRange;
  readonly params: ParamLayout;
  setPixels(pixels: Float32Array): void;
  run(): void;
  /** logits and probabilities of the last run, [B, K] each */
  read(): Promise<{ logits: Float32Array; probabilities: Float32Array }>;
  /** the BatchNorms' moving statistics by weight name (movingStatisticNames): of a batchStatistics plan, those of the last run's batch */
  readStatistics(): Promise<Map<string, Float32Array>>;
  /** every weight and statistic from another plan of the same graph on the same device, GPU to GPU */
  copyParamsFrom(source: { readonly arena: Arena; readonly params: ParamLayout }): void;
  loadWeights(model: tfl.LayersModel): Promise<void>;
  destroy(): void;
}

export interface PlanCount {
  dispatches: number;
  pipelines: number;
  /** the GPU memory of its tensors: the arena and the half arena together */
  arenaBytes: number;
  /** of arenaBytes, the half arena's (the float16 activations of a mixed-precision plan); 0 in fp32 */
  halfArenaBytes: number;
  /** of arenaBytes, the block the transient tensors share by lifetime */
  sharedBytes: number;
  /** what those tensors would take each in a range of its own (the arena before sharing: arenaBytes − sharedBytes + this) */
  unsharedBytes: number;
  /** the most bytes of them alive at one time: the least the shared block could be */
  peakLiveBytes: number;
  /** dispatches by kernel label prefix (for reports) */
  byKernel: Record<string, number>;
}

/** A plan with float16 activations needs shader-f16 on its device. */
function refuseF16Without(gpu: EngineDevice, f16Activations: boolean | undefined, instead: string): void {
  if (f16Activations && !gpu.features.f16) throw new Error(`engine plan: f16 activations need an adapter with shader-f16, and ${gpu.adapter.device} has none (or it was opened for the fp32 path): ${instead}`);
}

function layerTest(options: TrainingStepOptions): (layer: string) => boolean {
  if (options.mode === 'full') return () => true;
  const t = options.trainable;
  if (!t) throw new Error('engine plan: top mode needs the trainable layer names');
  if (typeof t === 'function') return t;
  const names = new Set(t);
  return (layer) => names.has(layer);
}

function trainingAnalysis(graph: NetworkGraph, options: TrainingStepOptions): GraphAnalysis {
  return analyzeGraph(graph, { phase: 'train', layerTrains: layerTest(options), freezeBatchNorm: options.mode === 'top' || options.freezeBatchNorm === true });
}

/** Kernels whose gradient segment decays with weight decay: convolution and dense kernels (train/optimizer.ts isKernel). */
const decays = (name: string) => /kernel(_\d+)?$/.test(name);

function optimizerSegments(t: StepTensors, a: GraphAnalysis): ParameterSegment[] {
  const segments: ParameterSegment[] = [];
  for (const [name, s] of t.params.slots) {
    if (!s.grad || !a.paramTrains(name)) continue;
    segments.push({ start: s.value.at - t.params.trained.at, length: s.value.length, decay: decays(name) });
  }
  return segments;
}

/** Record the training step through `ctx`: forward, loss, backward, optimizer. */
function recordTraining(r: Recorder, options: TrainingStepOptions): Dispatch[] {
  const { ctx, a, t } = r;
  const logits = t.values.get(a.graph.output)!;
  const classes = a.graph.values[a.graph.output].shape[2];
  const p = t.params;
  const forward = recordForward(r);
  r.nextSlot();
  const loss = softmaxCrossEntropy(ctx, { logits, labels: t.labels, classWeights: t.classWeights, dlogits: t.grads.get(a.graph.output)!, metrics: t.metrics }, { n: t.batch, classes, labelSmoothing: options.labelSmoothing });
  const backward = recordBackward(r);
  r.nextSlot();
  const optimizer = optimizerStep(ctx, { params: p.trained, grads: p.grads, m: p.moment1, v: options.optimizer.kind === 'adam' ? p.moment2 : null, scalars: t.optimizerScalars }, optimizerSegments(t, a), options.optimizer);
  return [...forward, loss, ...backward, optimizer];
}

function recordInference(r: Recorder): Dispatch[] {
  const { ctx, a, t } = r;
  const classes = a.graph.values[a.graph.output].shape[2];
  const forward = recordForward(r);
  r.nextSlot();
  return [...forward, softmaxRows(ctx, t.values.get(a.graph.output)!, t.probabilities!, t.batch, classes)];
}

type RecordStep = (r: Recorder) => Dispatch[];

/** A plan's tensors laid out for good, and what the first recording learnt. */
interface LaidOut {
  readonly layout: ArenaLayout;
  /** the half arena's layout (a mixed-precision plan with float16 tensors), or null */
  readonly halfLayout: ArenaLayout | null;
  readonly halfPlacement: TensorPlacement | null;
  readonly t: StepTensors;
  readonly scratch: (n: number) => TensorRange;
  /** dispatches of the first recording (the second must have as many) */
  readonly firstDispatches: number;
  readonly placement: TensorPlacement;
}

/** The most each arena kind may hold: float32 and float16 bytes. */
interface ArenaCaps {
  readonly f32: number;
  readonly half: number;
}

/**
 * What each arena kind may hold on bindings of `bindingBytes` (paged; unknown: only what u32
 * indices address), and below maxArenaBytes.
 */
function arenaCaps(bindingBytes: number | undefined, maxArenaBytes: number | undefined): ArenaCaps {
  const capacity = bindingBytes === undefined ? { f32: Number.MAX_SAFE_INTEGER, half: Number.MAX_SAFE_INTEGER } : arenaCapacity(bindingBytes);
  const most = maxArenaBytes ?? Number.MAX_SAFE_INTEGER;
  return { f32: Math.min(capacity.f32, most), half: Math.min(capacity.half, most) };
}

/** The binding a plan on this device is laid out for: the device's, or a smaller one asked for. */
function planBinding(gpu: EngineDevice, options: { bindingBytes?: number }): number {
  return Math.min(deviceBindingBytes(gpu), options.bindingBytes ?? Infinity);
}

/**
 * Lay a plan out in two recordings. The first, through a context that compiles nothing, uses
 * stand-in ranges for the transient tensors and an unbounded stand-in scratch: it learns each
 * transient tensor's lifetime and the scratch the kernels want. Then the transient tensors are
 * placed by lifetime in one shared block (tensor-lifetimes.ts), first in the arena, the fixed
 * tensors follow in ranges of their own, the scratch last. The caller records again over that layout.
 */
function layOut(a: GraphAnalysis, batch: number, withClassWeights: boolean, caps: ArenaCaps, record: RecordStep, f16Activations = false): LaidOut {
  const lifetimes = new LifetimeRecorder();
  // a mixed-precision plan's float16 activations share memory by lifetime too, in the half arena
  const halfLifetimes = f16Activations ? new LifetimeRecorder() : null;
  const probe = layoutStep({ fixed: new ArenaLayout(Number.MAX_SAFE_INTEGER), transient: lifetimes.transient, transientHalf: halfLifetimes?.transient }, a, batch, withClassWeights);
  let most = 0;
  const ctx = new RecordingKernelContext();
  // an unbounded stand-in: the kernels only check its length and take its offset
  const standIn: TensorRange = { name: 'scratch', at: 0, length: Number.MAX_SAFE_INTEGER };
  const nextSlot = () => {
    lifetimes.nextSlot();
    halfLifetimes?.nextSlot();
  };
  const dispatches = record({ ctx, a, t: probe, scratch: (n) => ((most = Math.max(most, n)), standIn), nextSlot });
  const placement = lifetimes.finish();
  const halfPlacement = halfLifetimes?.finish() ?? null;
  const layout = new ArenaLayout(caps.f32);
  const shared = placement.elements > 0 ? layout.add('tensors shared by lifetime', placement.elements) : null;
  // a half arena only where some tensor is float16
  const halfLayout = halfPlacement && halfPlacement.elements > 0 ? new ArenaLayout(caps.half, true) : null;
  const halfShared = halfLayout ? halfLayout.add('float16 activations shared by lifetime', halfPlacement!.elements) : null;
  const t = layoutStep(
    { fixed: layout, transient: placedAllocator(placement, shared), transientHalf: halfPlacement ? placedAllocator(halfPlacement, halfShared) : undefined },
    a,
    batch,
    withClassWeights,
  );
  return { layout, halfLayout, halfPlacement, t, scratch: scratchOf(layout, most), firstDispatches: dispatches.length, placement };
}

/** The second recording, for real: the same dispatches as the first, over the final layout. */
function recordFor(ctx: KernelContext, laid: LaidOut, a: GraphAnalysis, record: RecordStep): Dispatch[] {
  const dispatches = record({ ctx, a, t: laid.t, scratch: laid.scratch, nextSlot: () => {} });
  if (dispatches.length !== laid.firstDispatches) throw new Error(`engine plan: the second recording has ${dispatches.length} dispatches, the first ${laid.firstDispatches}`);
  return dispatches;
}

function scratchOf(layout: ArenaLayout, elements: number): (n: number) => TensorRange {
  const range = elements > 0 ? layout.add('scratch', elements) : null;
  return (n) => {
    if (!range || n > range.length) throw new Error(`engine plan: a kernel wants ${n} scratch values, the plan measured ${range?.length ?? 0}`);
    return range;
  };
}

function countByKernel(dispatches: readonly Dispatch[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of dispatches) {
    const key = kernelKind(d.label);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** What a plan would hold: the second recording too goes through a context that compiles nothing (its pipelines are the plan's). */
function countOf(laid: LaidOut, a: GraphAnalysis, record: RecordStep): PlanCount {
  const ctx = new RecordingKernelContext();
  const dispatches = recordFor(ctx, laid, a, record);
  const half = laid.halfPlacement;
  const halfArenaBytes = laid.halfLayout?.bytes ?? 0;
  return {
    dispatches: dispatches.length,
    pipelines: ctx.pipelineCount,
    arenaBytes: laid.layout.bytes + halfArenaBytes,
    halfArenaBytes,
    sharedBytes: laid.placement.elements * 4 + (half ? half.elements * 2 : 0),
    unsharedBytes: laid.placement.unsharedElements * 4 + (half ? half.unsharedElements * 2 : 0),
    peakLiveBytes: laid.placement.peakElements * 4 + (half ? half.peakElements * 2 : 0),
    byKernel: countByKernel(dispatches),
  };
}

/** Dispatches, pipelines and arena of a training step, recorded without a device or a compiler. */
export function countTrainingStep(graph: NetworkGraph, options: TrainingStepOptions): PlanCount {
  const a = trainingAnalysis(graph, options);
  const record: RecordStep = (r) => recordTraining(r, options);
  return countOf(layOut(a, options.batch, options.classWeights !== null, arenaCaps(options.bindingBytes, options.maxArenaBytes), record, options.f16Activations), a, record);
}

export function planTrainingStep(gpu: EngineDevice, graph: NetworkGraph, options: TrainingStepOptions): StepPlan {
  const a = trainingAnalysis(graph, options);
  const classes = graph.values[graph.output].shape[2];
  if (options.classWeights && options.classWeights.length !== classes) throw new Error(`engine plan: ${options.classWeights.length} class weights for ${classes} classes`);
  rngScalars(options.seed, 0);
  refuseF16Without(gpu, options.f16Activations, 'train in fp32');
  const record: RecordStep = (r) => recordTraining(r, options);
  const binding = planBinding(gpu, options);
  const laid = layOut(a, options.batch, options.classWeights !== null, arenaCaps(binding, options.maxArenaBytes), record, options.f16Activations);
  const { t } = laid;
  const arena = new Arena(gpu.device, laid.layout, laid.halfLayout, binding);
  const ctx = new KernelContext(gpu.device, arena, gpu.subgroupSize, gpu.pipelines);
  const dispatches = recordFor(ctx, laid, a, record);
  if (t.classWeights && options.classWeights) arena.write(t.classWeights, options.classWeights);
  const [H, W] = graph.values[graph.input].shape;
  let steps = 0;
  const logits = t.values.get(graph.output)!;
  return {
    arena,
    dispatches,
    dispatchCount: dispatches.length,
    pipelineCount: ctx.pipelineCount,
    pixels: t.pixels,
    labels: t.labels,
    params: t.params,
    logits,
    get stepsDone() {
      return steps;
    },
    setBatch(pixels, labels) {
      if (pixels.length !== options.batch * H * W * 3) throw new Error(`engine step: ${pixels.length} pixel values, the plan takes ${options.batch}×${H}×${W}×3`);
      if (labels.length !== options.batch) throw new Error(`engine step: ${labels.length} labels for a batch of ${options.batch}`);
      for (const l of labels) if (!Number.isInteger(l) || l < 0 || l >= classes) throw new Error(`engine step: label ${l} is not a class index below ${classes}`);
      arena.write(t.pixels, pixels);
      arena.write(t.labels, Float32Array.from(labels));
    },
    step(lr) {
      if (!Number.isFinite(lr) || lr < 0) throw new Error(`engine step: learning rate ${lr} must be a finite number ≥ 0`);
      const next = steps + 1;
      arena.write(t.optimizerScalars, optimizerScalars(options.optimizer, lr, next));
      arena.write(t.rngScalars, rngScalars(options.seed, next % 2 ** 24));
      encodeAndSubmit(arena, dispatches);
      steps = next;
    },
    async readMetrics() {
      const [m] = await arena.read([t.metrics]);
      arena.write(t.metrics, new Float32Array(2));
      return { loss: m[0], correct: m[1] };
    },
    loadWeights: (model) => loadWeightsFromModel(arena, t.params, model),
    saveWeights: (model) => saveWeightsToModel(arena, t.params, model),
    async readOptimizerState(names) {
      const ranges = momentRanges(t.params, names, options.optimizer.kind === 'adam');
      const data = await arena.read([...ranges.m, ...(ranges.v ?? [])]);
      return { steps, m: data.slice(0, names.length), v: ranges.v ? data.slice(names.length) : null };
    },
    writeOptimizerState(names, state) {
      if (!Number.isInteger(state.steps) || state.steps < 0) throw new Error(`engine: optimizer step count ${state.steps} must be a whole number ≥ 0`);
      const ranges = momentRanges(t.params, names, options.optimizer.kind === 'adam');
      if (state.m.length !== names.length || (ranges.v !== null && state.v?.length !== names.length)) throw new Error(`engine: the optimizer state has moments for ${state.m.length} weights, the plan takes ${names.length}`);
      ranges.m.forEach((r, i) => writeMoment(arena, r, state.m[i], names[i]));
      if (ranges.v) ranges.v.forEach((r, i) => writeMoment(arena, r, state.v![i], names[i]));
      steps = state.steps;
    },
    destroy: () => arena.destroy(),
  };
}

/** Where the moments of these weights live: the same offsets in moment1/moment2 as the weights in the trained tail of params. */
function momentRanges(p: ParamLayout, names: readonly string[], adam: boolean): { m: TensorRange[]; v: TensorRange[] | null } {
  const offsets = names.map((name) => {
    const slot = p.slots.get(name);
    if (!slot || slot.grad === null) throw new Error(`engine: ${name} is not a trained weight of this plan`);
    return { name, offset: slot.value.at - p.trained.at, length: slot.value.length };
  });
  return {
    m: offsets.map((o) => subRange(p.moment1, `${o.name}:m`, o.offset, o.length)),
    v: adam ? offsets.map((o) => subRange(p.moment2, `${o.name}:v`, o.offset, o.length)) : null,
  };
}

function writeMoment(arena: Arena, range: TensorRange, data: Float32Array, name: string): void {
  if (data.length !== range.length) throw new Error(`engine: ${name}'s optimizer moment has ${data.length} values, the plan ${range.length}`);
  arena.write(range, data);
}

export interface ForwardOptions {
  readonly batch: number;
  /**
   * Precise BN's forward (train/precise-batch-norm.ts): every BatchNorm normalises by the batch's
   * statistics and its moving statistics become those (momentum 0), the rest as in inference;
   * readStatistics() then gives them, batch by batch
   */
  readonly batchStatistics?: boolean;
  /** hold each arena below this many bytes (default and at most: what the GPU's storage bindings hold, paged where one is not enough) */
  readonly maxArenaBytes?: number;
  /**
   * plan (or count, without a GPU) as on a GPU whose storage bindings hold this many bytes, at most
   * the device's own: arenas above it are paged (arena-pages.ts); to try paging on any GPU (tests)
   */
  readonly bindingBytes?: number;
  /**
   * a mixed-precision run's: the activations stored as float16 as in its step (TrainingStepOptions),
   * the logits, probabilities, statistics and all arithmetic float32; needs shader-f16
   */
  readonly f16Activations?: boolean;
}

function forwardAnalysis(graph: NetworkGraph, options: ForwardOptions): GraphAnalysis {
  // the moving statistics of a batch-statistics plan are the last batch's (moving ← batch)
  const g = options.batchStatistics ? { ...graph, nodes: graph.nodes.map((n) => (n.kind === 'batchNorm' ? { ...n, momentum: 0 } : n)) } : graph;
  return analyzeGraph(g, { phase: 'infer', layerTrains: () => false, freezeBatchNorm: !options.batchStatistics, batchStatistics: options.batchStatistics === true });
}

/** The BatchNorms' moving-statistics weights of a graph (Keras names), in node order. */
export function movingStatisticNames(graph: NetworkGraph): string[] {
  return graph.nodes.flatMap((n) => (n.kind === 'batchNorm' ? [n.params[2], n.params[3]] : []));
}

export function planForward(gpu: EngineDevice, graph: NetworkGraph, options: ForwardOptions): ForwardPlan {
  const a = forwardAnalysis(graph, options);
  refuseF16Without(gpu, options.f16Activations, 'run the forward in fp32');
  const binding = planBinding(gpu, options);
  const laid = layOut(a, options.batch, false, arenaCaps(binding, options.maxArenaBytes), recordInference, options.f16Activations);
  const { t } = laid;
  const arena = new Arena(gpu.device, laid.layout, laid.halfLayout, binding);
  const ctx = new KernelContext(gpu.device, arena, gpu.subgroupSize, gpu.pipelines);
  const dispatches = recordFor(ctx, laid, a, recordInference);
  const logits = t.values.get(graph.output)!;
  const probabilities = t.probabilities!;
  const [H, W] = graph.values[graph.input].shape;
  const statistics = movingStatisticNames(graph);
  return {
    arena,
    dispatches,
    pixels: t.pixels,
    logits,
    probabilities,
    params: t.params,
    setPixels(pixels) {
      if (pixels.length !== options.batch * H * W * 3) throw new Error(`engine forward: ${pixels.length} pixel values, the plan takes ${options.batch}×${H}×${W}×3`);
      arena.write(t.pixels, pixels);
    },
    run: () => encodeAndSubmit(arena, dispatches, 'forward'),
    async read() {
      const [l, p] = await arena.read([logits, probabilities]);
      return { logits: l, probabilities: p };
    },
    async readStatistics() {
      const data = await arena.read(statistics.map((name) => t.params.slots.get(name)!.value));
      return new Map(statistics.map((name, i) => [name, data[i]]));
    },
    copyParamsFrom(source) {
      const pairs = [...t.params.slots].map(([name, slot]) => {
        const from = source.params.slots.get(name);
        if (!from) throw new Error(`engine: the plan copied from has no weight ${name}`);
        return [from.value, slot.value] as const;
      });
      arena.copyFrom(source.arena, pairs);
    },
    loadWeights: (model) => loadWeightsFromModel(arena, t.params, model),
    destroy: () => arena.destroy(),
  };
}

/** Dispatches, pipelines and arena of the inference plan, without a device. */
export function countForward(graph: NetworkGraph, options: ForwardOptions): PlanCount {
  const a = forwardAnalysis(graph, options);
  return countOf(layOut(a, options.batch, false, arenaCaps(options.bindingBytes, options.maxArenaBytes), recordInference, options.f16Activations), a, recordInference);
}
