/**
 * Classification metrics from predictions: pure functions over class indices and probabilities,
 * no database, no tensors.
 *
 * Conventions (scikit-learn's, with zero_division=0):
 *   - precision of a class is null when nothing was predicted as it (0 / 0), recall is null when
 *     the split holds none of it (support 0), F1 is null when either is null, and 0 when both are 0;
 *     its own row shows these as undefined;
 *   - in the averages an undefined value counts as 0 (zero_division=0), so a model that predicts one
 *     class for everything gets the low macro precision and F1 it deserves (averaging only the
 *     defined values put its macro F1 above its macro precision and recall);
 *   - the macro average is the unweighted mean over the classes that occur in the split or in the
 *     predictions (scikit-learn's default labels); a class absent from both has nothing to score;
 *   - the weighted average weighs each class by its support; a class with support 0 weighs nothing,
 *     so weighted recall is the accuracy;
 *   - accuracy, top-k and the loss are null for an empty set.
 */

export interface ClassScores {
  className: string;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
  predicted: number;
}

export interface Averages {
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface Metrics {
  images: number;
  accuracy: number | null;
  loss: number | null;
  topK: { k: number; accuracy: number | null }[];
  perClass: ClassScores[];
  macro: Averages;
  weighted: Averages;
  /** rows = true class, columns = predicted class */
  confusion: number[][];
}

/** One evaluated image: its true class and the probability of every class (same order as the class names). */
export interface ScoredImage {
  truth: number;
  probs: ArrayLike<number>;
}

/** Probabilities are clipped to this before the log, as the training loss does (train/loss.ts). */
export const LOG_EPSILON = 1e-7;

/** Top-k accuracies are reported up to this k (or the number of classes, when fewer). */
export const MAX_TOP_K = 5;

/** Index of the largest probability; the lower index wins a tie (as tf.argMax does). */
export function argMax(probs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  return best;
}

/** Class indices ordered by probability, most probable first; the lower index first on a tie. */
export function rankClasses(probs: ArrayLike<number>): number[] {
  return Array.from({ length: probs.length }, (_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
}

/** Rows = true class, columns = predicted class. */
export function confusionMatrix(pairs: readonly { truth: number; predicted: number }[], classes: number): number[][] {
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (const { truth, predicted } of pairs) {
    if (!(truth >= 0 && truth < classes && predicted >= 0 && predicted < classes)) throw new RangeError(`class index out of range: true ${truth}, predicted ${predicted}, ${classes} classes`);
    matrix[truth][predicted]++;
  }
  return matrix;
}

/** Per-class precision, recall, F1, support and predicted count from a confusion matrix. */
export function classScores(confusion: readonly (readonly number[])[], classNames: readonly string[]): ClassScores[] {
  return classNames.map((className, c) => {
    const truePositives = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((n, row) => n + row[c], 0);
    const precision = predicted === 0 ? null : truePositives / predicted;
    const recall = support === 0 ? null : truePositives / support;
    const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { className, precision, recall, f1, support, predicted };
  });
}

/** Macro and support-weighted averages; an undefined value counts as 0 (scikit-learn's zero_division=0). */
export function averageScores(perClass: readonly ClassScores[]): { macro: Averages; weighted: Averages } {
  // classes that occur in the split or in the predictions (scikit-learn's labels = unique_labels(y_true, y_pred))
  const scored = perClass.filter((c) => c.support > 0 || c.predicted > 0);
  const support = scored.reduce((n, c) => n + c.support, 0);
  const macro = (key: keyof Averages) => (scored.length === 0 ? null : scored.reduce((sum, c) => sum + (c[key] ?? 0), 0) / scored.length);
  const weighted = (key: keyof Averages) => (support === 0 ? null : scored.reduce((sum, c) => sum + (c[key] ?? 0) * c.support, 0) / support);
  return {
    macro: { precision: macro('precision'), recall: macro('recall'), f1: macro('f1') },
    weighted: { precision: weighted('precision'), recall: weighted('recall'), f1: weighted('f1') },
  };
}

/** Share of images whose true class is among the k most probable, for k = 1 .. min(MAX_TOP_K, classes). */
export function topKAccuracy(images: readonly ScoredImage[], classes: number): { k: number; accuracy: number | null }[] {
  const kMax = Math.min(MAX_TOP_K, classes);
  const hits = new Array<number>(kMax).fill(0);
  for (const image of images) {
    const p = image.probs[image.truth];
    // the rank of the true class: classes strictly more probable, plus equal ones of lower index (rankClasses' tie rule)
    let rank = 0;
    for (let c = 0; c < image.probs.length; c++) if (image.probs[c] > p || (image.probs[c] === p && c < image.truth)) rank++;
    for (let k = rank; k < kMax; k++) hits[k]++;
  }
  return hits.map((n, i) => ({ k: i + 1, accuracy: images.length === 0 ? null : n / images.length }));
}

/** Mean cross-entropy −ln p(true class), with p clipped to [1e-7, 1] like the training loss. */
export function meanCrossEntropy(images: readonly ScoredImage[]): number | null {
  if (images.length === 0) return null;
  let sum = 0;
  for (const image of images) sum -= Math.log(Math.min(1, Math.max(LOG_EPSILON, image.probs[image.truth])));
  return sum / images.length;
}

/** Everything above for a set of scored images; the predicted class is the most probable one. */
export function computeMetrics(images: readonly ScoredImage[], classNames: readonly string[]): Metrics {
  const classes = classNames.length;
  const confusion = confusionMatrix(
    images.map((image) => ({ truth: image.truth, predicted: argMax(image.probs) })),
    classes,
  );
  const perClass = classScores(confusion, classNames);
  const correct = confusion.reduce((n, row, i) => n + row[i], 0);
  return {
    images: images.length,
    accuracy: images.length === 0 ? null : correct / images.length,
    loss: meanCrossEntropy(images),
    topK: topKAccuracy(images, classes),
    perClass,
    ...averageScores(perClass),
    confusion,
  };
}
