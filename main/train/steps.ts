/**
 * One optimizer step and one evaluation pass, for images (top / full modes) and for cached feature
 * vectors (head mode). A step is one tf.tidy around one optimizer.minimize: forward, loss, backward
 * and update with no tensors left behind, and one read of the loss and the correct count.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { correctCount, crossEntropy, type LossOptions } from './loss';
import { applyHead } from './model-setup';
import type { TrainOptimizer } from './optimizer';

export interface StepResult {
  loss: number;
  correct: number;
}

/**
 * Metrics of steps read together (the WebGPU engine reads its GPU-side sums every few steps rather
 * than after each): `n` samples, their mean loss and correct count.
 */
export interface ReadMetrics extends StepResult {
  n: number;
}

/** The forward pass of a step: probabilities [n, K] of the inputs (pixels or features). */
export type Forward = (x: tf.Tensor, training: boolean) => tf.Tensor;

export function imageForward(model: tfl.LayersModel): Forward {
  return (x, training) => model.apply(x, { training }) as tf.Tensor;
}

export function headForward(model: tfl.LayersModel): Forward {
  return (x, training) => applyHead(model, x, training);
}

/** One step on n samples: x is [n, ...shape] flattened, y their class indices. */
export async function trainStep(forward: Forward, optimizer: TrainOptimizer, loss: LossOptions, x: Float32Array, shape: readonly number[], y: Int32Array, lr: number): Promise<StepResult> {
  const n = y.length;
  let correct: tf.Scalar | undefined;
  const cost = tf.tidy(() => {
    const xs = tf.tensor(x, [n, ...shape]);
    const labels = tf.tensor1d(y, 'int32');
    return optimizer.minimize(() => {
      const probs = forward(xs, true);
      correct = tf.keep(correctCount(probs, labels));
      return crossEntropy(probs, labels, loss);
    }, lr);
  });
  try {
    const [value, right] = await Promise.all([cost.data(), correct!.data()]);
    return { loss: value[0], correct: right[0] };
  } finally {
    tf.dispose([cost, correct!]);
  }
}

/** Loss (summed over samples) and correct count of one evaluation batch, without training behaviour. */
export async function evaluateBatch(forward: Forward, loss: LossOptions, x: Float32Array, shape: readonly number[], y: Int32Array): Promise<StepResult> {
  const n = y.length;
  const [sum, correct] = tf.tidy(() => {
    const labels = tf.tensor1d(y, 'int32');
    const probs = forward(tf.tensor(x, [n, ...shape]), false);
    return [tf.mul(crossEntropy(probs, labels, { ...loss, classWeights: null }), n), correctCount(probs, labels)];
  });
  try {
    const [s, c] = await Promise.all([sum.data(), correct.data()]);
    return { loss: s[0], correct: c[0] };
  } finally {
    tf.dispose([sum, correct]);
  }
}

/** Rows `positions` of a row-major [rows, width] array, packed. */
export function gatherRows(source: Float32Array, width: number, positions: readonly number[]): Float32Array {
  const out = new Float32Array(positions.length * width);
  positions.forEach((p, i) => out.set(source.subarray(p * width, (p + 1) * width), i * width));
  return out;
}
