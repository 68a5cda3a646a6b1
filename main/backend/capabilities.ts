/**
 * What a backend can do, decided by checking rather than by its name: a small convolution
 * forward (inference) and its gradients (training) computed on the backend and compared with
 * the stock JS CPU backend, plus the kernel registry for the gradient kernels training needs.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
} from '@tensorflow/tfjs-core';

/**
 * The gradient kernels an EfficientNet needs beyond its forward kernels. Every other gradient
 * (BatchNorm, swish, squeeze-excitation, pooling, dense) is written in tfjs with forward
 * operations, so a backend with these four can train. WASM lacks three of them.
 */
export const TRAINING_KERNELS: readonly string[] = [Conv2DBackpropFilter, Conv2DBackpropInput, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput];

/** Float32 on a GPU sums in another order than the CPU; this much relative difference is rounding. */
export const RELATIVE_TOLERANCE = 1e-3;

export function missingTrainingKernels(tfBackendName: string): string[] {
  return TRAINING_KERNELS.filter((kernel) => tf.getKernel(kernel, tfBackendName) === undefined);
}

/** Fixed, irregular values (no random generator: every backend must see the same numbers). */
function fixedTensor(shape: number[], seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: size }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5);
  return tf.tensor(values, shape, 'float32');
}

/**
 * A regular convolution, then a strided depthwise one (the two kinds in an EfficientNet block),
 * reduced to a scalar loss. With `gradients`, also d loss / d (input, filter, depthwise filter),
 * which runs all four TRAINING_KERNELS. Runs on the active backend; reads results asynchronously
 * because WebGPU in Node cannot read synchronously.
 */
export async function convolutionSample(gradients: boolean): Promise<Float32Array[]> {
  // Gradient functions are registered by tfjs-layers' Node bundle (tfjs-core registers none).
  if (gradients) await import('@tensorflow/tfjs-layers');
  const outputs = tf.tidy(() => {
    const x = fixedTensor([1, 7, 7, 3], 1);
    const filter = fixedTensor([3, 3, 3, 4], 2);
    const depthwise = fixedTensor([3, 3, 4, 2], 3);
    const loss = (input: tf.Tensor, f: tf.Tensor, d: tf.Tensor) =>
      tf.sum(tf.square(tf.depthwiseConv2d(tf.relu(tf.conv2d(input as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')), d as tf.Tensor4D, 2, 'same')));
    const results = [loss(x, filter, depthwise)];
    if (gradients) results.push(...tf.grads(loss as (...args: tf.Tensor[]) => tf.Tensor)([x, filter, depthwise]));
    return results;
  });
  try {
    return (await Promise.all(outputs.map((t) => t.data()))) as Float32Array[];
  } finally {
    tf.dispose(outputs);
  }
}

/** Largest difference between two sets of outputs, relative to each reference output's scale. */
export function largestRelativeDifference(actual: Float32Array[], reference: Float32Array[]): number {
  let worst = 0;
  reference.forEach((ref, k) => {
    const got = actual[k];
    if (!got || got.length !== ref.length) {
      worst = Infinity;
      return;
    }
    const scale = Math.max(1e-6, ...Array.from(ref, Math.abs));
    for (let i = 0; i < ref.length; i++) {
      const diff = Math.abs(got[i] - ref[i]) / scale;
      worst = Number.isNaN(diff) ? Infinity : Math.max(worst, diff);
    }
  });
  return worst;
}
