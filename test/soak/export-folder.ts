/**
 * What an export folder is after a kill: absent, complete (and which export wrote it, by the
 * model card's exportedAt), or partial — a folder missing files, or whose weight shards do not hold
 * the bytes model.json says they do. Partial is the one state an export must never leave.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The files every TF.js export holds besides its weight shards. */
const TFJS_FILES = ['README.md', 'confusion-matrix.svg', 'examples/browser.html', 'examples/node.mjs', 'labels.json', 'labels.txt', 'model-card.json', 'model-card.md', 'model.json'];

export type FolderState = { kind: 'absent' } | { kind: 'complete'; exportedAt: string } | { kind: 'partial'; why: string };

const BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint8: 1, uint16: 2, bool: 1 };

interface ManifestWeight {
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}

export function exportFolderState(dir: string): FolderState {
  if (!fs.existsSync(dir)) return { kind: 'absent' };
  for (const name of TFJS_FILES) if (!fs.existsSync(path.join(dir, name))) return { kind: 'partial', why: `${name} is missing` };
  let card: { exportedAt?: string };
  let model: { weightsManifest: { paths: string[]; weights: ManifestWeight[] }[] };
  try {
    card = JSON.parse(fs.readFileSync(path.join(dir, 'model-card.json'), 'utf8'));
    model = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8'));
  } catch (err) {
    return { kind: 'partial', why: `a JSON file does not parse: ${(err as Error).message}` };
  }
  for (const group of model.weightsManifest) {
    let expected = 0;
    for (const w of group.weights) expected += w.shape.reduce((a, b) => a * b, 1) * (BYTES[w.quantization?.dtype ?? w.dtype] ?? 4);
    let actual = 0;
    for (const shard of group.paths) {
      const file = path.join(dir, shard);
      if (!fs.existsSync(file)) return { kind: 'partial', why: `weight shard ${shard} is missing` };
      actual += fs.statSync(file).size;
    }
    if (actual !== expected) return { kind: 'partial', why: `weight shards hold ${actual} bytes, model.json describes ${expected}` };
  }
  if (typeof card.exportedAt !== 'string') return { kind: 'partial', why: 'model-card.json has no exportedAt' };
  return { kind: 'complete', exportedAt: card.exportedAt };
}

/** Hidden `.NAME.tmp-…` / `.NAME.old-…` siblings an export left next to its target. */
export function exportLeftovers(dir: string): string[] {
  const name = path.basename(dir);
  try {
    return fs.readdirSync(path.dirname(dir)).filter((f) => f.startsWith(`.${name}.`));
  } catch {
    return [];
  }
}
