/**
 * The embeddings cache of head-only training: the backbone's feature vector of an image, keyed by
 * the image's content hash, the weights that computed it and the input resolution. Keyed by content,
 * not by image id, so a renamed or re-imported file keeps its vector and retraining after labeling
 * more images computes only the new ones. Vectors are float32, little-endian, in a BLOB.
 */
import { ApiError } from '../contract/contract';
import type { Database } from './database';

export interface EmbeddingKey {
  /** identifies the backbone weights (e.g. a weights id plus variant); any change must change the key */
  weightsKey: string;
  resolution: number;
}

/** The cached vectors of these image hashes; hashes without one are simply absent from the map. */
export function getEmbeddings(db: Database, key: EmbeddingKey, hashes: readonly string[]): Map<string, Float32Array> {
  const found = new Map<string, Float32Array>();
  if (hashes.length === 0) return found;
  // json_each takes the whole list as one parameter: no limit on the number of hashes.
  const rows = db
    .prepare('SELECT hash, dim, vector FROM embeddings WHERE weights_key = ? AND resolution = ? AND hash IN (SELECT value FROM json_each(?))')
    .all(key.weightsKey, key.resolution, JSON.stringify(hashes)) as { hash: string; dim: number; vector: Buffer }[];
  for (const row of rows) found.set(row.hash, toFloat32(row.vector, row.dim, row.hash));
  return found;
}

/** Store (or replace) vectors in one transaction; every vector must have the same length. Returns how many were written. */
export function putEmbeddings(db: Database, key: EmbeddingKey, items: readonly { hash: string; vector: Float32Array }[]): number {
  if (!key.weightsKey) throw new ApiError('invalid_input', 'embeddings need a weights key');
  if (!Number.isInteger(key.resolution) || key.resolution < 1) throw new ApiError('invalid_input', `embedding resolution must be a positive whole number, not ${key.resolution}`);
  if (items.length === 0) return 0;
  const dim = items[0].vector.length;
  for (const item of items) {
    if (!item.hash) throw new ApiError('invalid_input', 'an embedding needs the image content hash');
    if (item.vector.length !== dim || dim === 0) throw new ApiError('invalid_input', `embedding of ${item.hash} has ${item.vector.length} values; expected ${dim} like the others`);
  }
  const insert = db.prepare('INSERT OR REPLACE INTO embeddings (hash, weights_key, resolution, dim, vector) VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const item of items) insert.run(item.hash, key.weightsKey, key.resolution, dim, toBlob(item.vector));
  }).immediate();
  return items.length;
}

/** Drop cached vectors: of one weights key, or all of them. Returns how many were removed. */
export function deleteEmbeddings(db: Database, weightsKey?: string): number {
  const statement = weightsKey === undefined ? db.prepare('DELETE FROM embeddings') : db.prepare('DELETE FROM embeddings WHERE weights_key = ?');
  return (weightsKey === undefined ? statement.run() : statement.run(weightsKey)).changes;
}

function toBlob(vector: Float32Array): Buffer {
  const blob = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) blob.writeFloatLE(vector[i], i * 4);
  return blob;
}

function toFloat32(blob: Buffer, dim: number, hash: string): Float32Array {
  if (blob.length !== dim * 4) throw new ApiError('internal', `the cached embedding of ${hash} is damaged (${blob.length} bytes for ${dim} values)`);
  const vector = new Float32Array(dim);
  for (let i = 0; i < dim; i++) vector[i] = blob.readFloatLE(i * 4);
  return vector;
}
