/**
 * The soak's generated inputs, small so a kill lands mid-work on two shared cores without the run
 * taking long: unique noise PNGs for imports (each batch new content, so every import really hashes,
 * decodes and writes), shape images for training (reused from the training fixture), label CSVs.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../main/dataset/sample';

export { writeTrainImages } from '../fixtures/train-project';

export const IMPORT_CLASSES = ['alpha', 'beta', 'gamma'];
export const LABEL_CLASSES = ['alpha', 'beta', 'gamma', 'delta'];

/** `count` distinct 32×32 noise PNGs spread over class sub-folders of `folder`. */
export async function writeNoiseImages(folder: string, count: number, seed: number): Promise<string[]> {
  const random = mulberry32(seed);
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const dir = path.join(folder, IMPORT_CLASSES[i % IMPORT_CLASSES.length]);
    fs.mkdirSync(dir, { recursive: true });
    const pixels = Buffer.alloc(32 * 32 * 3);
    for (let p = 0; p < pixels.length; p++) pixels[p] = Math.floor(random() * 256);
    const file = path.join(dir, `noise-${seed}-${i}.png`);
    await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(file);
    files.push(file);
  }
  return files;
}

/** A label CSV (header path,class) giving each path a class drawn from LABEL_CLASSES. */
export function writeLabelCsv(file: string, paths: string[], random: () => number): Map<string, string> {
  const wanted = new Map<string, string>();
  const lines = ['path,class'];
  for (const p of paths) {
    const name = LABEL_CLASSES[Math.floor(random() * LABEL_CLASSES.length)];
    wanted.set(p, name);
    lines.push(`"${p.replaceAll('"', '""')}",${name}`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return wanted;
}
