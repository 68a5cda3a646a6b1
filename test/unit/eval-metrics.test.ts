/**
 * Classification metrics against small cases computed by hand, including a class never predicted
 * (precision undefined), a class absent from the split (recall undefined), ties and top-k.
 */
import { describe, expect, it } from 'vitest';
import { argMax, averageScores, classScores, computeMetrics, confusionMatrix, LOG_EPSILON, meanCrossEntropy, rankClasses, topKAccuracy, type ScoredImage } from '../../main/eval/metrics';

const NAMES = ['A', 'B', 'C', 'D'];
const NAMES_10 = Array.from({ length: 10 }, (_, i) => `class ${i}`);
// truth → predicted; C is never predicted, D is absent from the split but predicted once
const PAIRS = [
  [0, 0],
  [0, 0],
  [0, 1],
  [0, 3],
  [1, 1],
  [1, 1],
  [1, 0],
  [2, 0],
  [2, 1],
].map(([truth, predicted]) => ({ truth, predicted }));

/** a probability row that predicts `predicted` (0.7) */
function probsFor(predicted: number, classes = 4): number[] {
  return Array.from({ length: classes }, (_, c) => (c === predicted ? 0.7 : 0.3 / (classes - 1)));
}

describe('confusion matrix and per-class scores', () => {
  it('counts rows = true class, columns = predicted', () => {
    expect(confusionMatrix(PAIRS, 4)).toEqual([
      [2, 1, 0, 1],
      [1, 2, 0, 0],
      [1, 1, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(() => confusionMatrix([{ truth: 4, predicted: 0 }], 4)).toThrow(/out of range/);
  });

  it('precision is null for a class never predicted, recall null for a class absent from the split', () => {
    const scores = classScores(confusionMatrix(PAIRS, 4), NAMES);
    expect(scores.map((s) => [s.support, s.predicted])).toEqual([
      [4, 4],
      [3, 4],
      [2, 0],
      [0, 1],
    ]);
    expect(scores[0]).toMatchObject({ className: 'A', precision: 0.5, recall: 0.5, f1: 0.5 });
    expect(scores[1].precision).toBe(0.5);
    expect(scores[1].recall).toBeCloseTo(2 / 3, 12);
    expect(scores[1].f1).toBeCloseTo(4 / 7, 12); // 2·(1/2)(2/3) / (1/2 + 2/3)
    expect(scores[2]).toMatchObject({ className: 'C', precision: null, recall: 0, f1: null });
    expect(scores[3]).toMatchObject({ className: 'D', precision: 0, recall: null, f1: null });
  });

  it('F1 is 0, not undefined, when precision and recall are both 0', () => {
    const scores = classScores(
      [
        [0, 1],
        [1, 0],
      ],
      ['x', 'y'],
    );
    expect(scores.map((s) => s.f1)).toEqual([0, 0]);
  });

  it("macro and weighted averages count an undefined value as 0 (scikit-learn's zero_division=0)", () => {
    const { macro, weighted } = averageScores(classScores(confusionMatrix(PAIRS, 4), NAMES));
    expect(macro.precision).toBeCloseTo((0.5 + 0.5 + 0 + 0) / 4, 12); // C undefined → 0, D 0/1
    expect(macro.recall).toBeCloseTo((0.5 + 2 / 3 + 0 + 0) / 4, 12); // C 0/2, D undefined → 0
    expect(macro.f1).toBeCloseTo((0.5 + 4 / 7 + 0 + 0) / 4, 12); // C and D undefined → 0
    expect(weighted.precision).toBeCloseTo((0.5 * 4 + 0.5 * 3 + 0 * 2) / 9, 12); // C (support 2) counts 0, D weighs 0
    expect(weighted.recall).toBeCloseTo(4 / 9, 12); // = accuracy
    expect(weighted.f1).toBeCloseTo((0.5 * 4 + (4 / 7) * 3 + 0 * 2) / 9, 12);
  });

  it('a model that predicts one class for everything: macro F1 is not above both macro precision and recall', () => {
    // 10 balanced classes of 6 images, all predicted as class 0 (a tryout's degenerate model: under the old convention macro F1 was 0.182, above P and R 0.100)
    const classes = 10;
    const pairs = Array.from({ length: classes * 6 }, (_, i) => ({ truth: i % classes, predicted: 0 }));
    const { macro, weighted } = averageScores(classScores(confusionMatrix(pairs, classes), NAMES_10));
    expect(macro.precision).toBeCloseTo(0.1 / classes, 12); // class 0: 6/60; the 9 never predicted count 0
    expect(macro.recall).toBeCloseTo(1 / classes, 12);
    expect(macro.f1).toBeCloseTo((2 * 0.1) / 1.1 / classes, 12); // class 0: 2·0.1·1 / 1.1
    // F1 ≤ (P + R) / 2 per class, undefined counting 0: so macro F1 is never above both macro P and R
    expect(macro.f1!).toBeLessThanOrEqual((macro.precision! + macro.recall!) / 2);
    expect(weighted.recall).toBeCloseTo(0.1, 12); // the accuracy
    expect(weighted.precision).toBeCloseTo(0.1 / classes, 12);
  });

  it('the macro average leaves out a class absent from both the split and the predictions', () => {
    // y: 0 0 1, predicted 0 0 0; class 2 has no image and no prediction (scikit-learn's default labels skip it)
    const pairs = [0, 0, 1].map((truth) => ({ truth, predicted: 0 }));
    const { macro } = averageScores(classScores(confusionMatrix(pairs, 3), ['x', 'y', 'z']));
    expect(macro.precision).toBeCloseTo((2 / 3 + 0) / 2, 12);
    expect(macro.recall).toBeCloseTo((1 + 0) / 2, 12);
    expect(macro.f1).toBeCloseTo((0.8 + 0) / 2, 12);
  });
});

describe('metrics from probabilities', () => {
  const images: ScoredImage[] = [
    { truth: 0, probs: [0.7, 0.2, 0.1] }, // right
    { truth: 1, probs: [0.5, 0.3, 0.2] }, // second
    { truth: 2, probs: [0.6, 0.3, 0.1] }, // third
    { truth: 1, probs: [0.4, 0.4, 0.2] }, // a tie: the lower index (0) is predicted, the truth ranks second
  ];

  it('top-k counts the true class among the k most probable, k up to min(5, classes)', () => {
    expect(topKAccuracy(images, 3)).toEqual([
      { k: 1, accuracy: 0.25 },
      { k: 2, accuracy: 0.75 },
      { k: 3, accuracy: 1 },
    ]);
    expect(topKAccuracy([{ truth: 6, probs: [0, 0, 0, 0, 0, 0, 1] }], 7).map((t) => t.k)).toEqual([1, 2, 3, 4, 5]);
  });

  it('the loss is the mean −ln p(true), clipped like the training loss', () => {
    expect(meanCrossEntropy(images)).toBeCloseTo(-(Math.log(0.7) + Math.log(0.3) + Math.log(0.1) + Math.log(0.4)) / 4, 10);
    expect(meanCrossEntropy([{ truth: 0, probs: [0, 1] }])).toBeCloseTo(-Math.log(LOG_EPSILON), 10);
  });

  it('argMax and rankClasses break ties toward the lower index', () => {
    expect(argMax([0.4, 0.4, 0.2])).toBe(0);
    expect(rankClasses([0.2, 0.4, 0.4])).toEqual([1, 2, 0]);
  });

  it('computeMetrics puts it together: accuracy is the trace over the total', () => {
    const m = computeMetrics(images, ['x', 'y', 'z']);
    expect(m.confusion).toEqual([
      [1, 0, 0],
      [2, 0, 0],
      [1, 0, 0],
    ]);
    expect(m.images).toBe(4);
    expect(m.accuracy).toBe(0.25);
    expect(m.topK[0].accuracy).toBe(m.accuracy);
    expect(m.perClass.map((c) => c.precision)).toEqual([0.25, null, null]);
  });

  it('the hand-computed 4-class case through computeMetrics', () => {
    const m = computeMetrics(
      PAIRS.map((p) => ({ truth: p.truth, probs: probsFor(p.predicted) })),
      NAMES,
    );
    expect(m.confusion).toEqual(confusionMatrix(PAIRS, 4));
    expect(m.accuracy).toBeCloseTo(4 / 9, 12);
    expect(m.perClass[2].precision).toBeNull();
    expect(m.perClass[3].recall).toBeNull();
  });

  it('an empty split gives nulls, not NaN', () => {
    const m = computeMetrics([], ['x', 'y']);
    expect(m).toMatchObject({ images: 0, accuracy: null, loss: null, macro: { precision: null, recall: null, f1: null }, weighted: { precision: null, recall: null, f1: null } });
    expect(m.topK).toEqual([
      { k: 1, accuracy: null },
      { k: 2, accuracy: null },
    ]);
    expect(m.confusion).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
});
