/**
 * The training setup form: what the user typed, and how it becomes train.start's options. Empty
 * fields are left out so the engine picks its default for the model and mode (the contract's
 * descriptions, shown as hints, say what those are).
 */
import { readStoredJson, storeJson } from '../stored-json';
import { defaultTrainMode, TrainOptions, type OptimizerName, type Precision, type TrainMode } from '../../../main/contract/calls-train';
import { Augmentation } from '../../../main/contract/calls-data';
import type { BackendName } from '../../../main/contract/calls-backend';
import { AUTO_WEIGHTS, readWeightsChoice, type WeightsChoice } from '../models/weights-choice';

export interface AugmentToggles {
  randomCrop: boolean;
  flip: boolean;
  rotation: boolean;
  colour: boolean;
}

export interface TrainForm {
  /** '' = chosen by the weights (defaultTrainMode): head on pretrained weights, full from scratch */
  mode: TrainMode | '';
  /** text fields: '' = the engine's default */
  topBlocks: string;
  epochs: string;
  batch: string;
  resolution: string;
  lr: string;
  seed: string;
  backend: BackendName | '';
  /** who computes the steps on webgpu: '' = our engine, falling back to TF.js's WebGPU backend by itself */
  engine: 'effitune' | 'tfjs' | '';
  /** on the engine: fp32, or mixed (float16 activations) */
  precision: Precision;
  optimizer: OptimizerName | '';
  augment: AugmentToggles;
  /** what the run starts from; resolved to a path against the weights cache and the runs (weights-choice.ts) */
  weights: WeightsChoice;
}

const fields = TrainOptions.shape;
/** The pipeline's own augmentation defaults (rotation ± degrees, colour jitter strength). */
export const AUGMENT_DEFAULTS = Augmentation.parse({});

export const DEFAULT_FORM: TrainForm = {
  mode: '',
  topBlocks: '',
  epochs: '',
  batch: '',
  resolution: '',
  lr: '',
  seed: String(fields.seed.parse(undefined)),
  backend: '',
  engine: '',
  precision: 'fp32',
  optimizer: '',
  augment: { randomCrop: AUGMENT_DEFAULTS.randomCrop, flip: AUGMENT_DEFAULTS.flip, rotation: AUGMENT_DEFAULTS.rotationDegrees > 0, colour: AUGMENT_DEFAULTS.brightness > 0 },
  weights: AUTO_WEIGHTS,
};

/** The contract's sentence about a field's default, e.g. "default: head 20, top 15, full 30". */
export function defaultHint(field: keyof typeof fields): string {
  return fields[field].description ?? '';
}

type NumericField = 'topBlocks' | 'epochs' | 'batch' | 'resolution' | 'lr' | 'seed';
export type FieldProblems = Partial<Record<NumericField | 'weights', string>>;

/** Numbers as typed: '' stays undefined; anything else must read as a number (ranges are the engine's to check). */
function readNumber(text: string, whole: boolean): number | undefined | string {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return 'not a number';
  if (whole && !Number.isInteger(value)) return 'a whole number';
  return value;
}

/** The mode a run of this form trains in: the one chosen, else the one its weights call for. */
export function formMode(form: TrainForm, weights: string | undefined): TrainMode {
  return form.mode || defaultTrainMode(weights);
}

/** `weights`: the path the form's weights choice resolved to (undefined = from scratch). */
/** `defaultBackend`: the backend a run left on auto takes (the probe's default), where known. */
export function toTrainOptions(form: TrainForm, model: string, weights?: string, defaultBackend: BackendName | null = null): { options: TrainOptions; problems: FieldProblems } {
  const problems: FieldProblems = {};
  const numbers: Record<string, number | undefined> = {};
  const numeric: [NumericField, boolean][] = [
    ['topBlocks', true],
    ['epochs', true],
    ['batch', true],
    ['resolution', true],
    ['lr', false],
    ['seed', true],
  ];
  for (const [name, whole] of numeric) {
    const value = readNumber(form[name], whole);
    if (typeof value === 'string') problems[name] = value;
    else numbers[name] = value;
  }
  const { randomCrop, flip, rotation, colour } = form.augment;
  const jitter = colour ? AUGMENT_DEFAULTS.brightness : 0;
  const defaults = DEFAULT_FORM.augment;
  // the toggles as they come leave augmentation to the recipe (crop scale and colour jitter fitted to the images)
  const untouched = randomCrop === defaults.randomCrop && flip === defaults.flip && rotation === defaults.rotation && colour === defaults.colour;
  const augment =
    untouched
      ? undefined
      : !randomCrop && !flip && !rotation && !colour
      ? (false as const)
      : { randomCrop, flip, rotationDegrees: rotation ? AUGMENT_DEFAULTS.rotationDegrees : 0, brightness: jitter, contrast: colour ? AUGMENT_DEFAULTS.contrast : 0, saturation: colour ? AUGMENT_DEFAULTS.saturation : 0 };
  const mode = formMode(form, weights);
  const options: TrainOptions = {
    model,
    mode,
    epochs: numbers.epochs,
    batch: numbers.batch,
    resolution: numbers.resolution,
    lr: numbers.lr,
    seed: numbers.seed,
    topBlocks: mode === 'top' ? numbers.topBlocks : undefined,
    backend: form.backend || undefined,
    // the engine choice only means something on webgpu, where a run trains images (not head mode)
    engine: form.backend === 'webgpu' && mode !== 'head' ? form.engine || undefined : undefined,
    // mixed precision is the engine's (float16 activations), asked for only where the engine trains
    precision: mixedPrecisionApplies(form, mode, defaultBackend) && form.precision === 'mixed' ? 'mixed' : undefined,
    optimizer: form.optimizer || undefined,
    augment,
    weights,
  };
  return { options, problems };
}

/**
 * Whether the precision choice means something: the Effitune engine trains (on webgpu, chosen or
 * the default of a backend left on auto; full or top; not engine tfjs, which is asked only with
 * webgpu chosen).
 */
export function mixedPrecisionApplies(form: Pick<TrainForm, 'backend' | 'engine'>, mode: TrainMode, defaultBackend: BackendName | null = null): boolean {
  if (mode === 'head') return false;
  if (form.backend === 'webgpu') return form.engine !== 'tfjs';
  return form.backend === '' && defaultBackend === 'webgpu';
}

const storageKey = (project: string) => `effitune.trainForm:${project}`;

/**
 * The form as the user left it, per project: in localStorage, so a reload, a new tab and the next
 * session of the app find the same setup (like the model choice, model-selection.ts).
 */
export function readTrainForm(project: string): TrainForm {
  const stored = readStoredJson<TrainForm>(storageKey(project));
  if (!stored || typeof stored.mode !== 'string') return DEFAULT_FORM;
  return { ...DEFAULT_FORM, ...stored, augment: { ...DEFAULT_FORM.augment, ...stored.augment }, weights: readWeightsChoice(stored.weights) };
}

export function storeTrainForm(project: string, form: TrainForm): void {
  storeJson(storageKey(project), form);
}
