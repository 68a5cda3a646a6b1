/**
 * Image files through a PredictionModel, in batches: each file decoded exactly as evaluation after
 * training decodes it (preprocessForInference), so an export predicts what the app predicts.
 * A file that cannot be decoded gets its error; the others are predicted.
 */
import { rankClasses } from '../../eval/metrics';
import { preprocessFileForInference } from '../../dataset/image-pixels';
import { shownPath, type FsPath } from '../../dataset/file-name-bytes';
import type { PredictionModel } from './prediction-model';

export interface ImageProbabilities {
  /** the text form of the file's path (dataset/file-name-bytes.ts) */
  path: string;
  /** one per class of the model; null when the file could not be read */
  probabilities: Float32Array | null;
  error: string | null;
}

/** `files`: what opens each (a text path, or the raw bytes of one that is not UTF-8). */
export async function predictImages(model: PredictionModel, files: readonly FsPath[], onBatch?: (done: number) => void): Promise<ImageProbabilities[]> {
  const size = model.resolution * model.resolution * 3;
  const results: ImageProbabilities[] = [];
  for (let start = 0; start < files.length; start += model.maxBatch) {
    const chunk = files.slice(start, start + model.maxBatch);
    const decoded = await Promise.all(
      chunk.map(async (file) => {
        try {
          return { file, pixels: await preprocessFileForInference(file, model.resolution), error: null };
        } catch (err) {
          return { file, pixels: null, error: (err as Error).message };
        }
      }),
    );
    const ok = decoded.filter((d) => d.pixels !== null);
    const batch = new Float32Array(ok.length * size);
    ok.forEach((d, i) => batch.set(d.pixels!, i * size));
    const probs = ok.length > 0 ? await model.run(batch, ok.length) : new Float32Array(0);
    const classes = model.classes.length;
    let k = 0;
    for (const d of decoded) {
      if (d.pixels === null) results.push({ path: shownPath(d.file), probabilities: null, error: d.error });
      else {
        results.push({ path: shownPath(d.file), probabilities: probs.slice(k * classes, (k + 1) * classes), error: null });
        k++;
      }
    }
    onBatch?.(results.length);
  }
  return results;
}

/** Index of the largest probability (the first one on ties): the evaluation's argMax. */
export { argMax as argmax } from '../../eval/metrics';

/** The k most probable classes, most probable first (ties: class order). */
export function topClasses(probabilities: ArrayLike<number>, classes: readonly string[], k: number): { className: string; probability: number }[] {
  return rankClasses(probabilities)
    .slice(0, Math.min(k, classes.length))
    .map((i) => ({ className: classes[i], probability: probabilities[i] }));
}
