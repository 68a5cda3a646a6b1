/**
 * Can this project be trained on? Checked before any work starts (no model built, no image decoded),
 * so a bad data set fails in a second with a message naming the classes to fix.
 * Counts are of usable labeled images: status ok and the file present at the last import.
 */
import { ApiError } from '../../contract/contract';
import { splitSummary } from '../../dataset/split';
import type { Database } from '../../project/database';

export interface TrainableClass {
  id: number;
  name: string;
  total: number;
  train: number;
  val: number;
  test: number;
  unsplit: number;
}

export interface TrainableSummary {
  /** the classes to train, in model output order (by name, unless the caller gave an order) */
  classes: TrainableClass[];
  train: number;
  val: number;
  test: number;
  /** labeled images without a split: not used until the project is split again */
  unsplit: number;
  /** worth telling the user, not worth refusing to train */
  warnings: string[];
}

/**
 * Throws ApiError('invalid_input') when training cannot work: no labeled images, fewer than two
 * classes, a class with no images or only one, a class with nothing in the train split.
 * `classes` fixes the class order (resuming a run); by default every class of the project, by name.
 */
export function checkTrainable(handle: { db: Database }, options: { classes?: readonly string[] } = {}): TrainableSummary {
  const summary = splitSummary(handle);
  const known = new Map(summary.classes.map((c) => [c.name, c]));
  if (summary.totals.images === 0) {
    throw new ApiError('invalid_input', 'this project has no labeled images: label some images (or import folders with labels from folders) before training');
  }
  if (options.classes) {
    const gone = options.classes.filter((name) => !known.has(name));
    if (gone.length > 0) throw new ApiError('invalid_input', `${listNames(gone)} of this run no longer ${gone.length === 1 ? 'exists' : 'exist'} in the project`, { classes: gone });
  }
  const classes = (options.classes ?? summary.classes.map((c) => c.name)).map((name) => {
    const { id, total, train, val, test, unsplit } = known.get(name)!;
    return { id, name, total, train, val, test, unsplit };
  });

  const empty = classes.filter((c) => c.total === 0);
  if (empty.length > 0) {
    throw new ApiError('invalid_input', `${listNames(empty.map((c) => c.name))} ${empty.length === 1 ? 'has' : 'have'} no images: label some images with ${empty.length === 1 ? 'it' : 'them'} or delete ${empty.length === 1 ? 'the class' : 'those classes'}`, { classes: empty.map((c) => c.name) });
  }
  const single = classes.filter((c) => c.total === 1);
  if (single.length > 0) {
    throw new ApiError('invalid_input', `${listNames(single.map((c) => c.name))} ${single.length === 1 ? 'has' : 'have'} only one image: every class needs at least 2 (one to train on, one to check it)`, { classes: single.map((c) => c.name) });
  }
  if (classes.length < 2) {
    throw new ApiError('invalid_input', `training needs at least 2 classes; this project has only ${listNames(classes.map((c) => c.name))}`);
  }
  const untrained = classes.filter((c) => c.train === 0);
  if (untrained.length > 0) {
    const hint = untrained.some((c) => c.unsplit > 0) ? 'split the project (effitune split) to assign its new images' : 'split the project again with a smaller val/test fraction, or reset the test split';
    throw new ApiError('invalid_input', `${listNames(untrained.map((c) => c.name))} ${untrained.length === 1 ? 'has' : 'have'} no images in the train split: ${hint}`, { classes: untrained.map((c) => c.name) });
  }

  const sum = (key: 'train' | 'val' | 'test' | 'unsplit') => classes.reduce((n, c) => n + c[key], 0);
  const warnings: string[] = [];
  const unsplit = sum('unsplit');
  if (unsplit > 0) warnings.push(`${unsplit} labeled image(s) have no split and are not used: split the project to assign them`);
  if (sum('val') === 0) warnings.push('no image is in the validation split: there is no validation loss, so no early stopping and no best checkpoint');
  else {
    const unvalidated = classes.filter((c) => c.val === 0).map((c) => c.name);
    if (unvalidated.length > 0) warnings.push(`${listNames(unvalidated)} ${unvalidated.length === 1 ? 'has' : 'have'} no validation images: ${unvalidated.length === 1 ? 'its' : 'their'} accuracy is not measured`);
  }
  if (options.classes) {
    const extra = summary.classes.filter((c) => c.total > 0 && !options.classes!.includes(c.name)).map((c) => c.name);
    if (extra.length > 0) warnings.push(`${listNames(extra)} ${extra.length === 1 ? 'is' : 'are'} not among this run's classes and ${extra.length === 1 ? 'is' : 'are'} left out`);
  }
  return { classes, train: sum('train'), val: sum('val'), test: sum('test'), unsplit, warnings };
}

/** 'class "a"', 'classes "a" and "b"', 'classes "a", "b" and 3 more'. */
function listNames(names: readonly string[]): string {
  const quoted = names.map((n) => `"${n}"`);
  if (quoted.length === 1) return `class ${quoted[0]}`;
  if (quoted.length <= 4) return `classes ${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
  return `classes ${quoted.slice(0, 3).join(', ')} and ${quoted.length - 3} more`;
}
