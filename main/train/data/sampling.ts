/**
 * Which images an epoch visits, in which order, and class weights for imbalanced data.
 * natural: every image once per epoch (shuffled for training).
 * balanced: as many samples as images, but each class drawn equally often; a class cycles through
 * its own shuffled images, so a small class repeats its images and a large one is subsampled.
 */
import { randomFor, shuffleInPlace } from './random';

export type Sampling = 'natural' | 'balanced';

/** Positions into `labels` (one class index per image) for one epoch. */
export function epochOrder(labels: readonly number[], options: { sampling: Sampling; shuffle: boolean; seed: number; epoch: number }): number[] {
  const positions = labels.map((_, i) => i);
  if (options.sampling === 'natural') {
    return options.shuffle ? shuffleInPlace(positions, randomFor(options.seed, 'order', options.epoch)) : positions;
  }
  const random = randomFor(options.seed, 'balanced', options.epoch);
  const byClass = new Map<number, number[]>();
  for (const i of positions) {
    const list = byClass.get(labels[i]);
    if (list) list.push(i);
    else byClass.set(labels[i], [i]);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  if (classes.length === 0) return [];
  // equal shares, the remainder to classes drawn at random, then the class sequence shuffled
  const sequence: number[] = [];
  for (let k = 0; k < positions.length; k++) sequence.push(classes[k % classes.length]);
  const remainder = positions.length % classes.length;
  if (remainder > 0) {
    const lucky = shuffleInPlace([...classes], random).slice(0, remainder);
    sequence.splice(positions.length - remainder, remainder, ...lucky);
  }
  shuffleInPlace(sequence, random);
  const cursors = new Map(classes.map((c) => [c, { list: shuffleInPlace([...byClass.get(c)!], random), next: 0 }]));
  return sequence.map((c) => {
    const cursor = cursors.get(c)!;
    if (cursor.next === cursor.list.length) {
      shuffleInPlace(cursor.list, random);
      cursor.next = 0;
    }
    return cursor.list[cursor.next++];
  });
}

/**
 * Inverse-frequency class weights, scaled so that a balanced data set gets 1 everywhere:
 * w_c = N / (K · n_c) (scikit-learn's "balanced"). A class with no images gets 0.
 */
export function classWeights(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const present = counts.filter((n) => n > 0).length;
  return counts.map((n) => (n > 0 ? total / (present * n) : 0));
}
