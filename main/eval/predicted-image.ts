/** One image with what a run predicted for it, as the eval and assist calls return it. */
import type { PredictedImage } from '../contract/calls-eval';
import { rankClasses } from './metrics';

/** Classes listed per image, most probable first. */
export const TOP_CLASSES = 5;

export interface ImageWithProbs {
  id: number;
  path: string;
  /** the label; null when unlabeled */
  trueClass: string | null;
  /** in the run's output order */
  probs: Float32Array;
}

export function toPredictedImage(image: ImageWithProbs, outputs: readonly string[]): PredictedImage {
  const order = rankClasses(image.probs);
  const predictedClass = outputs[order[0]];
  return {
    id: image.id,
    path: image.path,
    trueClass: image.trueClass,
    predictedClass,
    confidence: image.probs[order[0]],
    correct: image.trueClass === null ? null : image.trueClass === predictedClass,
    top: order.slice(0, TOP_CLASSES).map((c) => ({ className: outputs[c], probability: image.probs[c] })),
  };
}

/** Top-1 minus top-2 probability: small when the model hesitates between two classes. */
export function margin(probs: Float32Array): number {
  if (probs.length < 2) return 1;
  const [first, second] = rankClasses(probs);
  return probs[first] - probs[second];
}
