/**
 * Head-only training works on backbone features, not pixels: each image's pooled feature vector is
 * computed once and cached in the project (main/project/embeddings.ts) under its content hash, a key
 * of the backbone weights and the resolution. Training the head then takes seconds, and a run after
 * labeling more images computes only the new ones.
 *
 * The weights key is a hash of every backbone weight (plus the architecture choices that change
 * features without being weights), so any change of weights — another file, another seed of a
 * from-scratch backbone, a fine-tuned backbone — misses the cache instead of reusing stale vectors.
 * Images are decoded with the evaluation preprocessing (preprocessForInference): features of
 * augmented images would differ every epoch and could not be cached.
 */
import crypto from 'node:crypto';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { SplitName } from '../contract/contract';
import type { SkippedImage } from '../contract/calls-data';
import type { BuildOptions } from '../model/build-options';
import type { Database } from '../project/database';
import { getEmbeddings, putEmbeddings, type EmbeddingKey } from '../project/embeddings';
import { preprocessFileForInference } from '../dataset/image-pixels';
import { imageFsPath, isFileAt, PATH_BYTES, type FsPath } from '../dataset/file-name-bytes';

export interface LabeledImage {
  id: number;
  path: string;
  /** what opens it (raw bytes for a name that is not UTF-8: dataset/file-name-bytes.ts) */
  file: FsPath;
  hash: string;
  label: number;
  split: SplitName;
}

export interface FeatureSet {
  /** [n, dim] */
  vectors: Float32Array;
  labels: Int32Array;
  ids: number[];
  dim: number;
}

export interface Features {
  train: FeatureSet;
  val: FeatureSet;
  computed: number;
  cached: number;
  skipped: SkippedImage[];
}

/**
 * Key of the cache for this backbone: variant, feature-changing build options and a hash of all
 * backbone weights. Reads are asynchronous (data(), never dataSync()): WebGPU in Node has no
 * synchronous read-back.
 */
export async function backboneWeightsKey(backbone: tfl.LayersModel, variantId: string, options: BuildOptions): Promise<string> {
  const hash = crypto.createHash('sha256');
  for (const w of backbone.weights) {
    hash.update(w.originalName);
    const data = (await w.read().data()) as Float32Array;
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return `${variantId}|${options.padding ?? 'tf-same'}|${hash.digest('hex').slice(0, 32)}`;
}

/** The usable labeled images of the train and val splits for these classes (model output order). */
export function labeledImages(db: Database, classes: readonly string[]): { images: LabeledImage[]; skipped: SkippedImage[] } {
  const rows = db
    .prepare(
      `SELECT i.id, i.path, ${PATH_BYTES}, i.hash, i.split, c.name AS class_name FROM images i JOIN classes c ON c.id = i.class_id
       WHERE i.status = 'ok' AND i.excluded = 0 AND i.split IN ('train', 'val') ORDER BY c.name, i.hash`,
    )
    .all() as { id: number; path: string; pathBytes: Buffer | null; hash: string; split: SplitName; class_name: string }[];
  const labels = new Map(classes.map((name, i) => [name, i]));
  const images: LabeledImage[] = [];
  const skipped: SkippedImage[] = [];
  for (const row of rows) {
    const label = labels.get(row.class_name);
    if (label === undefined) continue;
    if (!isFileAt(imageFsPath(row))) skipped.push({ id: row.id, path: row.path, reason: 'the file no longer exists' });
    else images.push({ id: row.id, path: row.path, file: imageFsPath(row), hash: row.hash, label, split: row.split });
  }
  return { images, skipped };
}

/**
 * Features of every image: from the cache, else computed in batches of `batch` and stored after each
 * batch (a killed run keeps what it computed). `onBatch` reports progress and may throw to stop.
 */
export async function computeFeatures(options: {
  db: Database;
  backbone: tfl.LayersModel;
  key: EmbeddingKey;
  images: readonly LabeledImage[];
  skipped: SkippedImage[];
  batch: () => number;
  /** features [count × dim] of `count` images of model-input pixels (NHWC, RGB 0..255) */
  runBatch: (pixels: Float32Array, count: number) => Promise<Float32Array>;
  onBatch: (done: number, total: number) => Promise<void>;
}): Promise<Features> {
  const { db, key, images } = options;
  const found = getEmbeddings(db, key, images.map((i) => i.hash));
  const missing = images.filter((i) => !found.has(i.hash));
  const resolution = key.resolution;
  let done = 0;
  await options.onBatch(0, missing.length);
  while (done < missing.length) {
    const members = missing.slice(done, done + options.batch());
    const pixels = await Promise.all(
      members.map((image) =>
        preprocessFileForInference(image.file, resolution).catch((err: Error) => {
          options.skipped.push({ id: image.id, path: image.path, reason: isFileAt(image.file) ? err.message : 'the file no longer exists' });
          return null;
        }),
      ),
    );
    const ok = members.filter((_, i) => pixels[i] !== null);
    if (ok.length > 0) {
      const x = new Float32Array(ok.length * resolution * resolution * 3);
      let at = 0;
      for (const p of pixels) {
        if (!p) continue;
        x.set(p, at);
        at += p.length;
      }
      const vectors = await options.runBatch(x, ok.length);
      const dim = vectors.length / ok.length;
      const items = ok.map((image, i) => ({ hash: image.hash, vector: vectors.slice(i * dim, (i + 1) * dim) }));
      putEmbeddings(db, key, items);
      for (const item of items) found.set(item.hash, item.vector);
    }
    done += members.length;
    await options.onBatch(done, missing.length);
  }
  const failed = new Set(options.skipped.map((s) => s.id));
  const usable = images.filter((i) => !failed.has(i.id) && found.has(i.hash));
  const computed = missing.length - missing.filter((m) => failed.has(m.id)).length;
  return { train: featureSet(usable.filter((i) => i.split === 'train'), found), val: featureSet(usable.filter((i) => i.split === 'val'), found), computed, cached: images.length - missing.length, skipped: options.skipped };
}

function featureSet(images: readonly LabeledImage[], vectors: ReadonlyMap<string, Float32Array>): FeatureSet {
  const dim = images.length > 0 ? vectors.get(images[0].hash)!.length : 0;
  const out = new Float32Array(images.length * dim);
  images.forEach((image, i) => out.set(vectors.get(image.hash)!, i * dim));
  return { vectors: out, labels: Int32Array.from(images, (i) => i.label), ids: images.map((i) => i.id), dim };
}
