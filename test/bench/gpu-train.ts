/**
 * GPU training: our static-graph WebGPU engine (main/engine) against TF.js's WebGPU backend on the
 * same adapter, in the same run, one EfficientNet training step (forward, loss, backward, Adam) at
 * a time on the same random batch.
 *
 *   npm run bench -- gpu-train [--variant b0] [--resolution 224] [--batch 32] [--steps 10] [--classes 10] [--no-profile] [--compare-reductions] [--compare-paging] [--no-check]
 *
 * Where the adapter has shader-f16 the engine is measured twice, fp32 and mixed precision (float16
 * activations), and the correctness check runs for both.
 *
 * Also the forward an engine run validates on against TF.js's validation forward (inference images/s),
 * and on a GPU (--compare-paging on a software adapter) the same step with its arena paged over
 * several buffers, as an arena larger than one storage binding runs (arena-pages.ts).
 *
 * Figures: dispatches per step (ours from the plan; TF.js's counted by tf.profile as the kernels
 * one step runs), host milliseconds to encode and submit one step, images/s of both, the adapter and
 * its features, and (where the adapter has timestamp-query) a profile of our step by kernel
 * (engine/profile.ts). The B0 224 px batch 32 plan is always counted (without compiling a shader), the
 * issue's reference configuration. On a software adapter (SwiftShader) without --variant the
 * measured model is φ=−6 at 64 px, batch 8: B0 at 224 px would take hours there, and its arena
 * (2 GiB even with memory reuse by liveness) does not fit SwiftShader's largest binding (1 GiB).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TrainConfig } from '../../main/contract/calls-train';
import { useBackend } from '../../main/backend/tfjs-backend';
import { probeBackend } from '../../main/backend/probe';
import { STARTUP_ONLY_ENV } from '../../main/backend/webgpu-dawn';
import { openEngineDevice, type EngineDevice } from '../../main/engine/gpu-device';
import { profileDispatches } from '../../main/engine/profile';
import { buildNetworkGraph } from '../../main/engine/plan/network-graph';
import { countTrainingStep, planForward, planTrainingStep, type StepPlan, type TrainingStepOptions } from '../../main/engine/plan/step-plan';
import { buildEfficientNet } from '../../main/model/builder';
import { getVariant } from '../../main/model/variants';
import { prepareForMode } from '../../main/train/model-setup';
import { createOptimizer } from '../../main/train/optimizer';
import { imageForward, trainStep } from '../../main/train/steps';
import { emit, log, machine, option, round } from './lib/report';
import { stepPair, updateErrors, weightErrors, type StepCase } from '../fixtures/engine-step';

const LR = 1e-3;

function randomBatch(batch: number, resolution: number, classes: number, seed: number): { x: Float32Array; y: Int32Array } {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const x = new Float32Array(batch * resolution * resolution * 3);
  for (let i = 0; i < x.length; i++) x[i] = next() * 255;
  return { x, y: Int32Array.from({ length: batch }, (_, i) => i % classes) };
}

export async function run(args: string[]): Promise<void> {
  const text = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
  // the backend probe (a child process) finds the adapter this machine has and the environment it
  // needs, e.g. SwiftShader's driver where there is no GPU; the Vulkan loader reads it when Dawn starts
  const probe = await probeBackend('webgpu');
  if (!probe.loads) throw new Error(`no WebGPU adapter here: ${probe.reason}`);
  for (const [key, value] of Object.entries(probe.env)) if (!STARTUP_ONLY_ENV.has(key)) process.env[key] ??= value;
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  await useBackend('cpu');
  const gpu = await openEngineDevice({ timestamps: true });
  const software = gpu.adapter.software;
  const small = software && text('variant') === undefined;
  const variantId = text('variant') ?? (small ? 'phi=-6' : 'b0');
  const resolution = option(args, 'resolution', small ? 64 : 224);
  const batch = option(args, 'batch', small ? 8 : 32);
  const steps = option(args, 'steps', small ? 4 : 10);
  const classes = option(args, 'classes', 10);
  const common = { bench: 'gpu-train', adapter: gpu.adapter.device, software, f16: gpu.features.f16, subgroups: gpu.features.subgroups, timestamps: gpu.features.timestamps, ...machine() };
  if (small) log('software adapter: measuring φ=-6 at 64 px, batch 8 (pass --variant/--resolution/--batch to choose)');

  const stepOptions = (b: number, f16Activations = false, pageBytes?: number): TrainingStepOptions => ({ batch: b, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: null, seed: 1, f16Activations, ...(pageBytes ? { bindingBytes: pageBytes } : {}) });
  const b0 = buildNetworkGraph(getVariant('b0'), { classes, resolution: 224 });
  const reference = countTrainingStep(b0, stepOptions(32));
  const mixedReference = countTrainingStep(b0, stepOptions(32, true));
  emit({
    ...common,
    arm: 'plan-count',
    variant: 'b0',
    resolution: 224,
    batch: 32,
    dispatches: reference.dispatches,
    pipelines: reference.pipelines,
    arenaMiB: round(reference.arenaBytes / 2 ** 20),
    mixedPrecision: { pipelines: mixedReference.pipelines, arenaMiB: round(mixedReference.arenaBytes / 2 ** 20), halfArenaMiB: round(mixedReference.halfArenaBytes / 2 ** 20) },
  });

  // ---------- correctness on this adapter: one step of a φ=−6 model against TF.js CPU ----------
  if (!args.includes('--no-check')) {
    const c: StepCase = { variant: getVariant('phi=-6'), build: { classes: 3, resolution: 32, dropout: 0, dropConnect: 0, seed: 11 }, batch: 3 };
    const checkOptions: TrainingStepOptions = { batch: c.batch, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: null, seed: 3 };
    const pair = await stepPair(c, gpu, buildNetworkGraph(c.variant, c.build), checkOptions, { mode: 'full', topBlocks: null, freezeBatchNorm: false }, 'adam', LR);
    const errors = weightErrors(pair.got, pair.after, pair.grads);
    // the bars of test/unit/engine/step-plan.test.ts: 1e-4 relative where the gradient is above noise, one Adam step where it is not
    const ok = pair.gpuError === null && errors.worst.error < 1e-4 && errors.noisyWorst.difference < 2.5 * LR && errors.noisy / errors.total < 0.5;
    emit({
      ...common,
      arm: 'engine-check',
      note: 'one full-mode Adam step of φ=-6 at 32 px, batch 3, on the engine and on TF.js CPU from the same weights and batch',
      subgroupSize: gpu.subgroupSize,
      worstRelativeError: Number(errors.worst.error.toExponential(2)),
      worstWeight: errors.worst.name,
      noiseLevelValues: errors.noisy,
      values: errors.total,
      noiseLevelWorstStep: Number((errors.noisyWorst.difference / LR).toFixed(3)),
      loss: { engine: Number((pair.metrics.loss / c.batch).toFixed(5)), tfjs: Number(pair.result.loss.toFixed(5)) },
      gpuError: pair.gpuError,
      ok,
    });
    if (gpu.features.f16) await checkMixed(gpu, common, c, checkOptions);
  }

  // ---------- our engine ----------
  const build = { classes, resolution, seed: 1 };
  const graph = buildNetworkGraph(getVariant(variantId), build);
  const model = buildEfficientNet(variantId, build) as tfl.LayersModel;
  const { x, y } = randomBatch(batch, resolution, classes, 7);
  /** seconds for `n` steps of `plan`, waiting for the GPU before and after */
  const timeSteps = async (plan: StepPlan, n: number) => {
    await gpu.device.queue.onSubmittedWorkDone();
    const started = performance.now();
    for (let i = 0; i < n; i++) plan.step(LR);
    await gpu.device.queue.onSubmittedWorkDone();
    return (performance.now() - started) / 1000;
  };
  /**
   * `first` and `second` in turn, ROUNDS rounds of `steps` steps each (one after the other favours
   * whichever ran first on a software adapter): images/s per round, and second's median over first's
   */
  const ROUNDS = 3;
  const alternate = async (first: StepPlan, second: StepPlan) => {
    const firstRates: number[] = [];
    const secondRates: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      firstRates.push((steps * batch) / (await timeSteps(first, steps)));
      secondRates.push((steps * batch) / (await timeSteps(second, steps)));
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    return { first: firstRates.map((v) => round(v, 2)), second: secondRates.map((v) => round(v, 2)), ratio: round(median(secondRates) / median(firstRates), 3) };
  };
  /** plans, loads and times the step on `planGpu` (the device, or it with the subgroup reductions off) */
  const measure = async (planGpu: EngineDevice, f16Activations = false, pageBytes?: number) => {
    const planned = performance.now();
    const plan = planTrainingStep(planGpu, graph, stepOptions(batch, f16Activations, pageBytes));
    const planSeconds = (performance.now() - planned) / 1000;
    await plan.loadWeights(model);
    plan.setBatch(x, y);
    // the first steps pay for pipeline creation inside the driver
    const warm = performance.now();
    plan.step(LR);
    plan.step(LR);
    await gpu.device.queue.onSubmittedWorkDone();
    const warmSeconds = (performance.now() - warm) / 1000;
    let hostMs = 0;
    const started = performance.now();
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      plan.step(LR);
      hostMs += performance.now() - t;
    }
    await gpu.device.queue.onSubmittedWorkDone();
    const seconds = (performance.now() - started) / 1000;
    const metrics = await plan.readMetrics();
    const error = gpu.error();
    if (error) throw new Error(`the engine's device reported: ${error}`);
    const row = {
      variant: variantId,
      resolution,
      batch,
      steps,
      subgroupSize: planGpu.subgroupSize,
      precision: f16Activations ? 'mixed (float16 activations)' : 'fp32',
      dispatches: plan.dispatchCount,
      pipelines: plan.pipelineCount,
      arenaMiB: round(plan.arena.bytes / 2 ** 20),
      planSeconds: round(planSeconds, 2),
      firstTwoStepsSeconds: round(warmSeconds, 2),
      hostEncodeSubmitMs: round(hostMs / steps, 3),
      secondsPerStep: round(seconds / steps, 4),
      imagesPerSecond: round((steps * batch) / seconds, 2),
      meanLoss: round(metrics.loss / ((steps + 2) * batch), 4),
    };
    return { plan, row, imagesPerSecond: (steps * batch) / seconds };
  };
  // the reductions on shared memory alone, for the subgroups' share (on a GPU; --compare-reductions on a software adapter)
  if (gpu.subgroupSize > 0 && (!software || args.includes('--compare-reductions'))) {
    const shared = await measure({ ...gpu, subgroupSize: 0 });
    shared.plan.destroy();
    emit({ ...common, arm: 'engine-shared-memory-reductions', ...shared.row });
  }
  const { plan, row, imagesPerSecond } = await measure(gpu);
  const ours = { imagesPerSecond };
  emit({ ...common, arm: 'engine', ...row });
  // where the GPU time goes: each dispatch timed in a pass of its own (after the measured steps)
  if (gpu.features.timestamps && !args.includes('--no-profile')) {
    const profile = await profileDispatches(plan.arena, plan.dispatches);
    emit({
      ...common,
      arm: 'engine-profile',
      variant: variantId,
      resolution,
      batch,
      note: 'GPU time of each dispatch in a compute pass of its own (timestamp-query), summed by kernel: an upper bound of the one-pass step; shares say where the time goes',
      dispatches: profile.dispatches,
      totalMs: round(profile.totalMs, 3),
      kernels: profile.kernels.slice(0, 25).map((k) => ({ kernel: k.kernel, dispatches: k.dispatches, ms: round(k.ms, 3), share: round(k.share, 3) })),
    });
  }
  // validation's forward (an engine run validates on it after each epoch): inference images/s
  let inferenceImagesPerSecond: number | null = null;
  try {
    const forward = planForward(gpu, graph, { batch });
    forward.copyParamsFrom(plan);
    forward.setPixels(x);
    forward.run();
    await forward.read();
    const runs = Math.max(3, steps);
    const began = performance.now();
    for (let i = 0; i < runs; i++) forward.run();
    await forward.read();
    const seconds = (performance.now() - began) / 1000;
    inferenceImagesPerSecond = (runs * batch) / seconds;
    emit({ ...common, arm: 'engine-inference', note: 'the forward plan an engine run validates on (BatchNorm on moving statistics), the trained weights copied GPU to GPU', variant: variantId, resolution, batch, runs, dispatches: forward.dispatches.length, arenaMiB: round(forward.arena.bytes / 2 ** 20), imagesPerSecond: round(inferenceImagesPerSecond, 2) });
    forward.destroy();
  } catch (err) {
    emit({ ...common, arm: 'engine-inference', error: (err as Error).message });
  }
  // mixed precision beside fp32, where the adapter has shader-f16 (after fp32's figures: a failure here loses none of them)
  let mixedImagesPerSecond: number | null = null;
  if (gpu.features.f16) {
    try {
      const mixed = await measure(gpu, true);
      mixedImagesPerSecond = mixed.imagesPerSecond;
      emit({ ...common, arm: 'engine-mixed-precision', ...mixed.row });
      const rounds = await alternate(plan, mixed.plan);
      mixed.plan.destroy();
      emit({
        ...common,
        arm: 'engine-precision-alternating',
        note: `${ROUNDS} rounds of ${steps} steps each, fp32 then mixed, both plans resident: images/s per round and the medians`,
        variant: variantId,
        resolution,
        batch,
        fp32ImagesPerSecond: rounds.first,
        mixedImagesPerSecond: rounds.second,
        mixedOverFp32: rounds.ratio,
      });
    } catch (err) {
      emit({ ...common, arm: 'engine-mixed-precision', error: (err as Error).message });
    }
  }
  // the same step with its arena paged over 3–4 buffers (what an arena larger than one storage binding
  // runs on, arena-pages.ts) beside it on one buffer, alternating: the price of the page routing
  if (!software || args.includes('--compare-paging')) {
    try {
      const pageBytes = 2 ** Math.ceil(Math.log2(plan.arena.layout.bytes / 4));
      const paged = await measure(gpu, false, pageBytes);
      const rounds = await alternate(plan, paged.plan);
      const pages = paged.plan.arena.paging.f32Pages;
      paged.plan.destroy();
      emit({
        ...common,
        arm: 'engine-paged-alternating',
        note: `${ROUNDS} rounds of ${steps} steps each, the arena on one buffer then on ${pages} pages of ${pageBytes / 2 ** 20} MiB, both plans resident`,
        variant: variantId,
        resolution,
        batch,
        pages,
        onePageImagesPerSecond: rounds.first,
        pagedImagesPerSecond: rounds.second,
        pagedOverOnePage: rounds.ratio,
      });
    } catch (err) {
      emit({ ...common, arm: 'engine-paged-alternating', error: (err as Error).message });
    }
  }
  plan.destroy();
  model.dispose();

  // ---------- TF.js WebGPU, the same adapter ----------
  let theirs: { imagesPerSecond: number; dispatches: number } | null = null;
  let theirInference: number | null = null;
  try {
    await useBackend('webgpu');
    const m = buildEfficientNet(variantId, build) as tfl.LayersModel;
    const setup = prepareForMode(m, getVariant(variantId), { mode: 'full', topBlocks: null, freezeBatchNorm: false } as TrainConfig);
    const optimizer = createOptimizer('adam', setup.variables, 0);
    const loss = { classes, labelSmoothing: 0.1, classWeights: null };
    const shape = [resolution, resolution, 3];
    const step = () => trainStep(imageForward(m), optimizer, loss, x, shape, y, LR);
    await step();
    const profile = await tf.profile(async () => void (await step()));
    const tfSteps = Math.max(2, Math.round(steps / 2));
    const t = performance.now();
    for (let i = 0; i < tfSteps; i++) await step();
    const tfSeconds = (performance.now() - t) / 1000;
    theirs = { imagesPerSecond: (tfSteps * batch) / tfSeconds, dispatches: profile.kernels.length };
    emit({ ...common, arm: 'tfjs-webgpu', variant: variantId, resolution, batch, steps: tfSteps, kernelsPerStep: profile.kernels.length, secondsPerStep: round(tfSeconds / tfSteps, 4), imagesPerSecond: round(theirs.imagesPerSecond, 2) });
    // validation as a TF.js run computes it (evaluateBatch's forward)
    const predict = async () => {
      const out = tf.tidy(() => imageForward(m)(tf.tensor4d(x, [batch, resolution, resolution, 3]), false));
      await out.data();
      out.dispose();
    };
    await predict();
    const tp = performance.now();
    for (let i = 0; i < tfSteps; i++) await predict();
    theirInference = (tfSteps * batch) / ((performance.now() - tp) / 1000);
    emit({ ...common, arm: 'tfjs-webgpu-inference', variant: variantId, resolution, batch, runs: tfSteps, imagesPerSecond: round(theirInference, 2) });
    optimizer.dispose();
    m.dispose();
  } catch (err) {
    emit({ ...common, arm: 'tfjs-webgpu', skipped: (err as Error).message });
  }
  emit({
    ...common,
    summary: true,
    variant: variantId,
    resolution,
    batch,
    engineImagesPerSecond: round(ours.imagesPerSecond, 2),
    engineMixedPrecisionImagesPerSecond: mixedImagesPerSecond === null ? null : round(mixedImagesPerSecond, 2),
    tfjsWebgpuImagesPerSecond: theirs && round(theirs.imagesPerSecond, 2),
    speedup: theirs && round(ours.imagesPerSecond / theirs.imagesPerSecond, 2),
    inferenceImagesPerSecond: { engine: inferenceImagesPerSecond === null ? null : round(inferenceImagesPerSecond, 2), tfjsWebgpu: theirInference === null ? null : round(theirInference, 2) },
    dispatchesPerStep: { engine: plan.dispatchCount, tfjsKernels: theirs?.dispatches ?? null, b0At224Batch32: reference.dispatches },
    targets: 'B0 224 px batch 32: ≤ 800 dispatches, ≤ 5 ms host encode+submit, ≥ 50× TF.js WebGPU, ≥ 50 % of PyTorch on the same GPU (needs a GPU)',
  });
  gpu.release();
}

/** Mixed precision on this adapter: one SGD step at 64 px batch 8 against TF.js CPU, update by update (step-plan-f16.test.ts's bar); a failure is reported, not thrown. */
async function checkMixed(gpu: EngineDevice, common: Record<string, unknown>, c: StepCase, checkOptions: TrainingStepOptions): Promise<void> {
  try {
    const m: StepCase = { ...c, build: { ...c.build, resolution: 64 }, batch: 8 };
    const mixedOptions: TrainingStepOptions = { ...checkOptions, batch: m.batch, optimizer: { kind: 'sgd', weightDecay: 0 }, f16Activations: true };
    const mixed = await stepPair(m, gpu, buildNetworkGraph(m.variant, m.build), mixedOptions, { mode: 'full', topBlocks: null, freezeBatchNorm: false }, 'sgd', 0.1);
    const u = updateErrors(mixed.before, mixed.after, mixed.got);
    emit({
      ...common,
      arm: 'engine-check-mixed',
      note: 'one full-mode SGD step of φ=-6 at 64 px, batch 8, float16 activations, against TF.js CPU (fp32): ‖Δengine − Δtfjs‖ / ‖Δtfjs‖ per weight tensor',
      worstUpdateError: Number(u.worst.error.toExponential(2)),
      worstWeight: u.worst.name,
      overallUpdateError: Number(u.overall.toExponential(2)),
      tensors: u.compared,
      gpuError: mixed.gpuError,
      ok: mixed.gpuError === null && u.worst.error < 5e-2,
    });
  } catch (err) {
    emit({ ...common, arm: 'engine-check-mixed', error: (err as Error).message, ok: false });
  }
}
