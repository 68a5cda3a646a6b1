/**
 * Inference images/s of one model folder (default EfficientNet-B0 at 224 px), in one run:
 *   tfjs-wasm   the TF.js WASM backend (the inference path before ONNX Runtime; the reference)
 *   engine      our inference engine (main/inference: cached ONNX file, session options, softmax)
 *   bare-ort    onnxruntime-node alone on the same ONNX file with its default session options (no app code)
 * at each batch size, plus the pooled features of --images images (head-mode caching) through the
 * engine's features cut against TF.js WASM on the same backbone. Prints one JSON line per
 * measurement and a summary line with the ratios engine / bare-ort and engine / tfjs-wasm.
 *
 * Options: --model ID (default b0), --resolution N (224), --batches 8,32, --seconds S of timing per
 * measurement (default 20, at least --min-runs runs), --min-runs N (2), --images N for the features
 * measurement (default 64; 0 skips it), --skip-wasm 1 to leave TF.js out (it is slow).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { emit, log, machine, option, round } from './lib/report';

interface Timing {
  imagesPerSecond: number;
  runs: number;
  firstMs: number;
}

async function timeIt(batch: number, seconds: number, minRuns: number, once: () => Promise<unknown>): Promise<Timing> {
  const first = performance.now();
  await once();
  const firstMs = performance.now() - first;
  let runs = 0;
  const started = performance.now();
  while (runs < minRuns || performance.now() - started < seconds * 1000) {
    await once();
    runs++;
  }
  return { imagesPerSecond: (runs * batch) / ((performance.now() - started) / 1000), runs, firstMs };
}

export async function run(args: string[]): Promise<void> {
  const modelId = args.includes('--model') ? args[args.indexOf('--model') + 1] : 'b0';
  const resolution = option(args, 'resolution', 224);
  const batches = (args.includes('--batches') ? args[args.indexOf('--batches') + 1] : '8,32').split(',').map(Number);
  const seconds = option(args, 'seconds', 20);
  const minRuns = option(args, 'min-runs', 2);
  const featureImages = option(args, 'images', 64);
  const skipWasm = option(args, 'skip-wasm', 0) === 1;

  const { useBackend } = await import('../../main/backend/tfjs-backend');
  const { buildEfficientNet } = await import('../../main/model/builder');
  const { getVariant } = await import('../../main/model/variants');
  const { saveModelFolder } = await import('../../main/model/manager/model-folder');
  const { InferenceEngine } = await import('../../main/inference/inference-engine');
  const { cutModel } = await import('../../main/inference/onnx-file');
  const ort = await import('onnxruntime-node');

  await useBackend(skipWasm ? 'cpu' : 'wasm');
  const variant = getVariant(modelId);
  const model = buildEfficientNet(variant, { classes: 10, includeTop: true, resolution, seed: 1 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-bench-infer-'));
  try {
    const modelDir = path.join(dir, 'model');
    await saveModelFolder(model, modelDir, { variant: variant.id, resolution, classes: 10, input: 'RGB pixels 0..255' });
    const engine = new InferenceEngine();
    const opened = (await engine.open(modelDir, { kind: 'probabilities' }, { cacheDir: path.join(dir, 'onnx'), provider: 'cpu' }))!;
    const common = { bench: 'infer', model: variant.id, resolution, machine: machine(), provider: opened.record.provider, threads: opened.record.threads };
    const bare = await ort.InferenceSession.create(opened.onnx.file);
    const summary: Record<string, unknown> = { ...common, kind: 'summary' };

    for (const batch of batches) {
      const pixels = Float32Array.from({ length: batch * resolution * resolution * 3 }, (_, i) => (i * 37) % 256);
      const results: Record<string, Timing> = {};
      results.engine = await timeIt(batch, seconds, minRuns, () => opened.run(pixels, batch));
      results['bare-ort'] = await timeIt(batch, seconds, minRuns, async () => {
        const out = await bare.run({ pixels: new ort.Tensor('float32', pixels, [batch, resolution, resolution, 3]) });
        return out.probabilities.data;
      });
      if (!skipWasm) {
        results['tfjs-wasm'] = await timeIt(batch, seconds, minRuns, async () => {
          const y = tf.tidy(() => model.predict(tf.tensor4d(pixels, [batch, resolution, resolution, 3])) as tf.Tensor);
          await y.data();
          y.dispose();
        });
      }
      for (const [path_, t] of Object.entries(results)) {
        emit({ ...common, kind: 'predict', path: path_, batch, imagesPerSecond: round(t.imagesPerSecond, 2), timedRuns: t.runs, firstMs: Math.round(t.firstMs) });
        log(`batch ${batch} ${path_}: ${round(t.imagesPerSecond, 2)} images/s (${t.runs} runs)`);
      }
      summary[`batch${batch}EngineOverBareOrt`] = round(results.engine.imagesPerSecond / results['bare-ort'].imagesPerSecond, 3);
      if (results['tfjs-wasm']) summary[`batch${batch}EngineOverWasm`] = round(results.engine.imagesPerSecond / results['tfjs-wasm'].imagesPerSecond, 2);
    }

    if (featureImages > 0) {
      const features = (await engine.open(modelDir, { kind: 'features' }, { cacheDir: path.join(dir, 'onnx'), provider: 'cpu' }))!;
      const batch = 16;
      const pixels = Float32Array.from({ length: batch * resolution * resolution * 3 }, (_, i) => (i * 13) % 256);
      const steps = Math.ceil(featureImages / batch);
      const timeFeatures = async (once: () => Promise<unknown>) => {
        const started = performance.now();
        for (let s = 0; s < steps; s++) await once();
        return (steps * batch) / ((performance.now() - started) / 1000);
      };
      const engineRate = await timeFeatures(() => features.run(pixels, batch));
      emit({ ...common, kind: 'features', path: 'engine', images: steps * batch, imagesPerSecond: round(engineRate, 2) });
      summary.featuresEngineImagesPerSecond = round(engineRate, 2);
      if (!skipWasm) {
        const backbone = cutModel(model, { kind: 'features' });
        const wasmRate = await timeFeatures(async () => {
          const y = tf.tidy(() => backbone.predict(tf.tensor4d(pixels, [batch, resolution, resolution, 3])) as tf.Tensor);
          await y.data();
          y.dispose();
        });
        emit({ ...common, kind: 'features', path: 'tfjs-wasm', images: steps * batch, imagesPerSecond: round(wasmRate, 2) });
        summary.featuresEngineOverWasm = round(engineRate / wasmRate, 2);
      }
    }
    emit(summary);
    await bare.release();
    await engine.close();
  } finally {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
