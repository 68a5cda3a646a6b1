/**
 * The Effitune engine's step plan for a run's configuration: its network graph and step options
 * (what engine-steps.ts plans on the GPU), and the GPU memory of that plan at a batch, counted
 * without a GPU or TF.js, which the start batch is chosen by (memory.ts): the server's estimator
 * uses it too, so nothing here loads TF.js.
 */
import type { TrainConfig } from '../contract/calls-train';
import { ArenaTooLarge } from '../engine/arena';
import { buildNetworkGraph, type NetworkGraph } from '../engine/plan/network-graph';
import { countTrainingStep, type TrainingStepOptions } from '../engine/plan/step-plan';
import type { BuildOptions } from '../model/build-options';
import type { VariantSpec } from '../model/variants';
import { trainingLayerTest } from './trainable-layers';

/**
 * EFFITUNE_ENGINE_ARENA_BYTES: plan as if the GPU's largest storage binding held only this many
 * bytes (to try what fits a smaller GPU, and for tests); unset: the GPU's own limit.
 */
export function engineArenaLimit(): number | undefined {
  const raw = process.env.EFFITUNE_ENGINE_ARENA_BYTES;
  const bytes = raw ? Number(raw) : NaN;
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}

export function engineGraph(variant: VariantSpec, config: TrainConfig, buildOptions: BuildOptions): NetworkGraph {
  const graph = buildNetworkGraph(variant, buildOptions);
  if (config.bnMomentum === null) return graph;
  // the run's own BatchNorm momentum (model-setup.ts sets it on the model's layers)
  const momentum = config.bnMomentum;
  return { ...graph, nodes: graph.nodes.map((n) => (n.kind === 'batchNorm' ? { ...n, momentum } : n)) };
}

/** The engine's step options for a run's configuration: what startEngineSteps plans and engineStepBytes counts. */
export function engineStepOptions(config: TrainConfig, variant: VariantSpec, batch: number, classWeights: Float32Array | null): TrainingStepOptions {
  if (config.mode === 'head') throw new Error('the engine trains mode full or top');
  return {
    batch,
    mode: config.mode,
    trainable: trainingLayerTest(variant, config),
    freezeBatchNorm: config.freezeBatchNorm,
    optimizer: { kind: config.optimizer === 'sgd' ? 'sgd' : 'adam', weightDecay: config.optimizer === 'sgd' ? 0 : config.weightDecay },
    labelSmoothing: config.labelSmoothing,
    classWeights,
    seed: config.seed,
    maxArenaBytes: engineArenaLimit(),
    f16Activations: config.precision === 'mixed',
  };
}

/**
 * The GPU memory of the engine's training step for this run at each batch: its plan laid out and
 * counted (tensors shared by lifetime, float16 activations in mixed precision), nothing compiled,
 * no GPU needed; tens of milliseconds for B0. What the start batch is chosen by for an engine run
 * (memory.ts): TF.js's estimate keeps every intermediate of the step and is ~12× the engine's.
 */
export function engineStepBytes(config: TrainConfig, variant: VariantSpec): (batch: number) => number {
  // what the run builds (model-setup.ts); imported weights change its padding and preprocessing, not its memory
  const graph = engineGraph(variant, config, { classes: config.classes.length, includeTop: true, resolution: config.resolution, dropout: config.dropout, dropConnect: config.dropConnect, seed: config.seed });
  const classWeights = config.imbalance === 'weights' ? new Float32Array(config.classes.length).fill(1) : null;
  return (batch) => {
    try {
      return countTrainingStep(graph, { ...engineStepOptions(config, variant, batch, classWeights), maxArenaBytes: undefined }).arenaBytes;
    } catch (err) {
      // more than the engine can address (u32 element offsets): no GPU holds it at this batch
      if (err instanceof ArenaTooLarge) return Infinity;
      throw err;
    }
  };
}
