/**
 * The training loss: categorical cross-entropy on the model's softmax output, with label smoothing
 * (targets (1 − s)·onehot + s/K) and optional per-class weights (each sample's loss times its
 * class's weight, averaged over the batch as Keras' class_weight does). Probabilities are clipped
 * to [1e-7, 1] before the log, as Keras does for a softmax output, so a confident mistake gives a
 * large finite loss instead of Infinity.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface LossOptions {
  classes: number;
  labelSmoothing: number;
  /** per class, in model output order; null: every sample counts 1 */
  classWeights: tf.Tensor1D | null;
}

const EPSILON = 1e-7;

/** Mean loss of a batch: probs [n, K] (softmax), labels [n] int32 class indices. */
export function crossEntropy(probs: tf.Tensor, labels: tf.Tensor1D, options: LossOptions): tf.Scalar {
  return tf.tidy(() => {
    const { classes, labelSmoothing: s } = options;
    const targets = tf.add(tf.mul(tf.cast(tf.oneHot(labels, classes), 'float32'), 1 - s), s / classes);
    const perSample = tf.neg(tf.sum(tf.mul(targets, tf.log(tf.clipByValue(probs, EPSILON, 1))), -1));
    const weighted = options.classWeights ? tf.mul(perSample, tf.gather(options.classWeights, labels)) : perSample;
    return tf.mean(weighted) as tf.Scalar;
  });
}

/** How many predictions (arg max) equal the labels, as a scalar. */
export function correctCount(probs: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), labels), 'int32')) as tf.Scalar);
}

/**
 * crossEntropy (without class weights, as validation computes it) and correctCount of softmax rows
 * on the host, summed over the rows: for probabilities the engine computed (engine-steps.ts). The
 * same clipping, smoothing and arg max (the first of equal maxima), in float64.
 */
export function probabilityRowsLoss(probs: Float32Array, labels: Int32Array, classes: number, labelSmoothing: number): { loss: number; correct: number } {
  if (probs.length !== labels.length * classes) throw new Error(`${probs.length} probabilities for ${labels.length} labels of ${classes} classes`);
  let loss = 0;
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    const row = probs.subarray(r * classes, (r + 1) * classes);
    let best = 0;
    for (let k = 0; k < classes; k++) {
      const target = (k === labels[r] ? 1 - labelSmoothing : 0) + labelSmoothing / classes;
      loss -= target * Math.log(Math.min(1, Math.max(EPSILON, row[k])));
      if (row[k] > row[best]) best = k;
    }
    if (best === labels[r]) correct++;
  }
  return { loss, correct };
}
