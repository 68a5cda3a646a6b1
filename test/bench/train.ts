/**
 * Training throughput without a GPU: the plain JS CPU backend with its stock kernels against the
 * same backend with ours (main/backend/cpu-kernels), in the same process on the same model and
 * data, plus the WASM backend with our training kernels (stock WASM cannot train: it has no
 * Conv2DBackpropFilter). EfficientNet (default B0) at 64 px, batch 16; a step is one
 * model.trainOnBatch = forward + backward + Adam update.
 *
 *   npm run bench -- train [--batch 16] [--resolution 64] [--steps 3] [--stock-steps 1]
 *                          [--variant b0] [--no-wasm] [--profile]
 *
 * Order: CPU with our kernels (one warm-up step, then --steps timed), CPU stock (--stock-steps
 * timed; slow — minutes per step for B0 at batch 16; 0 skips it), WASM with our kernels (warm-up,
 * then --steps timed). Each side reports wall-clock images/s and the CPU seconds the process spent
 * per step (all threads; steadier than wall time when other programs share the machine).
 * --profile adds a per-kernel table for each side (tf.profile; the stock side profiles its timed
 * step, the others one extra step).
 * Output: one JSON line per side and a summary line with the ratios against CPU stock.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { registerFastCpuKernels, registerWasmTrainingKernels, unregisterFastCpuKernels } from '../../main/backend/cpu-kernels';
import { useBackend } from '../../main/backend/tfjs-backend';
import { buildEfficientNet } from '../../main/model/builder';
import { emit, log, machine, option, round } from './lib/report';

const CLASSES = 10;

type ProfileInfo = Awaited<ReturnType<typeof tf.profile>>;

interface Setup {
  variant: string;
  resolution: number;
  batch: number;
  profile: boolean;
  common: Record<string, unknown>;
}

interface SideResult {
  steps: number;
  imagesPerSecond: number;
  secondsPerStep: number;
  cpuSecondsPerStep: number;
  losses: number[];
}

export async function run(args: string[]): Promise<void> {
  const variantAt = args.indexOf('--variant');
  const variant = variantAt >= 0 ? args[variantAt + 1] : 'b0';
  const batch = option(args, 'batch', 16);
  const resolution = option(args, 'resolution', 64);
  const steps = option(args, 'steps', 3);
  const stockSteps = option(args, 'stock-steps', 1);
  const setup: Setup = {
    variant,
    resolution,
    batch,
    profile: args.includes('--profile'),
    common: { bench: 'train', variant, resolution, batch, ...machine() },
  };

  await useBackend('cpu');
  const cpu = await onBackend(setup, 'cpu', async (model, x, y) => {
    registerFastCpuKernels();
    const fast = await measureSide(setup, 'cpu', 'ours', model, x, y, steps);
    let stock: SideResult | null = null;
    if (stockSteps > 0) {
      unregisterFastCpuKernels();
      stock = await measureSide(setup, 'cpu', 'stock', model, x, y, stockSteps, { warmUp: false });
    }
    return { fast, stock };
  });

  let wasm: SideResult | null = null;
  if (!args.includes('--no-wasm')) {
    try {
      await useBackend('wasm');
      registerWasmTrainingKernels();
      wasm = await onBackend(setup, 'wasm', (model, x, y) => measureSide(setup, 'wasm', 'ours', model, x, y, steps));
    } catch (err) {
      log(`train: WASM side skipped: ${(err as Error).message}`);
    } finally {
      await useBackend('cpu');
    }
  }

  const { fast, stock } = cpu;
  emit({
    ...setup.common,
    summary: true,
    cpuStockImagesPerSecond: stock ? round(stock.imagesPerSecond, 3) : null,
    cpuOursImagesPerSecond: round(fast.imagesPerSecond, 3),
    wasmOursImagesPerSecond: wasm ? round(wasm.imagesPerSecond, 3) : null,
    cpuOursVsStock: stock ? round(fast.imagesPerSecond / stock.imagesPerSecond, 1) : null,
    wasmOursVsCpuStock: stock && wasm ? round(wasm.imagesPerSecond / stock.imagesPerSecond, 1) : null,
    cpuOursVsStockByCpuTime: stock ? round(stock.cpuSecondsPerStep / fast.cpuSecondsPerStep, 1) : null,
    wasmOursVsCpuStockByCpuTime: stock && wasm ? round(stock.cpuSecondsPerStep / wasm.cpuSecondsPerStep, 1) : null,
  });
}

type Body<T> = (model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor) => Promise<T>;

/** Build the model and data on the active backend, run body, dispose everything. */
async function onBackend<T>(setup: Setup, backend: string, body: Body<T>): Promise<T> {
  if (tf.getBackend() !== backend) throw new Error(`expected the ${backend} backend to be active, got ${tf.getBackend()}`);
  const model = buildEfficientNet(setup.variant, { resolution: setup.resolution, classes: CLASSES, seed: 1 });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.randomUniform([setup.batch, setup.resolution, setup.resolution, 3], 0, 255, 'float32', 7);
  const labels = tf.tensor1d(Array.from({ length: setup.batch }, (_, i) => i % CLASSES), 'int32');
  const y = tf.oneHot(labels, CLASSES);
  try {
    return await body(model, x, y);
  } finally {
    unregisterFastCpuKernels();
    tf.dispose([x, labels, y]);
    model.dispose();
  }
}

async function measureSide(
  setup: Setup,
  backend: string,
  kernels: 'ours' | 'stock',
  model: tfl.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  steps: number,
  options: { warmUp: boolean } = { warmUp: true },
): Promise<SideResult> {
  const label = `${backend} ${kernels}`;
  if (options.warmUp) {
    log(`train: ${label}: warm-up step (${setup.variant}, ${setup.resolution} px, batch ${setup.batch})`);
    await model.trainOnBatch(x, y);
  }
  let result: SideResult;
  // A profiled stock step is the timed step itself: one more would take minutes.
  if (setup.profile && kernels === 'stock') {
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const info = await profileStep(model, x, y);
    result = sideResult(setup.batch, 1, (performance.now() - started) / 1000, cpuSeconds(cpu0), []);
    emitProfile(setup, label, info);
  } else {
    result = await timeSteps(model, x, y, steps, setup.batch, label);
    if (setup.profile) emitProfile(setup, label, await profileStep(model, x, y));
  }
  emit({
    ...setup.common,
    backend,
    kernels,
    steps: result.steps,
    imagesPerSecond: round(result.imagesPerSecond, 3),
    secondsPerStep: round(result.secondsPerStep, 2),
    cpuSecondsPerStep: round(result.cpuSecondsPerStep, 2),
    losses: result.losses.map((l) => round(l, 4)),
  });
  return result;
}

async function timeSteps(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor, steps: number, batch: number, label: string): Promise<SideResult> {
  const losses: number[] = [];
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (let s = 0; s < steps; s++) {
    const stepStart = performance.now();
    const loss = (await model.trainOnBatch(x, y)) as number;
    losses.push(loss);
    log(`train: ${label}: step ${s + 1}/${steps}: ${((performance.now() - stepStart) / 1000).toFixed(2)} s, loss ${loss.toFixed(4)}`);
  }
  return sideResult(batch, steps, (performance.now() - started) / 1000, cpuSeconds(cpu0), losses);
}

function sideResult(batch: number, steps: number, seconds: number, cpu: number, losses: number[]): SideResult {
  return { steps, imagesPerSecond: (batch * steps) / seconds, secondsPerStep: seconds / steps, cpuSecondsPerStep: cpu / steps, losses };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

async function profileStep(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor): Promise<ProfileInfo> {
  return tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
}

/** Milliseconds per kernel name, largest first (op wrappers such as fusedConv2d__op left out). */
function emitProfile(setup: Setup, side: string, info: ProfileInfo): void {
  const byName = new Map<string, { calls: number; ms: number }>();
  for (const k of info.kernels) {
    if (k.name.endsWith('__op')) continue;
    const entry = byName.get(k.name) ?? { calls: 0, ms: 0 };
    entry.calls += 1;
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byName.set(k.name, entry);
  }
  const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms);
  emit({
    ...setup.common,
    profile: side,
    dispatches: info.kernels.length,
    kernelMs: round(rows.reduce((s, [, e]) => s + e.ms, 0), 0),
    top: rows.slice(0, 15).map(([name, e]) => ({ name, calls: e.calls, ms: round(e.ms, 1) })),
  });
}
