/**
 * Who computes a run's training steps. On WebGPU our static-graph engine (main/engine) does, for
 * full and top runs, unless the run asks for TF.js's WebGPU backend (engine 'tfjs', the fallback
 * rung); everywhere else, and in head mode, TF.js on the run's backend. A run that asked for
 * nothing and whose engine cannot start falls back to TF.js's WebGPU backend, saying why
 * (image-training.ts); one that asked for the engine fails instead.
 */
import type { TrainConfig } from '../contract/calls-train';

export type StepsEngine = 'tfjs' | 'effitune';

export function stepsEngineFor(config: Pick<TrainConfig, 'engine' | 'mode'>, backendName: string): StepsEngine {
  if (config.engine) return config.engine;
  return backendName === 'webgpu' && config.mode !== 'head' ? 'effitune' : 'tfjs';
}

