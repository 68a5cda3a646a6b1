/**
 * Top-N training images/s on the WASM backend (the default without a GPU), in one run on the same
 * model and data: the whole model in TF.js with its frozen trunk in inference mode (how top mode
 * trained before the inference engine; the reference), against the frozen trunk on ONNX Runtime
 * (every core) and only the trainable top in TF.js (how a run trains now). Each side trains at the
 * batch the memory estimate gives it (whole model: describeVariant; split: topTrainingMemory) and,
 * for a like-for-like figure, both at the reference's batch. A step = trunk (if split) + forward +
 * backward + optimizer update of the top; data decoding is left out (the pipeline bench measures it).
 * The split side is also timed at batch 8, 16 and 32, which is where MAX_AUTO_BATCH_CPU_TOP comes from.
 *
 *   npm run bench -- train-top [--variant b0] [--resolution 224] [--top 3] [--steps 3]
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type ActiveBackend } from '../../main/backend/tfjs-backend';
import type { TrainConfig } from '../../main/contract/calls-train';
import { buildEfficientNet } from '../../main/model/builder';
import { getVariant } from '../../main/model/variants';
import { chooseBatchSize } from '../../main/train/memory';
import { prepareForMode } from '../../main/train/model-setup';
import { createOptimizer } from '../../main/train/optimizer';
import { imageForward, trainStep } from '../../main/train/steps';
import { splitAtTop } from '../../main/train/frozen-on-onnx';
import { firstTopBlock } from '../../main/train/top-start';
import { emit, log, machine, option, round } from './lib/report';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CLASSES = 10;

export async function run(args: string[]): Promise<void> {
  const variantAt = args.indexOf('--variant');
  const variant = getVariant(variantAt >= 0 ? args[variantAt + 1] : 'b0');
  const resolution = option(args, 'resolution', 224);
  const topBlocks = option(args, 'top', 3);
  const steps = option(args, 'steps', 3);
  const backend = (await useBackend('wasm')) as ActiveBackend;
  const common = { bench: 'train-top', variant: variant.id, resolution, topBlocks, backend: backend.name, device: backend.device, ...machine() };

  const model = buildEfficientNet(variant, { classes: CLASSES, resolution, includeTop: true, seed: 1 });
  const config = { mode: 'top', topBlocks, freezeBatchNorm: true } as TrainConfig;
  const mode = prepareForMode(model, variant, config);
  const first = firstTopBlock(variant, topBlocks);
  const batchFor = (trainFrom: string | null) =>
    chooseBatchSize({ variant, resolution, classes: CLASSES, trainImages: 1024, memoryBytes: backend.memoryBytes, memorySource: backend.memorySource, onGpu: false, trainFrom });
  const wholeBatch = batchFor(null);
  const splitBatch = batchFor(first);
  log(`whole model: ${wholeBatch.reason}\nsplit: ${splitBatch.reason}`);
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-bench-top-'));
  const loss = { classes: CLASSES, labelSmoothing: 0, classWeights: null };
  try {
    const split = (await splitAtTop(model, variant, topBlocks, cacheDir))!;
    const summary: Record<string, unknown> = { ...common, kind: 'summary', trunkOn: `onnxruntime:${split.trunk.record.provider} (${split.trunk.record.threads ?? '-'} threads)` };
    const results: Record<string, number> = {};
    const sides: [string, number][] = [
      ['whole-tfjs', wholeBatch.batch],
      ['split-onnx-trunk', wholeBatch.batch],
      ...[8, 16, 32].filter((b) => b !== wholeBatch.batch).map((b): [string, number] => ['split-onnx-trunk', b]),
    ];
    for (const [side, batch] of sides) {
      const x = Float32Array.from({ length: batch * resolution * resolution * 3 }, (_, i) => (i * 37) % 256);
      const y = Int32Array.from({ length: batch }, (_, i) => i % CLASSES);
      const optimizer = createOptimizer('adamw', mode.variables, 0.01);
      const step = async () => {
        if (side === 'whole-tfjs') return trainStep(imageForward(model), optimizer, loss, x, [resolution, resolution, 3], y, 1e-3);
        const activations = await split.trunk.run(x, batch);
        return trainStep(imageForward(split.top), optimizer, loss, activations, split.activationShape, y, 1e-3);
      };
      await step(); // warm-up: kernel set-up, optimizer slots
      const started = performance.now();
      for (let i = 0; i < steps; i++) await step();
      const seconds = (performance.now() - started) / 1000;
      const imagesPerSecond = (steps * batch) / seconds;
      optimizer.dispose();
      results[`${side}@${batch}`] = imagesPerSecond;
      emit({ ...common, kind: 'side', side, batch, steps, secondsPerStep: round(seconds / steps, 3), imagesPerSecond: round(imagesPerSecond, 2) });
      log(`${side} batch ${batch}: ${round(imagesPerSecond, 2)} images/s (${round(seconds / steps, 2)} s/step)`);
    }
    summary.wholeBatch = wholeBatch.batch;
    summary.splitBatch = splitBatch.batch;
    summary.speedupSameBatch = round(results[`split-onnx-trunk@${wholeBatch.batch}`] / results[`whole-tfjs@${wholeBatch.batch}`], 2);
    summary.speedupEachOwnBatch = round(results[`split-onnx-trunk@${splitBatch.batch}`] / results[`whole-tfjs@${wholeBatch.batch}`], 2);
    emit(summary);
    split.top.dispose();
  } finally {
    model.dispose();
    tf.disposeVariables();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}
