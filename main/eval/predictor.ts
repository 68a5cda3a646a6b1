/**
 * What evaluation and assist ask of whoever runs the model: predict image files in batches (with
 * each batch's results handed over as they come) or one image's pixels. The service uses a
 * predictor process (predictor-client.ts) so the tensor work never blocks it; the process itself
 * runs a LocalPredictor, which is also what a process that may block (a script, a test) can use.
 */
import type { BackendName } from '../contract/calls-backend';
import { ensurePredictionBackend } from './prediction-backend';
import { predictImages, predictPixels, type ImageFile, type SkippedImage } from './predict-images';
import { RunModelCache, type ModelRef } from './run-model';

export interface PredictJob {
  model: ModelRef;
  /** force a backend; default: the best that can infer here */
  backend?: BackendName;
}

export interface FileCallbacks {
  onBatch: (predicted: { id: number; probs: Float32Array }[]) => void;
  onProgress: (done: number, total: number) => void;
}

export interface FilesPredicted {
  /** files that could not be read */
  skipped: SkippedImage[];
  /** TensorFlow.js' name of the backend that predicted */
  backend: string;
}

export interface Predictor {
  /** Predict the files; results arrive through onBatch. Resolves with the files that could not be read and the backend. */
  predictFiles(job: PredictJob, images: readonly ImageFile[], callbacks: FileCallbacks): Promise<FilesPredicted>;
  /** Probabilities of one image's model-input pixels (NHWC, RGB 0..255). */
  predictPixels(job: PredictJob, pixels: Float32Array): Promise<Float32Array>;
  close(): void;
}

/** Predicts in this process, on its TensorFlow.js backend, keeping the last model loaded. */
export class LocalPredictor implements Predictor {
  private readonly models = new RunModelCache();

  async predictFiles(job: PredictJob, images: readonly ImageFile[], callbacks: FileCallbacks): Promise<FilesPredicted> {
    const backend = await ensurePredictionBackend(job.backend);
    const { skipped } = await this.models.use(job.model, (model) => predictImages(model, images, callbacks));
    return { skipped, backend };
  }

  async predictPixels(job: PredictJob, pixels: Float32Array): Promise<Float32Array> {
    await ensurePredictionBackend(job.backend);
    return this.models.use(job.model, (model) => predictPixels(model, pixels, 1));
  }

  close(): void {
    this.models.dispose();
  }
}
