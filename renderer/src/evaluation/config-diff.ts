/**
 * The training configurations of two runs as rows, each marked when the values differ: settings
 * by their names in words (the stored key stays in the row, for the CLI and the files), values
 * rounded to what a person compares (4 significant digits), booleans on/off.
 */

export interface ConfigRow {
  /** the stored key, e.g. augment.ratioMax */
  key: string;
  /** the setting in words, e.g. "augmentation: crop aspect ratio, max" */
  label: string;
  a: string;
  b: string;
  differs: boolean;
}

/** Settings in the order a person reads a run: the model, the schedule, regularisation, augmentation. */
const LABELS: [key: string, label: string][] = [
  ['variant', 'model'],
  ['resolution', 'resolution (px)'],
  ['classes', 'classes'],
  ['mode', 'training mode'],
  ['weights', 'starting weights'],
  ['topBlocks', 'top blocks trained'],
  ['epochs', 'epochs'],
  ['batch', 'batch size'],
  ['optimizer', 'optimizer'],
  ['lr', 'learning rate'],
  ['weightDecay', 'weight decay'],
  ['warmupEpochs', 'warm-up epochs'],
  ['patience', 'early stopping after (epochs without a better validation loss)'],
  ['labelSmoothing', 'label smoothing'],
  ['imbalance', 'class imbalance'],
  ['dropout', 'dropout'],
  ['dropConnect', 'drop connect'],
  ['freezeBatchNorm', 'BatchNorm frozen'],
  ['bnMomentum', 'BatchNorm momentum'],
  ['augment', 'augmentation'],
  ['augment.randomCrop', 'augmentation: random resized crop'],
  ['augment.scaleMin', 'augmentation: crop area, min (of the image)'],
  ['augment.scaleMax', 'augmentation: crop area, max (of the image)'],
  ['augment.ratioMin', 'augmentation: crop aspect ratio, min'],
  ['augment.ratioMax', 'augmentation: crop aspect ratio, max'],
  ['augment.flip', 'augmentation: horizontal flip'],
  ['augment.rotationDegrees', 'augmentation: rotation (± degrees)'],
  ['augment.brightness', 'augmentation: brightness jitter'],
  ['augment.contrast', 'augmentation: contrast jitter'],
  ['augment.saturation', 'augmentation: saturation jitter'],
  ['backend', 'backend'],
  ['engine', 'training steps computed by'],
  ['precision', 'precision'],
  ['seed', 'random seed'],
  ['version', 'configuration version'],
];
const LABEL = new Map(LABELS);
const ORDER = new Map(LABELS.map(([key], i) => [key, i]));

/** What leaving a setting out of a stored configuration means, where it has a meaning (older runs lack the newer settings). */
const ABSENT_MEANS: Record<string, string> = { precision: 'fp32', engine: 'auto' };

/** What a null means for a setting that has one: chosen at run time, or nothing. */
const NULL_MEANS: Record<string, string> = { batch: 'auto (from the memory estimate)', backend: 'auto', weights: 'none (from scratch)', bnMomentum: 'the model default', topBlocks: '—' };

/** A key without a name of its own, in words: augment.someThing → "augment: some thing". */
export function settingLabel(key: string): string {
  return LABEL.get(key) ?? key.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase()).join(': ');
}

/** 1.3333333333333333 → "1.333", 0.0001 → "0.0001", 3e-7 → "3e-7", 20 → "20". */
export function formatNumber(value: number, digits = 4): string {
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(digits)));
}

/** A config value in words: numbers rounded, booleans on/off, lists comma-separated, missing as "—". */
export function configValue(value: unknown, key = '', digits = 4): string {
  if (value === undefined) return ABSENT_MEANS[key] ?? '—';
  if (value === null) return NULL_MEANS[key] ?? '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatNumber(value, digits);
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (Array.isArray(value)) return value.every((v) => typeof v !== 'object' || v === null) ? value.map((v) => configValue(v, '', digits)).join(', ') : JSON.stringify(value);
  return JSON.stringify(value);
}

/** Objects are compared key by key one level down (augment.flip, …) so the row names what differs. */
function flatten(config: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(config)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, v] of Object.entries(value as Record<string, unknown>)) out.set(`${key}.${inner}`, v);
    } else out.set(key, value);
  }
  return out;
}

export function configDiff(a: Record<string, unknown>, b: Record<string, unknown>): ConfigRow[] {
  const left = flatten(a);
  const right = flatten(b);
  const keys = [...new Set([...left.keys(), ...right.keys()])].sort((x, y) => (ORDER.get(x) ?? LABELS.length) - (ORDER.get(y) ?? LABELS.length) || x.localeCompare(y));
  return keys.map((key) => {
    const x = left.get(key);
    const y = right.get(key);
    const differs = JSON.stringify(x) !== JSON.stringify(y);
    let shownA = configValue(x, key);
    let shownB = configValue(y, key);
    // values apart only beyond the rounding: show them in full, so the row does not differ invisibly
    if (differs && shownA === shownB) {
      shownA = configValue(x, key, 17);
      shownB = configValue(y, key, 17);
    }
    return { key, label: settingLabel(key), a: shownA, b: shownB, differs };
  });
}
