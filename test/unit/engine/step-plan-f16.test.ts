/**
 * Mixed precision (precision: mixed): the activations of a training step stored as float16 in a
 * half arena (arena.ts, step-layout.ts), every kernel converting as it loads and stores them
 * (dispatch.ts load/store), everything else float32. The plans and the kernels' WGSL need no GPU;
 * the step itself needs an adapter with shader-f16 (lavapipe, a real GPU: SwiftShader has none, so
 * there it is refused, which is tested instead; CI unpacks lavapipe for this file, .ci/run).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { ArenaLayout } from '../../../main/engine/arena';
import { KernelParams, perElementWgsl, withHalfArena } from '../../../main/engine/dispatch';
import { activationForward } from '../../../main/engine/kernels/activation';
import { buildNetworkGraph } from '../../../main/engine/plan/network-graph';
import { RecordingKernelContext } from '../../../main/engine/plan/recording-context';
import { countForward, countTrainingStep, movingStatisticNames, planForward, planTrainingStep, type TrainingStepOptions } from '../../../main/engine/plan/step-plan';
import { getVariant, planArchitecture } from '../../../main/model/variants';
import { deviceOrSkip, maxRelativeError } from '../../fixtures/engine-gpu';
import { model, pixels, stepPair, updateErrors, type StepCase } from '../../fixtures/engine-step';

// where .ci/run unpacked Mesa's lavapipe 25 (EFFITUNE_TEST_F16_ICD), this file's steps run on it: SwiftShader has no shader-f16
if (process.env.EFFITUNE_TEST_F16_ICD && !process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = process.env.EFFITUNE_TEST_F16_ICD;

const step = (batch: number, f16Activations: boolean): TrainingStepOptions => ({ batch, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: null, seed: 1, f16Activations });

class CapturingContext extends RecordingKernelContext {
  readonly codes: string[] = [];
  override pipeline(code: string): GPUComputePipeline {
    this.codes.push(code);
    return super.pipeline(code);
  }
}

describe('mixed precision plans (no GPU needed)', () => {
  it('B0 224 px batch 32: the same dispatches, the activations in a half arena, about a third less GPU memory', () => {
    const graph = buildNetworkGraph(getVariant('b0'), { classes: 10, resolution: 224, seed: 1 });
    const fp32 = countTrainingStep(graph, step(32, false));
    const mixed = countTrainingStep(graph, step(32, true));
    expect(fp32.halfArenaBytes).toBe(0);
    expect(mixed.dispatches).toBe(fp32.dispatches);
    expect(mixed.byKernel).toEqual(fp32.byKernel);
    expect(mixed.halfArenaBytes).toBeGreaterThan(0);
    // measured: 1,848 MB → 1,272 MB (0.69)
    expect(mixed.arenaBytes).toBeLessThan(0.75 * fp32.arenaBytes);
    expect(mixed.pipelines).toBeLessThanOrEqual(fp32.pipelines + 5);
  });

  it("a mixed run's forward plans (validation's, Precise BN's) keep their activations in a half arena too: the same dispatches, less memory", () => {
    const graph = buildNetworkGraph(getVariant('b0'), { classes: 10, resolution: 224, seed: 1 });
    for (const batchStatistics of [false, true]) {
      const fp32 = countForward(graph, { batch: 32, batchStatistics });
      const mixed = countForward(graph, { batch: 32, batchStatistics, f16Activations: true });
      expect(fp32.halfArenaBytes).toBe(0);
      expect(mixed.halfArenaBytes).toBeGreaterThan(0);
      expect(mixed.dispatches).toBe(fp32.dispatches);
      expect(mixed.byKernel).toEqual(fp32.byKernel);
      // measured: inference 328 → 181 MiB, statistics 335 → 188 MiB (147 MiB of them the half arena)
      expect(mixed.arenaBytes, `batchStatistics ${batchStatistics}`).toBeLessThan(0.6 * fp32.arenaBytes);
    }
  });

  it('every kernel of V1 and V2 plans (fused-MBConv, stochastic depth, dropout, top mode) reads its float16 tensors through the half arena', () => {
    // recording a plan runs every launch's check (a float16 tensor indexed in the f32 arena throws)
    for (const [id, resolution] of [['v2-s', 96], ['v2-b0', 64], ['b1', 64]] as const) {
      const graph = buildNetworkGraph(getVariant(id), { classes: 4, resolution, seed: 1, dropout: 0.2, dropConnect: 0.2 });
      const blocks = planArchitecture(getVariant(id)).blocks;
      const last = `${blocks[blocks.length - 1].name}_`;
      for (const options of [step(4, true), { ...step(4, true), mode: 'top' as const, trainable: (l: string) => l === 'predictions' || l.startsWith('top_') || l.startsWith(last) }]) {
        const count = countTrainingStep(graph, options);
        expect(count.halfArenaBytes, `${id} ${options.mode}`).toBeGreaterThan(0);
      }
    }
  });

  it('a kernel handed a float16 tensor reads and writes it through the half arena, and the f16 extension is declared only then', () => {
    const ctx = new CapturingContext();
    const f32 = new ArenaLayout(1 << 20);
    const half = new ArenaLayout(1 << 20, true);
    const x = f32.add('x', 100);
    const y = half.add('y', 100);
    expect(y.half).toBe(true);
    activationForward(ctx, 'swish', x, y);
    activationForward(ctx, 'swish', y, f32.add('z', 100));
    activationForward(ctx, 'swish', x, f32.add('w', 100));
    const [writesHalf, readsHalf, plain] = ctx.codes.map(withHalfArena);
    expect(writesHalf).toMatch(/^enable f16;/);
    expect(writesHalf).toContain('@group(0) @binding(1) var<storage, read_write> mem16: array<f16>;');
    expect(writesHalf).toMatch(/mem16\[params\[\d\]\.\w \+ i\] = f16\(/);
    expect(readsHalf).toMatch(/f32\(mem16\[params\[\d\]\.\w \+ i\]\)/);
    expect(plain).not.toContain('f16');
  });

  it('refuses a kernel that would index a float16 tensor in the float32 arena, naming the tensor', () => {
    const ctx = new RecordingKernelContext();
    const y = new ArenaLayout(1 << 20, true).add('block1a_activation', 64);
    const p = new KernelParams();
    const code = perElementWgsl(64, p.u('count', 64), `  mem[${p.at('y', y)} + i] = 0.0;`);
    expect(() => ctx.dispatch('bad kernel', code, 1, p)).toThrow(/bad kernel: .*float16 tensor block1a_activation as float32/);
  });
});

/** φ=−6 at 64 px, batch 8: its late layers still have 32 rows per BatchNorm channel (at 32 px, batch 3, a training-mode BatchNorm over 3 rows turns float16 rounding into noise) */
const CASE: StepCase = { variant: getVariant('phi=-6'), build: { classes: 3, resolution: 64, dropout: 0, dropConnect: 0, seed: 11 }, batch: 8 };

/** The device where it has shader-f16; else the test skips saying so. */
async function f16Device(context: TestContext) {
  const gpu = await deviceOrSkip(context);
  if (gpu && !gpu.features.f16) context.skip(`${gpu.adapter.device} has no shader-f16 (lavapipe or a GPU has)`);
  return gpu;
}

describe('mixed precision steps (WebGPU)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('an adapter without shader-f16 refuses float16 activations, naming the feature', async (context) => {
    const gpu = await deviceOrSkip(context);
    if (!gpu) return;
    if (gpu.features.f16) return context.skip(`${gpu.adapter.device} has shader-f16 (the next test runs the step)`);
    const graph = buildNetworkGraph(getVariant('phi=-6'), { classes: 3, resolution: 32, seed: 11 });
    expect(() => planTrainingStep(gpu, graph, step(2, true))).toThrow(/f16 activations need an adapter with shader-f16/);
    expect(() => planForward(gpu, graph, { batch: 2, f16Activations: true })).toThrow(/f16 activations need an adapter with shader-f16/);
  });

  it(
    'one SGD step of φ=−6 at 64 px, batch 8, training-mode BatchNorm: every weight tensor’s update within 5e-2 of TF.js CPU’s (fp32 within 1e-3)',
    async (context) => {
      const gpu = await f16Device(context);
      if (!gpu) return;
      const c = CASE;
      const graph = buildNetworkGraph(c.variant, c.build);
      const results: Record<string, ReturnType<typeof updateErrors> & { loss: number }> = {};
      for (const f16 of [false, true]) {
        const options: TrainingStepOptions = { ...step(c.batch, f16), optimizer: { kind: 'sgd', weightDecay: 0 }, seed: 3 };
        const pair = await stepPair(c, gpu, graph, options, { mode: 'full', topBlocks: null, freezeBatchNorm: false }, 'sgd', 0.1);
        expect(pair.gpuError).toBeNull();
        results[f16 ? 'mixed' : 'fp32'] = { ...updateErrors(pair.before, pair.after, pair.got), loss: Math.abs(pair.metrics.loss / c.batch - pair.result.loss) / pair.result.loss };
      }
      console.log(JSON.stringify(results));
      expect(results.fp32.worst.error).toBeLessThan(1e-3);
      // measured on lavapipe: fp32 2.9e-5, mixed 2.2e-2 (overall 1.1e-2); a kernel reading the wrong buffer is off by ~1
      expect(results.mixed.worst.error, results.mixed.worst.name).toBeLessThan(5e-2);
      expect(results.mixed.compared).toBeGreaterThan(50);
      expect(results.mixed.loss).toBeLessThan(1e-2);
      // float16 rounding shows: the check would pass an fp32 plan handed to it by mistake
      expect(results.mixed.overall).toBeGreaterThan(results.fp32.overall);
    },
    600_000,
  );

  it(
    'one SGD step of φ=−6 at 64 px, batch 8, top mode (the last block and the head, BatchNorm frozen): every trained tensor’s update within 3e-2 of TF.js CPU’s',
    async (context) => {
      const gpu = await f16Device(context);
      if (!gpu) return;
      const c = CASE;
      const graph = buildNetworkGraph(c.variant, c.build);
      const blocks = planArchitecture(c.variant).blocks;
      const last = `${blocks[blocks.length - 1].name}_`;
      const trainable = (layer: string) => layer === 'predictions' || layer.startsWith('top_') || layer.startsWith(last);
      const options: TrainingStepOptions = { ...step(c.batch, true), mode: 'top', trainable, optimizer: { kind: 'sgd', weightDecay: 0 }, seed: 3 };
      const pair = await stepPair(c, gpu, graph, options, { mode: 'top', topBlocks: 1, freezeBatchNorm: true }, 'sgd', 0.1);
      expect(pair.gpuError).toBeNull();
      // frozen BatchNorm: no gradient is noise, and the last block's updates are far smaller than the head's
      const u = updateErrors(pair.before, pair.after, pair.got, 1e-5);
      console.log(JSON.stringify(u));
      // measured on lavapipe: worst 1.0e-2 (block7a_se_reduce/kernel), overall 3.0e-3
      expect(u.worst.error, u.worst.name).toBeLessThan(3e-2);
      expect(u.overall).toBeLessThan(1e-2);
      expect(u.compared).toBeGreaterThan(5);
    },
    600_000,
  );

  it('the forward plans in float16: probabilities and batch statistics of φ=−6 at 64 px, batch 8, near the fp32 plans’ (float16 rounding, not another computation)', { timeout: 600_000 }, async (context) => {
    const gpu = await f16Device(context);
    if (!gpu) return;
    const c = CASE;
    const graph = buildNetworkGraph(c.variant, c.build);
    const m = model(c);
    const x = pixels(c, 7);
    const names = movingStatisticNames(graph);
    const run = async (batchStatistics: boolean, f16Activations: boolean) => {
      const plan = planForward(gpu, graph, { batch: c.batch, batchStatistics, f16Activations });
      try {
        expect(plan.arena.halfLayout !== null).toBe(f16Activations);
        await plan.loadWeights(m);
        plan.setPixels(x);
        plan.run();
        const { probabilities } = await plan.read();
        const statistics = await plan.readStatistics();
        expect(gpu.error()).toBeNull();
        return { probabilities, statistics: names.map((n) => statistics.get(n)!) };
      } finally {
        plan.destroy();
      }
    };
    const errors: Record<string, number> = {};
    for (const batchStatistics of [false, true]) {
      const fp32 = await run(batchStatistics, false);
      const half = await run(batchStatistics, true);
      const key = batchStatistics ? 'statistics plan' : 'inference plan';
      errors[`${key}: probabilities`] = maxRelativeError(half.probabilities, fp32.probabilities);
      if (batchStatistics) errors[`${key}: statistics`] = Math.max(...half.statistics.map((s, i) => maxRelativeError(s, fp32.statistics[i])));
      else expect(half.statistics).toEqual(fp32.statistics);
    }
    console.log(JSON.stringify(errors));
    for (const [what, error] of Object.entries(errors)) {
      // measured on lavapipe: inference probabilities 3.0e-5, statistics plan's 1.9e-3, its statistics
      // 3.6e-3 (float16 keeps 11 bits, and batch statistics compound it); a kernel reading the wrong buffer is off by ~1
      expect(error, what).toBeLessThan(1e-2);
      expect(error, `${what} shows float16 rounding`).toBeGreaterThan(0);
    }
    m.dispose();
  });
});
