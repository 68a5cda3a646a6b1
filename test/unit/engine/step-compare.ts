/**
 * What the step-plan tests share (test/fixtures/engine-step.ts: a model with non-trivial weights,
 * deterministic batches, one engine step beside one TF.js CPU step), with their assertions.
 */
import { expect } from 'vitest';
import { stepPair, weightErrors } from '../../fixtures/engine-step';

export { engineWeights, model, pixels, snapshot, type StepCase } from '../../fixtures/engine-step';

/**
 * Every weight after the step within `tol` (relative) of TF.js's. Adam's first step is
 * lr·g/(|g| + 1e-7): about ±lr whatever |g| is, so where the gradient is at the level of float32
 * noise (a BatchNorm beta feeding a training-mode BatchNorm through a linear layer has an exact
 * gradient of 0; a few elements of every large kernel sit near 0) the sign of the noise decides the
 * step on both sides. Those elements (|g| below 3e-3 of the tensor's largest, or a whole tensor below 1e-4) need only
 * stay within one Adam step (2.5·lr); they are counted and must be the minority. (Gradients that
 * pass through a training-mode BatchNorm cancel in their sums: on lavapipe, whose subgroups of 8
 * sum in another order than SwiftShader's of 4, an SE kernel's element at 1.01e-3 of its tensor's
 * largest gradient came out 0.0038 against TF.js's 0.0004, and a second Adam step moved it 0.14·lr
 * apart.)
 */
export function expectWeightsClose(got: Map<string, Float32Array>, want: Map<string, Float32Array>, grads: Map<string, Float32Array>, tol: number, lr: number) {
  const { worst, noisy, total, noisyWorst } = weightErrors(got, want, grads);
  console.log(`worst weight ${worst.name}: ${worst.error.toExponential(2)}; ${noisy} of ${total} values with a gradient at noise level`);
  expect(noisyWorst.difference, `${noisyWorst.name} (gradient at noise level)`).toBeLessThan(2.5 * lr);
  expect(worst.error, `worst weight ${worst.name}`).toBeLessThan(tol);
  expect(noisy / total).toBeLessThan(0.5);
}

/** One engine step and one TF.js CPU step (the trainer's own trainStep) from the same weights and batch; the engine's device stays error-free and its metrics read once. */
export async function compareStep(...args: Parameters<typeof stepPair>) {
  const pair = await stepPair(...args);
  expect(pair.gpuError).toBeNull();
  expect(pair.metricsAfterRead.loss).toBe(0);
  return pair;
}
