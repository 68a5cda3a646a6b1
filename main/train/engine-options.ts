/**
 * The Effitune engine's step plan for a run's configuration: its network graph and step options
 * (what engine-steps.ts plans on the GPU), and the GPU memory of that plan at a batch, counted
 * without a GPU or TF.js, which the start batch is chosen by (memory.ts): the server's estimator
 * uses it too, so nothing here loads TF.js.
 */
import type { BackendName } from '../contract/calls-backend';
import type { TrainConfig } from '../contract/calls-train';
import { ArenaTooLarge } from '../engine/arena';
import { arenaCapacity } from '../engine/arena-pages';
import { buildNetworkGraph, type NetworkGraph } from '../engine/plan/network-graph';
import { countForward, countTrainingStep, type ForwardOptions, type TrainingStepOptions } from '../engine/plan/step-plan';
import type { BuildOptions } from '../model/build-options';
import type { VariantSpec } from '../model/variants';
import { stepsEngineFor } from './steps-engine';
import { trainingLayerTest } from './trainable-layers';

/**
 * EFFITUNE_ENGINE_ARENA_BYTES: plan as if each of the engine's arenas could hold only this many
 * bytes on the GPU (to try what fits a smaller GPU, and for tests); unset: what the GPU's storage
 * bindings hold, paged (arena-pages.ts).
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

/** The engine's forward plan for a run (Precise BN's with batchStatistics, else validation's): what startEngineSteps plans and engineStepBytes counts. */
export function engineForwardOptions(config: Pick<TrainConfig, 'precision'>, batch: number, batchStatistics: boolean): ForwardOptions {
  return { batch, batchStatistics, maxArenaBytes: engineArenaLimit(), f16Activations: config.precision === 'mixed' };
}

/** Counted plans by what changes their memory (and the batch, and the binding they were held to); a few hundred milliseconds each for the large variants, asked for again on every estimate. */
const counted = new Map<string, number>();
const MOST_COUNTED = 256;

/** Whether an engine run's BatchNorms train (use batch statistics): then Precise BN recomputes their statistics after each epoch. */
export function batchNormTrains(config: Pick<TrainConfig, 'mode' | 'freezeBatchNorm'>): boolean {
  return config.mode === 'full' && !config.freezeBatchNorm;
}

/**
 * The bytes of a run's training step and, beside it after each epoch, the forward plan it
 * validates on (Precise BN's while BatchNorm trains), at a batch: the plans laid out and counted,
 * nothing compiled, no GPU needed. With `binding`, each arena is held to what storage bindings of
 * that size hold (paged, arena-pages.ts; and to maxArenaBytes): Infinity where one does not fit;
 * without it, Infinity where the engine cannot address the plan (u32 element offsets). Cached.
 */
function countedPlans(config: TrainConfig, variant: VariantSpec): (batch: number, binding?: { bindingBytes: number; maxArenaBytes?: number }) => number {
  const c = config;
  const key = JSON.stringify([variant.id, c.resolution, c.classes.length, c.mode, c.topBlocks, c.freezeBatchNorm, c.optimizer, c.imbalance === 'weights', c.precision ?? 'fp32', c.dropout, c.dropConnect]);
  let graph: NetworkGraph | null = null;
  return (batch, binding) => {
    const at = `${key}@${batch}/${binding ? `${binding.bindingBytes}/${binding.maxArenaBytes ?? 'any'}` : 'any'}`;
    const known = counted.get(at);
    if (known !== undefined) return known;
    // what the run builds (model-setup.ts); imported weights change its padding and preprocessing, not its memory
    graph ??= engineGraph(variant, config, { classes: c.classes.length, includeTop: true, resolution: c.resolution, dropout: c.dropout, dropConnect: c.dropConnect, seed: c.seed });
    const classWeights = c.imbalance === 'weights' ? new Float32Array(c.classes.length).fill(1) : null;
    let bytes: number;
    try {
      const held = { bindingBytes: binding?.bindingBytes, maxArenaBytes: binding?.maxArenaBytes };
      const step = countTrainingStep(graph, { ...engineStepOptions(config, variant, batch, classWeights), ...held }).arenaBytes;
      const forward = countForward(graph, { ...engineForwardOptions(config, batch, batchNormTrains(config)), ...held }).arenaBytes;
      bytes = step + forward;
    } catch (err) {
      if (!(err instanceof ArenaTooLarge)) throw err;
      bytes = Infinity;
    }
    if (counted.size >= MOST_COUNTED) counted.clear();
    counted.set(at, bytes);
    return bytes;
  };
}

/**
 * The GPU memory of the engine's training step for this run at each batch, with the forward plan
 * it validates on after each epoch (engine-steps.ts), counted (tensors shared by lifetime, float16
 * activations in mixed precision). What the start batch of an engine run is chosen by (memory.ts):
 * TF.js's estimate keeps every intermediate of the step and is ~12× the engine's. Infinity: more
 * than the engine can address at that batch.
 */
export function engineStepBytes(config: TrainConfig, variant: VariantSpec): (batch: number) => number {
  const count = countedPlans(config, variant);
  return (batch) => count(batch);
}

/** Whether an engine run's plans fit a GPU's storage bindings at a batch, and the most its arenas hold there (for the reason). */
export interface EngineBinding {
  /** the most one arena may hold on that GPU (its bindings, paged; EFFITUNE_ENGINE_ARENA_BYTES if smaller) */
  readonly maxArenaBytes: number;
  fits(batch: number): boolean;
}

/**
 * Whether the engine's training step and the forward plan it validates on fit, at a batch, a GPU
 * whose storage bindings hold `maxBindingBytes`: an arena beyond one binding is paged, up to a few
 * bindings (arena-pages.ts), whatever the GPU's memory; EFFITUNE_ENGINE_ARENA_BYTES holds each
 * arena below it. What the start batch is halved by beside memory.
 */
export function engineBinding(config: TrainConfig, variant: VariantSpec, maxBindingBytes: number): EngineBinding {
  const limit = engineArenaLimit();
  const count = countedPlans(config, variant);
  return {
    maxArenaBytes: Math.min(arenaCapacity(maxBindingBytes).f32, limit ?? Infinity),
    fits: (batch) => Number.isFinite(count(batch, { bindingBytes: maxBindingBytes, maxArenaBytes: limit })),
  };
}

/** engineBinding for a run the engine trains on `backend`, where the backend reports its largest binding; undefined elsewhere. */
export function engineBindingOn(config: TrainConfig, variant: VariantSpec, backend: { name: BackendName; maxBindingBytes?: number }): EngineBinding | undefined {
  if (stepsEngineFor(config, backend.name) !== 'effitune') return undefined;
  if (backend.maxBindingBytes === undefined && engineArenaLimit() === undefined) return undefined;
  return engineBinding(config, variant, backend.maxBindingBytes ?? Number.MAX_SAFE_INTEGER);
}

/** engineStepBytes for a run the engine trains on `backend` (steps-engine.ts); undefined where TF.js computes its steps. */
export function engineStepBytesOn(config: TrainConfig, variant: VariantSpec, backend: BackendName): ((batch: number) => number) | undefined {
  return stepsEngineFor(config, backend) === 'effitune' ? engineStepBytes(config, variant) : undefined;
}
