/**
 * `handoff.export`: resolve the run configuration exactly as train.start would (same checks, same
 * recipe), build the run's starting model exactly as the trainer would (same weights, same new
 * head), and write the bundle (see bundle-manifest.ts) into a hidden temporary sibling renamed in at
 * the end (export/atomic-folder.ts), so a failure or a kill leaves the old bundle or the new one,
 * never a partial one or none; what a killed export left is swept by the next.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type CallArgs, type CallOutput } from '../contract/contract';
import { ensureBackend } from '../backend/ensure-backend';
import { resolveBuildOptions } from '../model/build-options';
import { planArchitecture, type VariantSpec } from '../model/variants';
import { preprocessFileForInference } from '../dataset/image-pixels';
import { fsPathFromPythonText, type FsPath } from '../dataset/file-name-bytes';
import type { ProjectHandle } from '../project/registry';
import { checkNewRun } from '../train/new-run';
import { buildTrainingModel } from '../train/model-setup';
import type { TrainConfig } from '../contract/calls-train';
import {
  BUNDLE_FORMAT,
  BUNDLE_JSON,
  COPIED_DATA_DIR,
  IMAGES_JSONL,
  INITIAL_WEIGHTS,
  PARITY_PIXELS,
  TRAIN_PY_FILE,
  type BundleArchitecture,
  type BundleImage,
  type BundleManifest,
} from './bundle-manifest';
import { commitFolder, discardFolder, stageFolder, sweepFolderLeftovers } from '../export/atomic-folder';
import { bundleCommands, bundleReadme, REQUIREMENTS_TXT, TRAIN_SBATCH } from './bundle-readme';
import { bundleImages, commonFolder, labeledImages, projectIdentity } from './project-images';
import { writeSafetensors } from './safetensors-writer';
import { modelToTimm, separableBlocksOf } from './timm-weights';
import { TRAIN_PY } from './python/train-script';

/** images of the parity check: enough to see a disagreement, few enough to predict in a second */
const PARITY_IMAGES = 8;

export interface ExportProgress {
  phase: string;
  done: number;
  total: number;
  message: string;
}

export async function exportBundle(handle: ProjectHandle, args: CallArgs<'handoff.export'>, onProgress: (p: ExportProgress) => void = () => undefined): Promise<CallOutput<'handoff.export'>> {
  const started = performance.now();
  const { project: _project, out, includeTest, copyImages, force, jobId: _jobId, ...options } = args;
  const checked = checkNewRun(handle, options);
  const { config, variant } = checked;
  separableBlocksOf(variant); // V1 only: refused before anything is written
  const dir = path.resolve(out);
  // what killed exports left beside the target first: a bundle a kill left set aside comes back
  sweepFolderLeftovers(path.dirname(dir));
  prepareTarget(dir, force);
  // an existing empty folder is taken over as if replaced
  const replace = force || fs.existsSync(dir);

  const splits: ('train' | 'val' | 'test')[] = includeTest ? ['train', 'val', 'test'] : ['train', 'val'];
  const { images: found, missing } = labeledImages(handle.db, splits);
  const warnings = [...checked.trainable.warnings, ...checked.warnings];
  if (missing > 0) warnings.push(`${missing} labeled images are missing on disk and are not in the bundle`);
  const root = commonFolder(found.map((i) => i.file));
  const images = bundleImages(found, root, config.classes);
  const counts = { train: 0, val: 0, test: 0 };
  for (const image of images) counts[image.split]++;
  if (counts.train === 0) throw new ApiError('invalid_input', 'no training images to ship: split the project first');

  // written whole into a hidden sibling and renamed in; an old bundle is set aside, never deleted first (atomic-folder.ts)
  const staged = stageFolder(dir, replace);
  const temp = staged.temp;
  try {
    onProgress({ phase: 'weights', done: 0, total: 1, message: `building the starting model of ${variant.name}` });
    await ensureBackend();
    const start = await buildTrainingModel(config);
    let architecture: BundleArchitecture;
    let tensors: number;
    try {
      architecture = architectureOf(variant, config, start.buildOptions, start.model.getLayer('preprocess').getWeights().map((w) => Array.from(w.dataSync())));
      const weights = modelToTimm(start.model, variant, start.buildOptions);
      tensors = weights.length;
      writeSafetensors(path.join(temp, INITIAL_WEIGHTS), weights, { format: 'pt', effitune: 'handoff initial weights', variant: variant.id });
    } finally {
      start.model.dispose();
    }

    onProgress({ phase: 'parity', done: 0, total: PARITY_IMAGES, message: 'preparing the parity images' });
    const parity = parityImages(images);
    await writeParityPixels(path.join(temp, PARITY_PIXELS), parity.map((i) => fsPathFromPythonText(path.join(root, i.path))), config.resolution);

    if (copyImages) copyInto(path.join(temp, COPIED_DATA_DIR), root, images, onProgress);
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      version: 1,
      createdAt: new Date().toISOString(),
      project: projectIdentity(handle),
      classes: config.classes,
      config,
      architecture,
      weights: { file: INITIAL_WEIGHTS, from: start.notes.join('; '), tensors },
      data: { root, copied: copyImages, counts, includesTest: includeTest },
      parity: { file: PARITY_PIXELS, images: parity.map((i) => i.hash) },
    };
    const commands = bundleCommands(dir, handle.path);
    fs.writeFileSync(path.join(temp, BUNDLE_JSON), JSON.stringify(manifest, null, 1));
    fs.writeFileSync(path.join(temp, IMAGES_JSONL), images.map((i) => JSON.stringify(i)).join('\n') + '\n');
    fs.writeFileSync(path.join(temp, TRAIN_PY_FILE), TRAIN_PY, { mode: 0o755 });
    fs.writeFileSync(path.join(temp, 'requirements.txt'), REQUIREMENTS_TXT);
    fs.writeFileSync(path.join(temp, 'train.sbatch'), TRAIN_SBATCH, { mode: 0o755 });
    fs.writeFileSync(path.join(temp, 'README.md'), bundleReadme(manifest, commands));
    commitFolder(staged, replace);
    const written = listFiles(dir);
    return {
      dir,
      files: written.length,
      bytes: written.reduce((n, f) => n + fs.statSync(f).size, 0),
      variant: variant.id,
      resolution: config.resolution,
      classes: config.classes,
      images: counts,
      dataRoot: copyImages ? path.join(dir, COPIED_DATA_DIR) : root,
      copied: copyImages,
      weights: manifest.weights.from,
      parityImages: parity.length,
      commands,
      warnings,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (err) {
    discardFolder(staged);
    if (err instanceof ApiError) throw err;
    throw new ApiError('io_error', `cannot write the bundle ${dir}: ${(err as Error).message}`);
  }
}

function prepareTarget(dir: string, force: boolean): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new ApiError('already_exists', `${dir} exists and is a file, not a folder`);
  if (fs.readdirSync(dir).length > 0 && !force) throw new ApiError('already_exists', `${dir} already exists and is not empty; choose another folder or replace it (CLI: --force)`);
}

/** The architecture as data: everything train.py needs to build the same network. */
function architectureOf(variant: VariantSpec, config: TrainConfig, buildOptions: Parameters<typeof resolveBuildOptions>[1], preprocess: number[][]): BundleArchitecture {
  const opts = resolveBuildOptions(variant, buildOptions);
  const plan = planArchitecture(variant, config.dropConnect);
  const triple = (values: number[]) => [values[0], values[1], values[2]] as [number, number, number];
  return {
    variant: variant.id,
    name: variant.name,
    family: 'v1',
    scaling: variant.scaling ?? null,
    width: variant.width,
    depth: variant.depth,
    resolution: config.resolution,
    padding: opts.padding,
    bnEpsilon: opts.bnEpsilon,
    bnMomentum: config.bnMomentum ?? variant.bnMomentum,
    preprocessing: { mean: [...opts.preprocessing.mean], std: [...opts.preprocessing.std], divisor: opts.preprocessing.divisor },
    // the preprocess layer's own float32 constants (kernel [1,1,3,1], bias [3]), so both sides compute the same
    preprocess: { scale: triple(preprocess[0]), offset: triple(preprocess[1]) },
    stemFilters: plan.stemFilters,
    headFilters: plan.headFilters,
    dropout: config.dropout,
    dropConnect: config.dropConnect,
    blocks: plan.blocks.map((b) => ({ ...b })),
  };
}

/** Validation images first (what evaluation looks at), then training ones, one class after another. */
function parityImages(images: readonly BundleImage[]): BundleImage[] {
  const ordered = [...images.filter((i) => i.split === 'val'), ...images.filter((i) => i.split === 'train')];
  const byClass = new Map<number, BundleImage[]>();
  for (const image of ordered) byClass.set(image.label, [...(byClass.get(image.label) ?? []), image]);
  const picked: BundleImage[] = [];
  for (let round = 0; picked.length < PARITY_IMAGES && picked.length < ordered.length; round++) {
    for (const list of byClass.values()) if (list[round] && picked.length < PARITY_IMAGES) picked.push(list[round]);
  }
  return picked;
}

/** The evaluation pixels (sharp: shorter side, centre crop) of each image, as one [N, H, W, 3] tensor. */
async function writeParityPixels(file: string, files: readonly FsPath[], resolution: number): Promise<void> {
  const per = resolution * resolution * 3;
  const data = new Float32Array(files.length * per);
  for (let i = 0; i < files.length; i++) data.set(await preprocessFileForInference(files[i], resolution), i * per);
  writeSafetensors(file, [{ name: 'pixels', shape: [files.length, resolution, resolution, 3], data }], { input: 'RGB pixels 0..255, NHWC, as Effitune evaluates' });
}

function copyInto(target: string, root: string, images: readonly BundleImage[], onProgress: (p: ExportProgress) => void): void {
  images.forEach((image, i) => {
    // the bundle's paths spell bytes that are not UTF-8 as Python does: the copy gets the same bytes
    const to = path.join(target, ...image.path.split('/'));
    fs.mkdirSync(fsPathFromPythonText(path.dirname(to)), { recursive: true });
    fs.copyFileSync(fsPathFromPythonText(path.join(root, ...image.path.split('/'))), fsPathFromPythonText(to));
    if ((i + 1) % 500 === 0 || i + 1 === images.length) onProgress({ phase: 'copy', done: i + 1, total: images.length, message: `copied ${i + 1} of ${images.length} images` });
  });
}

/** Every file under `dir`, read by the bytes of the names (copied images may have names that are not UTF-8). */
function listFiles(dir: FsPath): Buffer[] {
  const folder = typeof dir === 'string' ? Buffer.from(dir) : dir;
  return fs.readdirSync(folder, { withFileTypes: true, encoding: 'buffer' }).flatMap((e) => {
    const full = Buffer.concat([folder, Buffer.from(path.sep), e.name]);
    return e.isDirectory() ? listFiles(full) : e.isFile() ? [full] : [];
  });
}
