import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNetworkGraph, type NetworkGraph } from '../../../main/engine/plan/network-graph';
import { countTrainingStep, planForward, type TrainingStepOptions } from '../../../main/engine/plan/step-plan';
import { getVariant, planArchitecture, type VariantSpec } from '../../../main/model/variants';
import { deviceRequired, maxRelativeError, testDevice } from '../../fixtures/engine-gpu';
import { compareStep, expectWeightsClose, model, pixels, type StepCase } from './step-compare';

/**
 * A V2 small enough for SwiftShader that still has every kind of V2 block: V2-S's first four
 * stages at half width, one or two blocks each — fused-MBConv with expand ratio 1 (a k×k project
 * convolution, BatchNorm + swish, residual), fused-MBConv with expansion (k×k expand at stride 2
 * and 1, 1×1 project, no SE, a residual one), and MBConv with SE (stride 2, and a residual one);
 * V2's BatchNorm momentum 0.9 and its [-1, 1] preprocessing.
 */
const V2S = getVariant('v2-s');
const REPEATS = [1, 2, 1, 2];
const TINY_V2: VariantSpec = { ...V2S, id: 'v2-s-tiny', name: 'EfficientNetV2-S, four stages at half width', width: 0.5, top1: null, headFilters: 256, stages: V2S.stages.slice(0, 4).map((s, i) => ({ ...s, repeats: REPEATS[i] })) };
const CASE: StepCase = { variant: TINY_V2, build: { classes: 3, resolution: 32, dropout: 0, dropConnect: 0, seed: 11 }, batch: 3 };
const SLOW = 600_000;

async function device() {
  const gpu = await testDevice();
  if (typeof gpu === 'string' && deviceRequired()) throw new Error(gpu);
  return gpu;
}

describe('engine step plan of an EfficientNetV2 (WebGPU; SwiftShader without a GPU)', () => {
  let graph: NetworkGraph;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    graph = buildNetworkGraph(TINY_V2, CASE.build);
  });

  it('the small V2 has the blocks it stands for', () => {
    const blocks = planArchitecture(TINY_V2).blocks;
    const kinds = blocks.map((b) => `${b.kind} e${b.expand} s${b.stride}${b.seFilters > 0 ? ' se' : ''}${b.residual ? ' residual' : ''}`);
    expect(kinds).toEqual(['fused e1 s1 residual', 'fused e4 s2', 'fused e4 s1 residual', 'fused e4 s2', 'mbconv e4 s2 se', 'mbconv e4 s1 se residual']);
    expect(graph.nodes.some((n) => n.kind === 'conv' && n.layer.kernel === 3 && n.name.endsWith('project_conv'))).toBe(true);
    expect(graph.nodes.some((n) => n.kind === 'batchNorm' && n.momentum === 0.9)).toBe(true);
  });

  it(
    'inference plan: probabilities equal the tf.layers model’s predict',
    async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      const m = model(CASE);
      const plan = planForward(gpu, graph, { batch: CASE.batch });
      await plan.loadWeights(m);
      const x = pixels(CASE, 1);
      plan.setPixels(x);
      plan.run();
      const { probabilities } = await plan.read();
      expect(gpu.error()).toBeNull();
      const r = CASE.build.resolution;
      const want = tf.tidy(() => (m.predict(tf.tensor4d(x, [CASE.batch, r, r, 3])) as tf.Tensor).dataSync() as Float32Array);
      expect(maxRelativeError(probabilities, want)).toBeLessThan(1e-4);
      plan.destroy();
      m.dispose();
    },
    SLOW,
  );

  it(
    'full mode: one Adam step equals the TF.js CPU trainer’s step (weights and moving statistics)',
    async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      const options: TrainingStepOptions = { batch: CASE.batch, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: Float32Array.of(1, 2, 0.5), seed: 3 };
      const { before, after, got, grads, metrics, result } = await compareStep(CASE, gpu, graph, options, { mode: 'full', topBlocks: null as never, freezeBatchNorm: false }, 'adam', 1e-3);
      expect(Math.abs(metrics.loss / CASE.batch - result.loss) / result.loss).toBeLessThan(1e-4);
      expect(metrics.correct).toBe(result.correct);
      expectWeightsClose(got, after, grads, 1e-4, 1e-3);
      for (const name of ['stem_conv/kernel', 'block1a_project_conv/kernel', 'block2b_expand_conv/kernel', 'block4b_se_reduce/bias', 'block2a_expand_bn/moving_mean', 'predictions/kernel']) {
        expect(maxRelativeError(after.get(name)!, before.get(name)!), name).toBeGreaterThan(1e-6);
      }
    },
    SLOW,
  );

  it(
    'top mode: the last two blocks and the head train with frozen BatchNorm (SGD with momentum)',
    async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      const blocks = planArchitecture(TINY_V2).blocks;
      const top = blocks.slice(-2).map((b) => `${b.name}_`);
      const trainable = (layer: string) => layer === 'predictions' || layer.startsWith('top_') || top.some((p) => layer.startsWith(p));
      const options: TrainingStepOptions = { batch: CASE.batch, mode: 'top', trainable, optimizer: { kind: 'sgd', weightDecay: 0 }, labelSmoothing: 0, classWeights: null, seed: 3 };
      const { before, after, got, grads } = await compareStep(CASE, gpu, graph, options, { mode: 'top', topBlocks: 2, freezeBatchNorm: true }, 'sgd', 1e-2);
      expectWeightsClose(got, after, grads, 1e-4, 1e-2);
      for (const [name, w] of before) {
        const layer = name.split('/')[0];
        const frozen = !trainable(layer) || /_bn\//.test(name);
        if (frozen) expect(Array.from(got.get(name)!), name).toEqual(Array.from(w));
      }
    },
    SLOW,
  );

  it('counts a V2-S 224 px batch 32 full step without compiling', () => {
    const g = buildNetworkGraph(getVariant('v2-s'), { classes: 10, resolution: 224 });
    const count = countTrainingStep(g, { batch: 32, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: null, seed: 1 });
    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    console.log(`V2-S 224 px batch 32 full step: ${count.dispatches} dispatches, ${count.pipelines} pipelines, arena ${mib(count.arenaBytes)} MiB (${mib(count.arenaBytes - count.sharedBytes + count.unsharedBytes)} MiB with every tensor in a range of its own)`);
    // 40 blocks at about 39 dispatches each (B0's 16 MBConv blocks take ~45)
    expect(count.dispatches).toBeGreaterThan(1000);
    expect(count.dispatches).toBeLessThan(1700);
    // by lifetime: 7,368 MiB with every tensor in a range of its own
    expect(mib(count.arenaBytes)).toBeLessThan(4000);
    expect(count.sharedBytes).toBeLessThan(1.02 * count.peakLiveBytes);
  });
});
