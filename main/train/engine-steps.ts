/**
 * Training steps on our own WebGPU engine (main/engine) instead of TF.js, for runs with
 * engine: 'effitune'. The tf.layers model stays the run's model: the engine loads its weights when
 * the run starts (from scratch, imported weights or a resumed checkpoint alike) and writes them
 * back before every validation, so Precise BN, validation, checkpoints, resume, evaluation and
 * export read the model as they always do.
 *
 * One plan per run at the batch it starts with: every step is one submit of the same recorded
 * dispatches over one arena. Batches are full (the pipeline drops a last, smaller batch: a
 * smaller one would need a second plan and a second copy of the weights). What is not carried
 * over yet: the optimizer's moments start at zero on resume (the TF.js path restores them), and the
 * loss and accuracy of each step are read back after it (one small readback per step) rather than
 * every few steps.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TrainConfig } from '../contract/calls-train';
import { openEngineDevice, type EngineDevice } from '../engine/gpu-device';
import { buildNetworkGraph, type NetworkGraph } from '../engine/plan/network-graph';
import { planTrainingStep, type StepPlan } from '../engine/plan/step-plan';
import type { VariantSpec } from '../model/variants';
import type { LossOptions } from './loss';
import { trainingLayerTest, type TrainingModel } from './model-setup';
import type { StepResult } from './steps';

export interface EngineSteps {
  readonly batch: number;
  /** what the run's notes say about it */
  readonly description: string;
  step(x: Float32Array, y: Int32Array, lr: number): Promise<StepResult>;
  /** the engine's weights (and BatchNorm statistics) into the tf.layers model */
  syncToModel(): Promise<void>;
  dispose(): void;
}

function graphFor(variant: VariantSpec, config: TrainConfig, built: TrainingModel): NetworkGraph {
  const graph = buildNetworkGraph(variant, built.buildOptions);
  if (config.bnMomentum === null) return graph;
  // the run's own BatchNorm momentum (model-setup.ts sets it on the model's layers)
  const momentum = config.bnMomentum;
  return { ...graph, nodes: graph.nodes.map((n) => (n.kind === 'batchNorm' ? { ...n, momentum } : n)) };
}

export async function startEngineSteps(config: TrainConfig, built: TrainingModel, loss: LossOptions, batch: number): Promise<EngineSteps> {
  if (config.mode === 'head') throw new Error('the engine trains mode full or top');
  const gpu: EngineDevice = await openEngineDevice();
  let plan: StepPlan | null = null;
  try {
    const classWeights = loss.classWeights ? Float32Array.from(await loss.classWeights.data()) : null;
    const trains = trainingLayerTest(built.variant, config);
    plan = planTrainingStep(gpu, graphFor(built.variant, config, built), {
      batch,
      mode: config.mode,
      trainable: trains,
      freezeBatchNorm: config.freezeBatchNorm,
      optimizer: { kind: config.optimizer === 'sgd' ? 'sgd' : 'adam', weightDecay: config.optimizer === 'sgd' ? 0 : config.weightDecay },
      labelSmoothing: config.labelSmoothing,
      classWeights,
      seed: config.seed,
    });
    plan.loadWeights(built.model);
    const error = gpu.error();
    if (error) throw new Error(`the WebGPU device refused the step plan: ${error}`);
  } catch (err) {
    plan?.destroy();
    gpu.release();
    throw err;
  }
  const ready = plan;
  const model: tfl.LayersModel = built.model;
  return {
    batch,
    description: `training steps on the Effitune WebGPU engine (${gpu.adapter.device}): ${ready.dispatchCount} dispatches per step in one command buffer, arena ${Math.round(ready.arena.layout.bytes / 2 ** 20)} MiB, batch ${batch}`,
    async step(x, y, lr) {
      if (y.length !== batch) throw new Error(`the engine's plan takes batches of ${batch}, got ${y.length}`);
      ready.setBatch(x, y);
      ready.step(lr);
      const { loss: sum, correct } = await ready.readMetrics();
      const error = gpu.error();
      if (error) throw new Error(`WebGPU: ${error}`);
      return { loss: sum / batch, correct };
    },
    syncToModel: () => ready.saveWeights(model),
    dispose() {
      ready.destroy();
      gpu.release();
    },
  };
}
