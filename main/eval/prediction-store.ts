/**
 * The predictions table: what a run's model gave for an image, stored by (run, image) with the
 * content hash it saw, so a prediction is reused until the file's content changes (a re-import
 * that finds a new hash makes it stale). Probabilities are float32 little-endian, one per class
 * of the run in output order.
 */
import type { Database } from '../project/database';
import { argMax } from './metrics';

export interface StoredPrediction {
  imageId: number;
  hash: string;
  probs: Float32Array;
}

export function encodeProbs(probs: Float32Array): Buffer {
  return Buffer.from(probs.buffer, probs.byteOffset, probs.byteLength);
}

export function decodeProbs(blob: Buffer): Float32Array {
  // a copy: the Buffer's memory need not be aligned for a Float32Array view
  return new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
}

/** The stored probabilities of the given images that are still valid (same hash), by image id. */
export function readPredictions(db: Database, runId: number, images: readonly { id: number; hash: string | null }[]): Map<number, Float32Array> {
  const select = db.prepare('SELECT hash, probs FROM predictions WHERE run_id = ? AND image_id = ?');
  const found = new Map<number, Float32Array>();
  for (const image of images) {
    if (image.hash === null) continue;
    const row = select.get(runId, image.id) as { hash: string; probs: Buffer } | undefined;
    if (row && row.hash === image.hash) found.set(image.id, decodeProbs(row.probs));
  }
  return found;
}

/** Store (or replace) predictions in one transaction. */
export function writePredictions(db: Database, runId: number, predictions: readonly StoredPrediction[]): void {
  const upsert = db.prepare(
    `INSERT INTO predictions (run_id, image_id, hash, top_class, confidence, probs, at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(run_id, image_id) DO UPDATE SET hash = excluded.hash, top_class = excluded.top_class,
       confidence = excluded.confidence, probs = excluded.probs, at = excluded.at`,
  );
  const at = new Date().toISOString();
  db.transaction(() => {
    for (const p of predictions) {
      const top = argMax(p.probs);
      upsert.run(runId, p.imageId, p.hash, top, p.probs[top], encodeProbs(p.probs), at);
    }
  }).immediate();
}
