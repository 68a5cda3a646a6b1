/**
 * What a hand-off bundle folder and an imported run's folder are after a kill, read from disk.
 *
 * A bundle is complete when it holds everything `handoff export` writes (export-bundle.ts writes
 * it all into a temporary folder and renames that into place last): bundle.json that the import's
 * own schema accepts, images.jsonl with the manifest's counts, both safetensors files whole (their
 * header's byte ranges cover the file exactly) with the parity tensor of the manifest's images,
 * train.py / requirements.txt / train.sbatch byte for byte as the app ships them, README.md, and
 * with --copy-images every image under data/ with its SHA-256. It is named by manifest.createdAt.
 * Anything else that is there is partial, the one state a kill must never leave.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BUNDLE_JSON, COPIED_DATA_DIR, IMAGES_JSONL, INITIAL_WEIGHTS, PARITY_PIXELS, readImages, readManifest, TRAIN_PY_FILE } from '../../main/handoff/bundle-manifest';
import { REQUIREMENTS_TXT, TRAIN_SBATCH } from '../../main/handoff/bundle-readme';
import { TRAIN_PY } from '../../main/handoff/python/train-script';

export type BundleState = { kind: 'absent' } | { kind: 'complete'; createdAt: string; copied: boolean } | { kind: 'partial'; why: string };

export const describeBundle = (s: BundleState) => (s.kind === 'complete' ? `complete (${s.createdAt}${s.copied ? ', images copied' : ''})` : s.kind === 'partial' ? `partial: ${s.why}` : 'absent');

/** Tensor name → shape of a .safetensors file, or why it is not a whole one. */
function safetensorsShapes(file: string): Map<string, number[]> | string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    return `cannot read: ${(err as Error).message}`;
  }
  if (bytes.length < 8) return `${bytes.length} bytes, shorter than the header length`;
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (8 + headerLength > bytes.length) return `header of ${headerLength} bytes in a ${bytes.length}-byte file`;
  let header: Record<string, { shape?: number[]; data_offsets?: [number, number] }>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (err) {
    return `header is not JSON: ${(err as Error).message}`;
  }
  let end = 0;
  const shapes = new Map<string, number[]>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    end = Math.max(end, entry.data_offsets?.[1] ?? 0);
    shapes.set(name, entry.shape ?? []);
  }
  const size = bytes.length - 8 - headerLength;
  return end === size ? shapes : `tensors end at byte ${end} of ${size} data bytes`;
}

const sameBytes = (file: string, text: string) => fs.existsSync(file) && fs.readFileSync(file).equals(Buffer.from(text));

export function bundleState(dir: string): BundleState {
  if (!fs.existsSync(dir)) return { kind: 'absent' };
  const partial = (why: string): BundleState => ({ kind: 'partial', why });
  for (const name of [BUNDLE_JSON, IMAGES_JSONL, INITIAL_WEIGHTS, PARITY_PIXELS, TRAIN_PY_FILE, 'requirements.txt', 'train.sbatch', 'README.md']) {
    if (!fs.existsSync(path.join(dir, name))) return partial(`${name} is missing`);
  }
  let manifest;
  let images;
  try {
    manifest = readManifest(dir);
    images = readImages(dir, manifest.classes.length);
  } catch (err) {
    return partial((err as Error).message);
  }
  const { train, val, test } = manifest.data.counts;
  if (images.length !== train + val + test) return partial(`${IMAGES_JSONL} lists ${images.length} images, the manifest counts ${train + val + test}`);
  const weights = safetensorsShapes(path.join(dir, INITIAL_WEIGHTS));
  if (typeof weights === 'string') return partial(`${INITIAL_WEIGHTS}: ${weights}`);
  if (weights.size !== manifest.weights.tensors) return partial(`${INITIAL_WEIGHTS} holds ${weights.size} tensors, the manifest says ${manifest.weights.tensors}`);
  const parity = safetensorsShapes(path.join(dir, PARITY_PIXELS));
  if (typeof parity === 'string') return partial(`${PARITY_PIXELS}: ${parity}`);
  if (parity.get('pixels')?.[0] !== manifest.parity.images.length) return partial(`${PARITY_PIXELS} has no pixels tensor of the manifest's ${manifest.parity.images.length} images`);
  if (!sameBytes(path.join(dir, TRAIN_PY_FILE), TRAIN_PY)) return partial(`${TRAIN_PY_FILE} is not the trainer the app ships`);
  if (!sameBytes(path.join(dir, 'requirements.txt'), REQUIREMENTS_TXT)) return partial('requirements.txt differs from what the app writes');
  if (!sameBytes(path.join(dir, 'train.sbatch'), TRAIN_SBATCH)) return partial('train.sbatch differs from what the app writes');
  if (fs.statSync(path.join(dir, 'README.md')).size === 0) return partial('README.md is empty');
  if (manifest.data.copied) {
    for (const image of images) {
      const file = path.join(dir, COPIED_DATA_DIR, ...image.path.split('/'));
      if (!fs.existsSync(file)) return partial(`copied image ${image.path} is missing`);
      if (crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') !== image.hash) return partial(`copied image ${image.path} does not have its SHA-256`);
    }
  }
  return { kind: 'complete', createdAt: manifest.createdAt, copied: manifest.data.copied };
}

/**
 * Siblings a bundle export leaves next to its target: atomic-folder.ts's hidden `.NAME.tmp-PID-HEX`
 * / `.NAME.old-PID-HEX` (export-bundle.ts writes through it), and `NAME.tmp-PID`, how it wrote before.
 */
export function bundleLeftovers(dir: string): string[] {
  const name = path.basename(dir);
  try {
    return fs.readdirSync(path.dirname(dir)).filter((f) => f.startsWith(`${name}.`) || f.startsWith(`.${name}.`));
  } catch {
    return [];
  }
}

export function folderBytes(dir: string): number {
  try {
    const stat = fs.lstatSync(dir);
    if (!stat.isDirectory()) return stat.size;
    return fs.readdirSync(dir).reduce((n, f) => n + folderBytes(path.join(dir, f)), 0);
  } catch {
    return 0;
  }
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint8: 1, uint16: 2, bool: 1 };

/**
 * What a completed imported run must have for evaluate / assist / export to read it (import-bundle.ts
 * recordRun): model/model.json whose weight manifest weights.bin fills exactly, model/labels.json
 * with the run's classes, and the bundle's record handoff/bundle.json + handoff/metrics.jsonl.
 * null when all is there, else what is missing.
 */
export function importedRunFilesMissing(runFolder: string, classes: string[]): string | null {
  const model = path.join(runFolder, 'model');
  for (const name of ['model/model.json', 'model/weights.bin', 'model/labels.json', 'handoff/bundle.json', 'handoff/metrics.jsonl']) {
    if (!fs.existsSync(path.join(runFolder, name))) return `${name} is missing`;
  }
  try {
    const json = JSON.parse(fs.readFileSync(path.join(model, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[]; weights: { shape: number[]; dtype: string }[] }[] };
    let expected = 0;
    let actual = 0;
    for (const group of json.weightsManifest) {
      for (const w of group.weights) expected += w.shape.reduce((a, b) => a * b, 1) * (BYTES[w.dtype] ?? 4);
      for (const shard of group.paths) actual += fs.statSync(path.join(model, shard)).size;
    }
    if (expected === 0 || actual !== expected) return `model weights hold ${actual} bytes, model.json describes ${expected}`;
    const labels = JSON.parse(fs.readFileSync(path.join(model, 'labels.json'), 'utf8'));
    if (JSON.stringify(labels) !== JSON.stringify(classes)) return `model/labels.json is ${JSON.stringify(labels)}, the run's classes ${JSON.stringify(classes)}`;
    JSON.parse(fs.readFileSync(path.join(runFolder, 'handoff', 'bundle.json'), 'utf8'));
  } catch (err) {
    return `a model file does not read: ${(err as Error).message}`;
  }
  return null;
}
