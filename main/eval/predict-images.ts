/**
 * Running a run's model on image files: decoded with the one inference preprocessing
 * (preprocessForInference, as training evaluates), in batches, each batch's decoding overlapping
 * the previous batch's prediction. Missing and unreadable files are skipped with a reason.
 *
 * It runs in the predictor process (predictor-process.ts), which sends progress and results as
 * batches finish: on the CPU backends (wasm, cpu) a predict call computes synchronously for its
 * whole batch, so the batch adapts to the measured time per image (about BATCH_TARGET_MS a batch,
 * at most MAX_BATCH images) and the loop yields between batches, so messages go out steadily.
 */
import { readAsImported } from '../dataset/as-imported';
import * as tf from '@tensorflow/tfjs-core';
import type { SkippedImage } from '../contract/calls-data';
import { preprocessForInference } from '../dataset/image-pixels';
import type { RunModel } from './run-model';
import { existsAt, imageFsPath } from '../dataset/file-name-bytes';

/** Whatever predicts pixels: a run's model on ONNX Runtime or on TF.js (predictor.ts picks). */
export interface PixelModel {
  resolution: number;
  classes: number;
  /** probabilities [count × classes] of `count` images of model-input pixels (NHWC, RGB 0..255) */
  predict(pixels: Float32Array, count: number): Promise<Float32Array>;
}

export interface ImageFile {
  id: number;
  path: string;
  /** the raw path when it is not UTF-8 (dataset/file-name-bytes.ts); absent or null: the path opens it */
  pathBytes?: Buffer | null;
  /** the format its import recorded (a project image): the bytes must still be it */
  format?: string | null;
}

export interface PredictOptions {
  /** after every batch: images done (predicted or skipped) of total */
  onProgress?: (done: number, total: number) => void;
  /** after every batch, with that batch's predictions (to store them as they come) */
  onBatch?: (predicted: { id: number; probs: Float32Array }[]) => void;
}

/** How long one batch may hold the event loop, roughly. */
export const BATCH_TARGET_MS = 100;
const FIRST_BATCH = 4;
const MAX_BATCH = 32;

export const MISSING_FILE_REASON = 'the file no longer exists';

export async function predictImages(runModel: PixelModel, images: readonly ImageFile[], options: PredictOptions = {}): Promise<{ skipped: SkippedImage[] }> {
  const skipped: SkippedImage[] = [];
  const size = runModel.resolution * runModel.resolution * 3;
  let batch = FIRST_BATCH;
  let next = 0;
  const decodeNext = (count: number) => {
    const slice = images.slice(next, next + count);
    next += slice.length;
    return { count: slice.length, decoded: decodeBatch(slice, runModel.resolution, skipped) };
  };
  let pending = decodeNext(batch);
  let done = 0;
  while (pending.count > 0) {
    const decoded = await pending.decoded;
    done += pending.count;
    // the next batch decodes on sharp's threads while this one is predicted
    pending = decodeNext(batch);
    if (decoded.length > 0) {
      const started = performance.now();
      const pixels = new Float32Array(decoded.length * size);
      decoded.forEach((d, i) => pixels.set(d.pixels, i * size));
      const values = await runModel.predict(pixels, decoded.length);
      const classes = runModel.classes;
      options.onBatch?.(decoded.map((d, i) => ({ id: d.id, probs: values.slice(i * classes, (i + 1) * classes) })));
      const perImage = (performance.now() - started) / decoded.length;
      batch = Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_TARGET_MS / Math.max(perImage, 0.1))));
    }
    options.onProgress?.(done, images.length);
    // let other calls (project.status, the grid) run between batches
    await new Promise((resolve) => setImmediate(resolve));
  }
  skipped.sort((a, b) => a.id - b.id);
  return { skipped };
}

/** Probabilities [count × classes] of `count` images of model-input pixels (NHWC, RGB 0..255), on TF.js. */
export async function predictPixels(runModel: RunModel, pixels: Float32Array, count: number): Promise<Float32Array> {
  const out = tf.tidy(() => {
    const y = runModel.model.predict(tf.tensor4d(pixels, [count, runModel.resolution, runModel.resolution, 3])) as tf.Tensor;
    return runModel.softmaxInside ? y : tf.softmax(y);
  });
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

async function decodeBatch(images: readonly ImageFile[], resolution: number, skipped: SkippedImage[]): Promise<{ id: number; pixels: Float32Array }[]> {
  const results = await Promise.all(
    images.map(async (image) => {
      const file = imageFsPath(image);
      if (!existsAt(file)) {
        skipped.push({ id: image.id, path: image.path, reason: MISSING_FILE_REASON });
        return null;
      }
      try {
        // sharp opens a text path itself; raw bytes of a path are read here (file-name-bytes.ts)
        const source = image.format === undefined && typeof file === 'string' ? file : await readAsImported(file, image.format);
        return { id: image.id, pixels: await preprocessForInference(source, resolution, image.path) };
      } catch (err) {
        skipped.push({ id: image.id, path: image.path, reason: (err as Error).message });
        return null;
      }
    }),
  );
  return results.filter((r): r is { id: number; pixels: Float32Array } => r !== null);
}
