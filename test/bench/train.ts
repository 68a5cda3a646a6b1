/**
 * Training throughput on the plain JS CPU backend, stock kernels against ours
 * (main/backend/cpu-kernels), in the same process on the same model and data:
 * EfficientNet (default B0) at 64 px, batch 16, one model.trainOnBatch = forward + backward + Adam.
 *
 *   npm run bench -- train [--batch 16] [--resolution 64] [--steps 3] [--stock-steps 1]
 *                          [--variant b0] [--profile]
 *
 * Order: one warm-up step with our kernels (JIT, Adam's slot variables), --steps timed steps with
 * ours, then --stock-steps timed steps with the stock kernels (slow: B0 at 64 px, batch 16, takes
 * minutes per step; --stock-steps 0 skips them). --profile adds a per-kernel time table for each
 * side (tf.profile; the stock side profiles its timed step, ours one extra step).
 * Output: one JSON line per side and a summary line with the ratio.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { registerFastCpuKernels, unregisterFastCpuKernels } from '../../main/backend/cpu-kernels';
import { useBackend } from '../../main/backend/tfjs-backend';
import { buildEfficientNet } from '../../main/model/builder';
import { emit, log, machine, option, round } from './lib/report';

const CLASSES = 10;

type ProfileInfo = Awaited<ReturnType<typeof tf.profile>>;

interface SideResult {
  imagesPerSecond: number;
  secondsPerStep: number;
  losses: number[];
}

export async function run(args: string[]): Promise<void> {
  const batch = option(args, 'batch', 16);
  const resolution = option(args, 'resolution', 64);
  const steps = option(args, 'steps', 3);
  const stockSteps = option(args, 'stock-steps', 1);
  const variantAt = args.indexOf('--variant');
  const variant = variantAt >= 0 ? args[variantAt + 1] : 'b0';
  const profile = args.includes('--profile');

  await useBackend('cpu');
  const model = buildEfficientNet(variant, { resolution, classes: CLASSES, seed: 1 });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.randomUniform([batch, resolution, resolution, 3], 0, 255, 'float32', 7);
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % CLASSES), 'int32');
  const y = tf.oneHot(labels, CLASSES);
  const setup = { bench: 'train', variant, resolution, batch, backend: tf.getBackend(), ...machine() };

  try {
    registerFastCpuKernels();
    log(`train: warm-up step (${variant}, ${resolution} px, batch ${batch}) with our kernels`);
    await model.trainOnBatch(x, y);

    const ours = await timeSteps(model, x, y, steps, batch, 'fast');
    emit({ ...setup, kernels: 'fast', steps, ...rounded(ours) });
    if (profile) emitProfile(setup, 'fast', await profileStep(model, x, y));

    if (stockSteps > 0) {
      unregisterFastCpuKernels();
      let stock: SideResult;
      if (profile) {
        const started = performance.now();
        const info = await profileStep(model, x, y);
        const seconds = (performance.now() - started) / 1000;
        stock = { imagesPerSecond: batch / seconds, secondsPerStep: seconds, losses: [] };
        emitProfile(setup, 'stock', info);
      } else {
        stock = await timeSteps(model, x, y, stockSteps, batch, 'stock');
      }
      emit({ ...setup, kernels: 'stock', steps: profile ? 1 : stockSteps, ...rounded(stock) });
      emit({
        ...setup,
        summary: true,
        stockImagesPerSecond: round(stock.imagesPerSecond, 3),
        fastImagesPerSecond: round(ours.imagesPerSecond, 3),
        ratio: round(ours.imagesPerSecond / stock.imagesPerSecond, 1),
      });
    }
  } finally {
    unregisterFastCpuKernels();
    tf.dispose([x, labels, y]);
    model.dispose();
  }
}

async function timeSteps(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor, steps: number, batch: number, label: string): Promise<SideResult> {
  const losses: number[] = [];
  const started = performance.now();
  for (let s = 0; s < steps; s++) {
    const stepStart = performance.now();
    const loss = (await model.trainOnBatch(x, y)) as number;
    losses.push(loss);
    log(`train: ${label} step ${s + 1}/${steps}: ${((performance.now() - stepStart) / 1000).toFixed(2)} s, loss ${loss.toFixed(4)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  return { imagesPerSecond: (batch * steps) / seconds, secondsPerStep: seconds / steps, losses };
}

function rounded(r: SideResult): Record<string, unknown> {
  return {
    imagesPerSecond: round(r.imagesPerSecond, 3),
    secondsPerStep: round(r.secondsPerStep, 2),
    losses: r.losses.map((l) => round(l, 4)),
  };
}

async function profileStep(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor): Promise<ProfileInfo> {
  return tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
}

/** Milliseconds per kernel name, largest first (op wrappers such as fusedConv2d__op left out). */
function emitProfile(setup: Record<string, unknown>, kernels: string, info: ProfileInfo): void {
  const byName = new Map<string, { calls: number; ms: number }>();
  for (const k of info.kernels) {
    if (k.name.endsWith('__op')) continue;
    const entry = byName.get(k.name) ?? { calls: 0, ms: 0 };
    entry.calls += 1;
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byName.set(k.name, entry);
  }
  const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const totalMs = rows.reduce((s, [, e]) => s + e.ms, 0);
  emit({
    ...setup,
    profile: kernels,
    dispatches: info.kernels.length,
    kernelMs: round(totalMs, 0),
    top: rows.slice(0, 15).map(([name, e]) => ({ name, calls: e.calls, ms: round(e.ms, 1) })),
  });
}
