/**
 * What evaluation and assist ask of whoever runs the model: predict image files in batches (with
 * each batch's results handed over as they come) or one image's pixels. The service uses a
 * predictor process (predictor-client.ts) so the tensor work never blocks it; the process itself
 * runs a LocalPredictor, which is also what a process that may block (a script, a test) can use.
 *
 * Predictions run on ONNX Runtime (main/inference: the run's model converted once, cached beside
 * the run as <run>/onnx/, on the best execution provider or a forced one). TF.js predicts when a
 * TF.js backend is forced (--backend) or when ONNX Runtime cannot load here.
 */
import path from 'node:path';
import { ApiError } from '../contract/contract';
import type { BackendName } from '../contract/calls-backend';
import type { SkippedImage } from '../contract/calls-data';
import type { ProviderName } from '../contract/calls-inference';
import { InferenceEngine } from '../inference/inference-engine';
import { ensurePredictionBackend } from './prediction-backend';
import { predictImages, predictPixels, type ImageFile, type PixelModel } from './predict-images';
import { RunModelCache, type ModelRef } from './run-model';

export interface PredictJob {
  model: ModelRef;
  /** force a TF.js backend (TF.js then predicts); default: ONNX Runtime */
  backend?: BackendName;
  /** force an ONNX Runtime execution provider; default: the best that loads on real hardware */
  provider?: ProviderName;
}

export interface FileCallbacks {
  onBatch: (predicted: { id: number; probs: Float32Array }[]) => void;
  onProgress: (done: number, total: number) => void;
}

export interface FilesPredicted {
  /** files that could not be read */
  skipped: SkippedImage[];
  /** what predicted: 'onnxruntime:<provider>', or TensorFlow.js' name of its backend */
  backend: string;
}

export interface Predictor {
  /** Predict the files; results arrive through onBatch. Resolves with the files that could not be read and what predicted. */
  predictFiles(job: PredictJob, images: readonly ImageFile[], callbacks: FileCallbacks): Promise<FilesPredicted>;
  /** Probabilities of one image's model-input pixels (NHWC, RGB 0..255). */
  predictPixels(job: PredictJob, pixels: Float32Array): Promise<Float32Array>;
  close(): void;
}

/** The ONNX files of a run's model are cached beside it: <run>/model → <run>/onnx. */
export function onnxCacheOf(model: ModelRef): string {
  return path.join(path.dirname(model.dir), 'onnx');
}

/** Predicts in this process: on ONNX Runtime, or on its TensorFlow.js backend (keeping the last model loaded). */
export class LocalPredictor implements Predictor {
  private readonly models = new RunModelCache();
  private readonly engine = new InferenceEngine();

  async predictFiles(job: PredictJob, images: readonly ImageFile[], callbacks: FileCallbacks): Promise<FilesPredicted> {
    const onnx = await this.onnxModel(job);
    if (onnx) {
      const { skipped } = await predictImages(onnx.model, images, callbacks);
      return { skipped, backend: onnx.name };
    }
    const backend = await ensurePredictionBackend(job.backend);
    const { skipped } = await this.models.use(job.model, (model) => predictImages({ ...model, predict: (pixels, count) => predictPixels(model, pixels, count) }, images, callbacks));
    return { skipped, backend };
  }

  async predictPixels(job: PredictJob, pixels: Float32Array): Promise<Float32Array> {
    const onnx = await this.onnxModel(job);
    if (onnx) return onnx.model.predict(pixels, 1);
    await ensurePredictionBackend(job.backend);
    return this.models.use(job.model, (model) => predictPixels(model, pixels, 1));
  }

  close(): void {
    this.models.dispose();
    void this.engine.close();
  }

  /** Let go of the ONNX sessions of files under `dir` (a closed project's folder) and the loaded TF.js model. */
  async release(dir: string): Promise<void> {
    this.models.dispose();
    await this.engine.releaseUnder(dir);
  }

  /** The run's model on ONNX Runtime, unless a TF.js backend is forced or ONNX Runtime cannot run here. */
  private async onnxModel(job: PredictJob): Promise<{ model: PixelModel; name: string } | null> {
    if (job.backend && !job.provider) return null;
    const opened = await this.engine.open(job.model.dir, { kind: 'probabilities' }, { cacheDir: onnxCacheOf(job.model), provider: job.provider });
    if (!opened) return null;
    if (opened.outputSize !== job.model.classes || opened.onnx.input[0] !== job.model.resolution) {
      throw new ApiError('invalid_input', `the model in ${job.model.dir} takes ${opened.onnx.input.join('×')} pixels and gives ${opened.outputSize} classes, but its run trained ${job.model.resolution}×${job.model.resolution} RGB images of ${job.model.classes} classes`);
    }
    return { model: { resolution: job.model.resolution, classes: job.model.classes, predict: (pixels, count) => opened.run(pixels, count) }, name: `onnxruntime:${opened.record.provider}` };
  }
}
