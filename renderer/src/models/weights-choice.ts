/**
 * What a run starts from, as the Train setup offers it: the pretrained weights of the model on this
 * machine ("auto" takes them when present), a weights file or model folder the user names, an
 * earlier run's model, or nothing (from scratch). `resolveWeights` turns the choice into
 * train.start's `weights` path and says in words what the run will use.
 */
import type { LocalWeights } from '../../../main/contract/calls-models';
import type { RunRecord } from '../../../main/contract/calls-data';
import { baseName, joinPath } from '../paths';
import { defaultWeights, weightsLabel } from './weights-words';

export type WeightsChoice =
  | { kind: 'auto' }
  | { kind: 'cache'; id: string }
  | { kind: 'run'; runId: number }
  | { kind: 'file'; path: string }
  | { kind: 'none' };

export const AUTO_WEIGHTS: WeightsChoice = { kind: 'auto' };

/** A stored choice from localStorage, checked field by field (anything else reads as auto). */
export function readWeightsChoice(value: unknown): WeightsChoice {
  const v = value as Partial<Record<string, unknown>> | null;
  if (!v || typeof v !== 'object') return AUTO_WEIGHTS;
  if (v.kind === 'cache' && typeof v.id === 'string') return { kind: 'cache', id: v.id };
  if (v.kind === 'run' && typeof v.runId === 'number') return { kind: 'run', runId: v.runId };
  if (v.kind === 'file' && typeof v.path === 'string') return { kind: 'file', path: v.path };
  if (v.kind === 'none') return { kind: 'none' };
  return AUTO_WEIGHTS;
}

/** The TF.js model folder a completed run leaves (run-folders.ts FINAL_MODEL_DIR). */
export function runModelDir(run: RunRecord): string | null {
  return run.status === 'completed' && run.checkpointDir ? joinPath(run.checkpointDir, 'model') : null;
}

/** Completed runs of this model, whose model can be the start of another run. */
export function runsOfModel(runs: readonly RunRecord[], model: string): RunRecord[] {
  return runs.filter((r) => r.variant === model && runModelDir(r) !== null);
}

export interface ResolvedWeights {
  /** train.start's weights; undefined = from scratch */
  path: string | undefined;
  /** what the run will start from, in words */
  words: string;
  /** the choice as it applies to this model: a choice of another model's weights falls back to auto */
  effective: WeightsChoice;
  /** the choice cannot be used as it stands (an empty path) */
  problem: string | null;
  /** the weights cache is still being read */
  pending: boolean;
}

export function resolveWeights(choice: WeightsChoice, model: string, cache: readonly LocalWeights[] | null, runs: readonly RunRecord[]): ResolvedWeights {
  const fromScratch = (why: string): ResolvedWeights => ({ path: undefined, words: why, effective: choice, problem: null, pending: false });
  if (choice.kind === 'none') return fromScratch('From scratch: every layer starts random.');
  if (choice.kind === 'file') {
    const path = choice.path.trim();
    if (!path) return { path: undefined, words: '', effective: choice, problem: 'give the path of a .h5 / .safetensors file or of a model folder', pending: false };
    return { path, words: `Starts from ${baseName(path)} (checked when the run starts).`, effective: choice, problem: null, pending: false };
  }
  if (choice.kind === 'run') {
    const run = runsOfModel(runs, model).find((r) => r.id === choice.runId);
    const dir = run ? runModelDir(run) : null;
    if (run && dir) return { path: dir, words: `Starts from the model of run #${run.id}: its backbone, with a new classifier.`, effective: choice, problem: null, pending: false };
  }
  if (choice.kind === 'cache' && cache) {
    const entry = cache.find((w) => w.id === choice.id && w.variant === model);
    if (entry) return { path: entry.file, words: `Starts from ${weightsLabel(entry)}.`, effective: choice, problem: null, pending: false };
  }
  // auto, or a choice that belongs to another model (or is gone): the pretrained weights when present
  if (cache === null) return { path: undefined, words: 'Looking for pretrained weights…', effective: AUTO_WEIGHTS, problem: null, pending: true };
  const found = defaultWeights(cache, model);
  if (found) return { path: found.file, words: `Starts from ${weightsLabel(found)}.`, effective: AUTO_WEIGHTS, problem: null, pending: false };
  return { ...fromScratch('From scratch: no pretrained weights for this model on this machine (download or import them in the Model tab).'), effective: AUTO_WEIGHTS };
}
