/**
 * Training steps on our own WebGPU engine (main/engine) instead of TF.js, for runs with
 * engine: 'effitune'. The tf.layers model stays the run's model: the engine loads its weights when
 * the run starts (from scratch, imported weights or a resumed checkpoint alike) and writes them
 * back after every validation, so checkpoints, resume, evaluation and export read the model as they
 * always do. Precise BN and validation themselves run on the engine (recalibrate, openInference):
 * forward plans at the step's batch over the step's weights, copied GPU to GPU, each made for the
 * call and freed after it (their kernels are the step's, compiled once per device), so the GPU holds
 * the step's arena and at most one of them. In mixed precision they store float16 activations as the
 * step does (validation under autocast, as timm validates an AMP run).
 *
 * One plan per run at the batch it starts with: every step is one submit of the same recorded
 * dispatches over one arena. Batches are full (the pipeline drops a last, smaller batch: a
 * smaller one would need a second plan and a second copy of the weights).
 *
 * The optimizer's state travels in the TF.js optimizer's own format, so a checkpoint is the same
 * whoever trained it: at the start the engine takes the steps and moments the run's TF.js optimizer
 * holds (restored from the checkpoint on a resume; nothing on a new run), and every checkpoint
 * saves the engine's, named and ordered as tf.train.adam / tf.train.momentum name theirs.
 *
 * The loss and correct count accumulate on the GPU and are read every METRICS_EVERY steps (and by
 * readPending before a validation): a read waits for the GPU to finish, so reading after every step
 * would leave it idle while the host writes the next batch. Between reads a step only submits; the
 * queue orders the next batch's upload after the step before it.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TrainConfig } from '../contract/calls-train';
import { deviceBindingBytes, openEngineDevice, type EngineDevice } from '../engine/gpu-device';
import { ArenaTooLarge } from '../engine/arena';
import type { ArenaPaging } from '../engine/arena-pages';
import { countForward, countTrainingStep, planForward, planTrainingStep, type ForwardPlan, type StepPlan } from '../engine/plan/step-plan';
import type { NetworkGraph } from '../engine/plan/network-graph';
import { batchNormTrains, engineForwardOptions, engineGraph, engineStepOptions } from './engine-options';
import type { VariantSpec } from '../model/variants';
import type { LossOptions } from './loss';
import type { TrainingModel } from './model-setup';
import type { ReadMetrics } from './steps';
import type { NamedTensor, TrainOptimizer } from './optimizer';
import * as tf from '@tensorflow/tfjs-core';

export interface EngineSteps {
  readonly batch: number;
  /** what the run's notes say about it */
  readonly description: string;
  /** the arena: every tensor of the step, the GPU memory the engine holds while it trains */
  readonly arenaBytes: number;
  /** the arena of the forward plan beside it after each epoch (Precise BN's, else validation's: the larger) */
  readonly forwardArenaBytes: number;
  /** one step; the metrics of the steps since the last read when this one read them, else null */
  step(x: Float32Array, y: Int32Array, lr: number): Promise<ReadMetrics | null>;
  /** the metrics of the steps not read yet (null: none), waiting for the GPU */
  readPending(): Promise<ReadMetrics | null>;
  /** the engine's weights (and BatchNorm statistics) into the tf.layers model */
  syncToModel(): Promise<void>;
  /**
   * Precise BN on the engine (precise-batch-norm.ts): the BatchNorm statistics of each batch of
   * `batches` (`batch` images each, pixels) under the current weights, averaged, replace the
   * step's moving statistics of the weights named in `names`. Its plan lives for the call.
   */
  recalibrate(batches: AsyncIterable<Float32Array>, names: ReadonlySet<string>): Promise<void>;
  /** An inference plan over the current weights (copied GPU to GPU), for one validation; close() frees it. */
  openInference(): EngineInference;
  /** the engine's optimizer state as the TF.js optimizer names and orders it (fresh tensors: the caller disposes them) */
  optimizerState(): Promise<NamedTensor[]>;
  dispose(): void;
}

/**
 * The TF.js optimizer's steps and moments into the plan: on a resume, what the checkpoint saved
 * (run-setup restored it into the TF.js optimizer); on a new run there are none and the engine
 * starts at step 0 with zero moments. The optimizer's variables are the model's trainable weights in
 * their order (model-setup.ts prepareForMode), which is the order its moments are saved in.
 */
async function takeOptimizerState(plan: StepPlan, model: tfl.LayersModel, optimizer: TrainOptimizer): Promise<void> {
  const saved = await optimizer.state();
  try {
    const names = model.trainableWeights.map((w) => w.originalName);
    const perWeight = optimizer.name === 'sgd' ? 1 : 2;
    const iter = saved.find((s) => s.name === 'iter');
    const moments = saved.filter((s) => s !== iter);
    if (moments.length === 0) return;
    if (moments.length !== perWeight * names.length) throw new Error(`the checkpoint's optimizer state has ${moments.length} moments for ${names.length} trained weights`);
    const data = (await Promise.all(moments.map((s) => s.tensor.data()))) as Float32Array[];
    plan.writeOptimizerState(names, { steps: iter ? Number((await iter.tensor.data())[0]) : 0, m: data.slice(0, names.length), v: perWeight === 2 ? data.slice(names.length) : null });
  } finally {
    // the iteration count is a fresh scalar; the moments are the optimizer's own variables
    if (saved[0]?.name === 'iter') saved[0].tensor.dispose();
  }
}

export interface EngineInference {
  /** the softmax of up to `batch` images ([n, H, W, 3] pixels): [n, classes] */
  probabilities(pixels: Float32Array, n: number): Promise<Float32Array>;
  close(): void;
}

/** Steps between reads of the GPU's metric sums (the first step after a read is read at once, so progress shows early). */
export const METRICS_EVERY = 8;

/** The plan at this batch does not fit the GPU (its arena exceeds a storage binding, or the device ran out of memory): a smaller batch may. */
export class EngineDoesNotFit extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineDoesNotFit';
  }
}

export function engineDoesNotFit(err: unknown): boolean {
  return err instanceof EngineDoesNotFit || err instanceof ArenaTooLarge;
}

/** A read from the GPU that failed because the device was lost says so (and how to go on); other failures pass as they are. */
async function fromGpu<T>(gpu: EngineDevice, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (await gpu.lost()) throw new Error(`WebGPU: ${gpu.error()}`);
    throw err;
  }
}

/**
 * An fp32 step whose arena does not fit what the GPU's storage bindings hold, where the same step with float16
 * activations would at this batch (the adapter has shader-f16): the error says so, and the run's
 * note that halves the batch with it. Other errors are returned as they are.
 */
function mixedWouldFit(err: unknown, gpu: EngineDevice, graph: NetworkGraph, config: TrainConfig, variant: VariantSpec, batch: number, classWeighted: boolean): unknown {
  if (!(err instanceof ArenaTooLarge) || config.precision === 'mixed' || !gpu.features.f16) return err;
  const classWeights = classWeighted ? new Float32Array(config.classes.length).fill(1) : null;
  try {
    countTrainingStep(graph, { ...engineStepOptions({ ...config, precision: 'mixed' }, variant, batch, classWeights), bindingBytes: deviceBindingBytes(gpu) });
  } catch (mixedErr) {
    if (mixedErr instanceof ArenaTooLarge) return err;
    throw mixedErr;
  }
  return new EngineDoesNotFit(`${err.message}; precision mixed (float16 activations) fits batch ${batch} on this GPU`);
}

/** How an arena larger than one storage binding is held, in words ('' where it fits one). */
function pagedWords(paging: ArenaPaging): string {
  const parts = [paging.f32Pages > 1 ? `${paging.f32Pages} float32 pages of ${2 ** (paging.f32Shift + 2) / 2 ** 20} MiB` : null, paging.halfPages > 1 ? `${paging.halfPages} float16 pages of ${2 ** (paging.halfShift + 1) / 2 ** 20} MiB` : null].filter(Boolean);
  return parts.length > 0 ? ` in ${parts.join(' and ')}, as one storage binding holds less` : '';
}

/** The steps on a device of their own (`openDevice`: openEngineDevice; tests pass one they hold), released by dispose. */
export async function startEngineSteps(config: TrainConfig, built: TrainingModel, loss: LossOptions, batch: number, optimizer: TrainOptimizer, openDevice: () => Promise<EngineDevice> = openEngineDevice): Promise<EngineSteps> {
  if (config.mode === 'head') throw new Error('the engine trains mode full or top');
  const gpu = await openDevice();
  const mixed = config.precision === 'mixed';
  let plan: StepPlan | null = null;
  const graph = engineGraph(built.variant, config, built.buildOptions);
  try {
    if (mixed && !gpu.features.f16) throw new Error(`precision mixed stores float16 activations, and this GPU (${gpu.adapter.device}) has no shader-f16: train with precision fp32`);
    const classWeights = loss.classWeights ? Float32Array.from(await loss.classWeights.data()) : null;
    plan = planTrainingStep(gpu, graph, engineStepOptions(config, built.variant, batch, classWeights));
    await plan.loadWeights(built.model);
    await takeOptimizerState(plan, built.model, optimizer);
    const error = gpu.error();
    if (error) throw /out of memory/i.test(error) ? new EngineDoesNotFit(`the GPU ran out of memory for the step plan at batch ${batch}: ${error}`) : new Error(`the WebGPU device refused the step plan: ${error}`);
  } catch (err) {
    plan?.destroy();
    const hinted = mixedWouldFit(err, gpu, graph, config, built.variant, batch, loss.classWeights !== null);
    gpu.release();
    throw hinted;
  }
  const ready = plan;
  const arenaBytes = ready.arena.bytes;
  const model: tfl.LayersModel = built.model;
  let unread = 0;
  let readOnce = false;
  const read = async (): Promise<ReadMetrics | null> => {
    if (unread === 0) return null;
    const { loss: sum, correct } = await fromGpu(gpu, () => ready.readMetrics());
    const error = gpu.error();
    if (error) throw new Error(`WebGPU: ${error}`);
    const n = unread * batch;
    unread = 0;
    readOnce = true;
    return { loss: sum / n, correct, n };
  };
  /** a forward plan at the step's batch over the step's current weights; one the GPU cannot hold is EngineDoesNotFit */
  const forwardPlan = (batchStatistics: boolean): ForwardPlan => {
    const plan = planForward(gpu, graph, engineForwardOptions(config, batch, batchStatistics));
    plan.copyParamsFrom(ready);
    const error = gpu.error();
    if (error) {
      plan.destroy();
      throw /out of memory/i.test(error) ? new EngineDoesNotFit(`the GPU ran out of memory for the ${batchStatistics ? 'BatchNorm statistics' : 'validation'} plan at batch ${batch}: ${error}`) : new Error(`the WebGPU device refused the ${batchStatistics ? 'BatchNorm statistics' : 'validation'} plan: ${error}`);
    }
    return plan;
  };
  const forwardArenaBytes = countForward(graph, engineForwardOptions(config, batch, batchNormTrains(config))).arenaBytes;
  const [H, W] = graph.values[graph.input].shape;
  const classes = graph.values[graph.output].shape[2];
  return {
    batch,
    arenaBytes,
    forwardArenaBytes,
    description: `training steps on the Effitune WebGPU engine (${gpu.adapter.device}): ${ready.dispatchCount} dispatches per step in one command buffer, arena ${Math.round(arenaBytes / 2 ** 20)} MiB${pagedWords(ready.arena.paging)} (and ${Math.round(forwardArenaBytes / 2 ** 20)} MiB after each epoch for Precise BN and validation, on the engine too), batch ${batch}, ${mixed ? 'mixed precision (float16 activations, float32 weights and arithmetic)' : 'fp32'} with ${gpu.subgroupSize > 0 ? `subgroup reductions (subgroups of ${gpu.subgroupSize} checked)` : `shared-memory reductions (${gpu.subgroupsOff})`}`,
    async step(x, y, lr) {
      if (y.length !== batch) throw new Error(`the engine's plan takes batches of ${batch}, got ${y.length}`);
      ready.setBatch(x, y);
      ready.step(lr);
      unread++;
      const error = gpu.error();
      if (error) throw new Error(`WebGPU: ${error}`);
      return !readOnce || unread >= METRICS_EVERY ? read() : null;
    },
    readPending: async () => {
      const metrics = await read();
      readOnce = false;
      return metrics;
    },
    syncToModel: () => fromGpu(gpu, () => ready.saveWeights(model)),
    async recalibrate(batches, names) {
      const plan = forwardPlan(true);
      try {
        const sums = new Map<string, Float64Array>();
        let k = 0;
        for await (const pixels of batches) {
          plan.setPixels(pixels);
          plan.run();
          // moving ← the batch's own statistics (momentum 0): read and averaged here, a few kB per BatchNorm
          for (const [name, values] of await fromGpu(gpu, () => plan.readStatistics())) {
            if (!names.has(name)) continue;
            const sum = sums.get(name) ?? sums.set(name, new Float64Array(values.length)).get(name)!;
            for (let i = 0; i < values.length; i++) sum[i] += values[i];
          }
          k++;
        }
        const error = gpu.error();
        if (error) throw new Error(`WebGPU: ${error}`);
        if (k === 0) return;
        for (const [name, sum] of sums) ready.arena.write(ready.params.slots.get(name)!.value, Float32Array.from(sum, (v) => v / k));
      } finally {
        plan.destroy();
      }
    },
    openInference() {
      const plan = forwardPlan(false);
      const padded = new Float32Array(batch * H * W * 3);
      return {
        async probabilities(pixels, n) {
          if (n < 1 || n > batch || pixels.length !== n * H * W * 3) throw new Error(`the engine's validation plan takes up to ${batch} images of ${H}×${W}×3, got ${pixels.length} values for ${n}`);
          // a last, smaller batch fills the plan's batch with black images (inference treats each image alone)
          if (n < batch) {
            padded.set(pixels);
            padded.fill(0, pixels.length);
          }
          plan.setPixels(n < batch ? padded : pixels);
          plan.run();
          const { probabilities } = await fromGpu(gpu, () => plan.read());
          const error = gpu.error();
          if (error) throw new Error(`WebGPU: ${error}`);
          return probabilities.subarray(0, n * classes);
        },
        close: () => plan.destroy(),
      };
    },
    async optimizerState() {
      const weights = model.trainableWeights;
      const state = await fromGpu(gpu, () => ready.readOptimizerState(weights.map((w) => w.originalName)));
      const named = (suffix: string, data: Float32Array[]) => weights.map((w, i) => ({ name: `${(w.read() as tf.Variable).name}/${suffix}`, tensor: tf.tensor(data[i], w.shape as number[], 'float32') }));
      // tfjs-core's saveIterations: the step count as an int32 scalar named 'iter', then the moments
      const iter = { name: 'iter', tensor: tf.scalar(state.steps, 'int32') };
      return state.v ? [iter, ...named('m', state.m), ...named('v', state.v)] : [iter, ...named('momentum', state.m)];
    },
    dispose() {
      ready.destroy();
      gpu.release();
    },
  };
}
