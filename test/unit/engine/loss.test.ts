import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// registers the gradient functions (as the trainer does by loading tf.layers)
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { softmaxCrossEntropy } from '../../../main/engine/kernels/loss';
import { correctCount, crossEntropy } from '../../../main/train/loss';
import { benchOf, deviceRequired, maxRelativeError, randomArray, reductionPaths, testDevice } from '../../fixtures/engine-gpu';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function device() {
  const gpu = await testDevice();
  if (typeof gpu === 'string' && deviceRequired()) throw new Error(gpu);
  return gpu;
}

/** float64 reference: the trainer's loss (clip at 1e-7 included) and its gradient with respect to the logits. */
function reference(logits: Float32Array, labels: number[], K: number, eps: number, weights: Float32Array | null) {
  const n = labels.length;
  let lossSum = 0;
  let correct = 0;
  const grad = new Float64Array(n * K);
  for (let r = 0; r < n; r++) {
    const z = Array.from(logits.subarray(r * K, (r + 1) * K));
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const sum = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / sum);
    const t = p.map((_, k) => (k === labels[r] ? 1 - eps : 0) + eps / K);
    const w = weights ? weights[labels[r]] : 1;
    lossSum += w * -t.reduce((a, tk, k) => a + tk * Math.log(Math.max(p[k], 1e-7)), 0);
    if (p.indexOf(Math.max(...p)) === labels[r]) correct++;
    const kept = t.reduce((a, tk, k) => a + (p[k] >= 1e-7 ? tk : 0), 0);
    for (let k = 0; k < K; k++) grad[r * K + k] = (w / n) * (p[k] * kept - (p[k] >= 1e-7 ? t[k] : 0));
  }
  return { lossSum, correct, grad };
}

describe('engine softmax cross-entropy (WebGPU; SwiftShader without a GPU)', () => {
  const n = 70; // more rows than the workgroup has threads
  const K = 7;
  const labels = Array.from({ length: n }, (_, i) => (i * 3 + (i >> 2)) % K);
  // logits around ±4, and a few rows confident enough that some probabilities fall under the 1e-7 clip
  const logits = randomArray(n * K, 41).map((v, i) => 4 * v + (Math.floor(i / K) % 9 === 0 && i % K === 2 ? 30 : 0));
  const weights = randomArray(K, 42).map((v) => 1.25 + v);

  it('the test data exercises the clip (probabilities under 1e-7) and is neither all right nor all wrong', () => {
    const ref = reference(logits, labels, K, 0.1, null);
    const clipped = tf.tidy(() => tf.sum(tf.less(tf.softmax(tf.tensor2d(logits, [n, K])), 1e-7)).dataSync()[0]);
    expect(clipped).toBeGreaterThan(10);
    expect(ref.correct).toBeGreaterThan(3);
    expect(ref.correct).toBeLessThan(n - 3);
  });

  it('loss sum, correct count and dlogits with label smoothing and class weights equal float64 and the trainer on TF.js CPU', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    const eps = 0.1;
    for (const path of reductionPaths(gpu)) {
      const b = benchOf(gpu, { logits, labels: Float32Array.from(labels), weights, dlogits: n * K, metrics: Float32Array.of(0.5, 2) }, path.subgroupSize);
      const t = b.t;
      b.run([softmaxCrossEntropy(b.ctx, { logits: t.logits, labels: t.labels, classWeights: t.weights, dlogits: t.dlogits, metrics: t.metrics }, { n, classes: K, labelSmoothing: eps })]);
      const [dlogits, metrics] = await b.read('dlogits', 'metrics');
      expect(gpu.error()).toBeNull();
      const ref = reference(logits, labels, K, eps, weights);
      expect(maxRelativeError(dlogits, ref.grad), path.name).toBeLessThan(1e-5);
      // the metrics are added to what the scalars held (0.5 and 2)
      expect(maxRelativeError([metrics[0] - 0.5], [ref.lossSum]), path.name).toBeLessThan(1e-5);
      expect(metrics[1] - 2).toBe(ref.correct);

      // the trainer's own loss, differentiated by TF.js through its softmax
      const z = tf.tensor2d(logits, [n, K]);
      const y = tf.tensor1d(labels, 'int32');
      const options = { classes: K, labelSmoothing: eps, classWeights: tf.tensor1d(weights) };
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => crossEntropy(tf.softmax(x), y, options))(z);
      expect(maxRelativeError(dlogits, await grad.data()), path.name).toBeLessThan(1e-5);
      expect(maxRelativeError([(metrics[0] - 0.5) / n], await value.data()), path.name).toBeLessThan(1e-5);
      expect(metrics[1] - 2).toBe((await correctCount(tf.softmax(z), y).data())[0]);
      tf.dispose([z, y, options.classWeights, value, grad]);
      b.destroy();
    }
  });

  it('evaluation form: no weights, no gradient, metrics accumulate over dispatches', async (context) => {
    const gpu = await device();
    if (typeof gpu === 'string') return context.skip(gpu);
    for (const path of reductionPaths(gpu)) {
      const b = benchOf(gpu, { logits, labels: Float32Array.from(labels), metrics: 2 }, path.subgroupSize);
      const t = b.t;
      const d = softmaxCrossEntropy(b.ctx, { logits: t.logits, labels: t.labels, classWeights: null, dlogits: null, metrics: t.metrics }, { n, classes: K, labelSmoothing: 0 });
      b.run([d, d, d]);
      const [metrics] = await b.read('metrics');
      expect(gpu.error()).toBeNull();
      const ref = reference(logits, labels, K, 0, null);
      expect(maxRelativeError([metrics[0]], [3 * ref.lossSum]), path.name).toBeLessThan(1e-5);
      expect(metrics[1]).toBe(3 * ref.correct);
      b.destroy();
    }
  });
});
