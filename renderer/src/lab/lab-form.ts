/**
 * The Lab's setup form: what the user typed, and how it becomes scale.start's options. Empty
 * fields are left out so the engine takes its default (shown as the field's placeholder, read
 * from the contract); the FLOPs budget is typed in M multiply-adds and sent as multiply-adds.
 */
import { SearchOptions, type SearchGrid } from '../../../main/contract/calls-scaling';
import type { BackendName } from '../../../main/contract/calls-backend';
import { Precision } from '../../../main/contract/calls-train';
import { readStoredJson, storeJson } from '../stored-json';

export interface LabForm {
  grid: SearchGrid;
  /** '' = the best backend here that can train */
  backend: BackendName | '';
  /** every candidate's: fp32, or mixed (float16 activations on the engine) */
  precision: Precision;
  /** text fields: '' = the engine's default */
  budgetMinutes: string;
  budgetMegaFlops: string;
  subset: string;
  valSubset: string;
  epochs: string;
  repeats: string;
  maxCandidates: string;
  seed: string;
  phi: string;
  basePhi: string;
  batch: string;
  tolerance: string;
}

export type LabField = Exclude<keyof LabForm, 'grid' | 'backend' | 'precision'>;
export type LabProblems = Partial<Record<LabField, string>>;

const fields = SearchOptions.shape;

/** The engine's default of a field as text ('' where it has none: it is chosen from the data or the budget). */
function defaultText(field: keyof typeof fields): string {
  const parsed = fields[field].safeParse(undefined);
  return parsed.success && parsed.data !== undefined ? String(parsed.data) : '';
}

/** What an empty field means, as its placeholder: the engine's default, or its words for "none". */
export const FORM_DEFAULTS: Record<LabField, string> = {
  budgetMinutes: 'none',
  budgetMegaFlops: 'none',
  subset: defaultText('subset'),
  valSubset: defaultText('valSubset'),
  epochs: defaultText('epochs'),
  repeats: defaultText('repeats'),
  maxCandidates: 'all',
  seed: defaultText('seed'),
  phi: defaultText('phi'),
  basePhi: 'auto',
  batch: defaultText('batch'),
  tolerance: defaultText('tolerance'),
};

export const DEFAULT_LAB_FORM: LabForm = {
  grid: fields.grid.parse(undefined),
  backend: '',
  precision: 'fp32',
  budgetMinutes: '',
  budgetMegaFlops: '',
  subset: '',
  valSubset: '',
  epochs: '',
  repeats: '',
  maxCandidates: '',
  seed: '',
  phi: '',
  basePhi: '',
  batch: '',
  tolerance: '',
};

/** The contract's sentence about a field, for a tooltip. */
export function fieldHint(field: keyof typeof fields): string {
  return fields[field].description ?? '';
}

const WHOLE: Record<LabField, boolean> = {
  budgetMinutes: false,
  budgetMegaFlops: false,
  subset: true,
  valSubset: true,
  epochs: true,
  repeats: true,
  maxCandidates: true,
  seed: true,
  phi: false,
  basePhi: false,
  batch: true,
  tolerance: false,
};

/** '' stays undefined; anything else must read as a number (ranges are the engine's to check, in its words). */
function readNumber(text: string, whole: boolean): number | undefined | string {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return 'not a number';
  if (whole && !Number.isInteger(value)) return 'a whole number';
  return value;
}

export function toSearchOptions(form: LabForm): { options: SearchOptions; problems: LabProblems } {
  const problems: LabProblems = {};
  const numbers: Partial<Record<LabField, number>> = {};
  for (const field of Object.keys(WHOLE) as LabField[]) {
    const value = readNumber(form[field], WHOLE[field]);
    if (typeof value === 'string') problems[field] = value;
    else if (value !== undefined) numbers[field] = value;
  }
  const options: SearchOptions = {
    grid: form.grid,
    budgetMinutes: numbers.budgetMinutes,
    budgetFlops: numbers.budgetMegaFlops === undefined ? undefined : numbers.budgetMegaFlops * 1e6,
    subset: numbers.subset,
    valSubset: numbers.valSubset,
    epochs: numbers.epochs,
    repeats: numbers.repeats,
    maxCandidates: numbers.maxCandidates,
    seed: numbers.seed,
    phi: numbers.phi,
    basePhi: numbers.basePhi,
    batch: numbers.batch,
    tolerance: numbers.tolerance,
    backend: form.backend === '' ? undefined : form.backend,
    precision: form.precision === 'mixed' ? 'mixed' : undefined,
  };
  return { options, problems };
}

const storageKey = (project: string) => `effitune.labForm:${project}`;

/** The form as the user left it, per project (localStorage, like the training form). */
export function readLabForm(project: string): LabForm {
  const stored = readStoredJson<LabForm>(storageKey(project));
  if (!stored || (stored.grid !== 'coarse' && stored.grid !== 'fine')) return DEFAULT_LAB_FORM;
  const form = { ...DEFAULT_LAB_FORM, ...stored };
  // a form stored before precision could be chosen, or edited by hand
  return Precision.safeParse(form.precision).success ? form : { ...form, precision: DEFAULT_LAB_FORM.precision };
}

export function storeLabForm(project: string, form: LabForm): void {
  storeJson(storageKey(project), form);
}
