/**
 * The model the user picked for this project, kept in the UI (training reads it later). It lives
 * in localStorage per project path, so a reload, a new tab or the next start of the app shows the
 * same model (sessionStorage lasted one tab: a new tab showed B0 again); the project file does not
 * store it.
 */
import { readStoredJson, storeJson } from '../stored-json';
import { useCallback, useState } from 'react';
import { PAPER_SCALING } from '../../../main/contract/calls-models';
import { calls } from '../../../main/contract/contract';

export interface CustomScaling {
  phi: number;
  alpha: number;
  beta: number;
  gamma: number;
  /**
   * The network φ scales from: B0 scaled by the paper's coefficients to this φ. Absent (or 0): B0.
   * A family kept from a search (the Lab) has its search's tiny base, so its φ 1 is the model it measured.
   */
  basePhi?: number;
}

export interface ModelSelection {
  /** a named variant id (b0, v2-s, …) or CUSTOM for the compound-scaling panel's network */
  variant: string;
  custom: CustomScaling;
  batch: number;
}

export const CUSTOM = 'custom';
/** The paper's constants, the panel's starting point: the defaults models.describe itself assumes. */
export { PAPER_SCALING };
/** φ moves in quarter steps in the UI (slider and field); the contract takes any φ within PHI_RANGE. */
export const PHI_STEP = 0.25;
/** models.list's batch field: its default (32) and limits are the UI's too */
const batchField = calls['models.list'].input.shape.batch;
export const BATCH_SIZE = batchField.unwrap();
export const DEFAULT_BATCH: number = batchField.parse(undefined);
export const DEFAULT_SELECTION: ModelSelection = { variant: 'b0', custom: { phi: 0, ...PAPER_SCALING }, batch: DEFAULT_BATCH };

const storageKey = (project: string) => `effitune.model:${project}`;

function read(project: string): ModelSelection {
  const stored = readStoredJson<ModelSelection>(storageKey(project));
  return stored && typeof stored.variant === 'string' && stored.custom && Number.isFinite(stored.batch) ? ({ ...DEFAULT_SELECTION, ...stored } as ModelSelection) : DEFAULT_SELECTION;
}

export function useModelSelection(project: string): [ModelSelection, (next: ModelSelection) => void] {
  const [selection, setSelection] = useState(() => read(project));
  const update = useCallback(
    (next: ModelSelection) => {
      storeJson(storageKey(project), next);
      setSelection(next);
    },
    [project],
  );
  return [selection, update];
}

/** α·β²·γ²: FLOPs grow about this to the power φ; the paper keeps it ≈ 2. */
export function flopsGrowthPerPhi({ alpha, beta, gamma }: Pick<CustomScaling, 'alpha' | 'beta' | 'gamma'>): number {
  return alpha * beta * beta * gamma * gamma;
}

/** Within ±10 % of 2 counts as honouring the paper's constraint. */
export function meetsConstraint(growth: number): boolean {
  return Math.abs(growth / 2 - 1) <= 0.1;
}
