/**
 * What a hand-off bundle holds, and where. A bundle is a folder:
 *   bundle.json                   this manifest: project identity, run configuration, classes,
 *                                 the architecture as data (block table, padding, BatchNorm,
 *                                 preprocessing), where the weights and the data are
 *   images.jsonl                  one image a line: path relative to the data root, SHA-256, label, split
 *   weights/initial.safetensors   the starting weights in timm's naming
 *   parity/pixels.safetensors     a few preprocessed images ("pixels" [N, H, W, 3], RGB 0..255)
 *   train.py, requirements.txt, README.md
 *   data/                         the images themselves, when exported with copyImages
 *   out/                          what train.py writes: checkpoint.pt, metrics.jsonl, best/final.safetensors, parity.json
 * The manifest is read back by the import with this schema, so a damaged bundle is refused naming the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ApiError } from '../contract/contract';
import { TrainConfig } from '../contract/calls-train';

export const BUNDLE_FORMAT = 'effitune-handoff';
export const BUNDLE_JSON = 'bundle.json';
export const IMAGES_JSONL = 'images.jsonl';
export const INITIAL_WEIGHTS = 'weights/initial.safetensors';
export const PARITY_PIXELS = 'parity/pixels.safetensors';
export const TRAIN_PY_FILE = 'train.py';
export const OUT_DIR = 'out';
export const FINAL_WEIGHTS = 'out/final.safetensors';
export const METRICS_LOG = 'out/metrics.jsonl';
export const PARITY_RESULT = 'out/parity.json';
export const COPIED_DATA_DIR = 'data';

const Triple = z.tuple([z.number(), z.number(), z.number()]);

export const BundleBlock = z.object({
  name: z.string(),
  stage: z.number().int(),
  repeat: z.number().int(),
  kind: z.enum(['mbconv', 'fused']),
  filtersIn: z.number().int(),
  filtersOut: z.number().int(),
  expand: z.number(),
  filtersMid: z.number().int(),
  kernel: z.number().int(),
  stride: z.number().int(),
  seFilters: z.number().int(),
  residual: z.boolean(),
  dropRate: z.number(),
});

export const BundleArchitecture = z.object({
  variant: z.string().describe('Effitune variant id (b0..b7, phi=…)'),
  name: z.string(),
  family: z.literal('v1'),
  scaling: z.object({ phi: z.number(), alpha: z.number(), beta: z.number(), gamma: z.number() }).nullable(),
  width: z.number(),
  depth: z.number(),
  resolution: z.number().int(),
  padding: z.enum(['tf-same', 'symmetric']),
  bnEpsilon: z.number(),
  bnMomentum: z.number().describe("Keras' convention: the share of the old moving average kept"),
  preprocessing: z.object({ mean: Triple, std: Triple, divisor: z.number() }),
  /** the preprocess layer's float32 constants: pixels·scale + offset per channel */
  preprocess: z.object({ scale: Triple, offset: Triple }),
  stemFilters: z.number().int(),
  headFilters: z.number().int(),
  dropout: z.number(),
  dropConnect: z.number(),
  blocks: z.array(BundleBlock).min(1),
});
export type BundleArchitecture = z.infer<typeof BundleArchitecture>;

export const ProjectIdentity = z.object({
  name: z.string(),
  createdAt: z.string().describe("the project file's creation stamp (meta created_at): the same in every copy of the file"),
  file: z.string().describe('where the project file was when the bundle was made'),
});
export type ProjectIdentity = z.infer<typeof ProjectIdentity>;

export const BundleManifest = z.object({
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(1),
  createdAt: z.string(),
  project: ProjectIdentity,
  classes: z.array(z.string()).min(2),
  config: TrainConfig,
  architecture: BundleArchitecture,
  weights: z.object({ file: z.string(), from: z.string().describe('what the initial weights are, in words'), tensors: z.number().int() }),
  data: z.object({
    root: z.string().describe('absolute folder the image paths are relative to, on the machine that made the bundle'),
    copied: z.boolean().describe('true: the images are inside the bundle under data/'),
    counts: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() }),
    includesTest: z.boolean(),
  }),
  parity: z.object({ file: z.string(), images: z.array(z.string()).describe('the hashes of the parity images, in tensor order') }),
});
export type BundleManifest = z.infer<typeof BundleManifest>;

export const BundleImage = z.object({
  path: z.string().describe("relative to the data root, '/'-separated"),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex'),
  label: z.number().int().min(0),
  split: z.enum(['train', 'val', 'test']),
});
export type BundleImage = z.infer<typeof BundleImage>;

/** Read and check bundle.json of a bundle folder; ApiError naming the file and field when it is not one. */
export function readManifest(dir: string): BundleManifest {
  const file = path.join(dir, BUNDLE_JSON);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ApiError('not_found', `bundle folder ${dir} does not exist`);
  if (!fs.existsSync(file)) throw new ApiError('invalid_input', `${dir} is not a hand-off bundle: it has no ${BUNDLE_JSON} (made by \`effitune handoff export\`)`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ApiError('invalid_input', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = BundleManifest.safeParse(json);
  if (!parsed.success) {
    const words = parsed.error.issues.map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`).join('; ');
    throw new ApiError('invalid_input', `${file} is not a valid hand-off manifest: ${words}`);
  }
  return parsed.data;
}

/** images.jsonl, every line checked; labels must index the manifest's classes. */
export function readImages(dir: string, classes: number): BundleImage[] {
  const file = path.join(dir, IMAGES_JSONL);
  if (!fs.existsSync(file)) throw new ApiError('invalid_input', `the bundle ${dir} has no ${IMAGES_JSONL}`);
  const images: BundleImage[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (!line.trim()) return;
      let parsed;
      try {
        parsed = BundleImage.safeParse(JSON.parse(line));
      } catch (err) {
        throw new ApiError('invalid_input', `${file} line ${index + 1} is not JSON: ${(err as Error).message}`);
      }
      if (!parsed.success) throw new ApiError('invalid_input', `${file} line ${index + 1}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      if (parsed.data.label >= classes) throw new ApiError('invalid_input', `${file} line ${index + 1}: label ${parsed.data.label} but the bundle has ${classes} classes`);
      images.push(parsed.data);
    });
  return images;
}
