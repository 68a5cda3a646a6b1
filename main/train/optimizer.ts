/**
 * The optimizers of a run: Adam, AdamW (Adam + decoupled weight decay, Loshchilov & Hutter 2019)
 * and SGD with momentum 0.9. TF.js has no AdamW, so the decay is a separate multiply of each
 * kernel after the Adam step (w ← w·(1 − lr·decay)), which is exactly the decoupled form; biases
 * and BatchNorm parameters are not decayed (the usual practice). The same decoupled decay applies
 * to SGD when a weight decay is given.
 *
 * minimize() needs the gradient functions, which @tensorflow/tfjs-layers registers on import (the
 * trainer always loads it with the model).
 *
 * The state (iteration count and moment estimates) is saved with each checkpoint, so a resumed run
 * continues with warm moments rather than restarting Adam's bias correction.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerName } from '../contract/calls-train';

export const SGD_MOMENTUM = 0.9;

/** A tensor with its name, as optimizers save and restore their state (tfjs-core does not export the type). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export interface TrainOptimizer {
  readonly name: OptimizerName;
  readonly optimizer: tf.Optimizer;
  /** One step: minimise `loss` over the run's trainable variables, then decay; returns the loss. */
  minimize(loss: () => tf.Scalar, lr: number): tf.Scalar;
  /** Iteration count and moments, in the order of the variables (for a checkpoint). */
  state(): Promise<NamedTensor[]>;
  restore(state: NamedTensor[]): Promise<void>;
  dispose(): void;
}

export function createOptimizer(name: OptimizerName, variables: tf.Variable[], weightDecay: number): TrainOptimizer {
  const optimizer = name === 'sgd' ? tf.train.momentum(0, SGD_MOMENTUM) : tf.train.adam(0);
  const decayed = weightDecay > 0 ? variables.filter(isKernel) : [];
  const setRate = (lr: number) => {
    // Adam reads its learningRate field on every step; SGD caches it as a scalar (setLearningRate)
    if (name === 'sgd') (optimizer as tf.MomentumOptimizer).setLearningRate(lr);
    else (optimizer as unknown as { learningRate: number }).learningRate = lr;
  };
  return {
    name,
    optimizer,
    minimize(loss, lr) {
      setRate(lr);
      const cost = optimizer.minimize(loss, true, variables) as tf.Scalar;
      if (decayed.length > 0 && lr > 0) {
        const keep = 1 - lr * weightDecay;
        tf.tidy(() => {
          for (const v of decayed) v.assign(tf.mul(v, keep));
        });
      }
      return cost;
    },
    state: () => optimizer.getWeights(),
    async restore(state) {
      await optimizer.setWeights(state);
    },
    dispose: () => optimizer.dispose(),
  };
}

/** Convolution and dense kernels (decayed), not biases, BatchNorm gammas/betas or statistics. */
function isKernel(v: tf.Variable): boolean {
  return /kernel(_\d+)?$/.test(v.name);
}
