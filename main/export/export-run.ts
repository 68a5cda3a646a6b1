/**
 * export.run: a finished run as a self-contained folder. The model is written (TF.js layers model
 * with weight shards, or ONNX), then checked through its own files: the float32 model and the
 * quantized one (when asked) predict the project's test split (size, accuracy, agreement), and the
 * float32 export is compared with the app's model on a few project images (parity). Labels, the
 * model card (with the confusion matrix as SVG), usage examples and a README complete the folder.
 * Everything is written into a temporary sibling folder and renamed into place at the end
 * (atomic-folder.ts), so a failure at any point leaves no half export; the export is then recorded
 * in the project's exports table.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ApiError, type CallArgs } from '../contract/contract';
import type { ExportProgress, ExportResult, PrecisionReport, Quantization } from '../contract/calls-export';
import type { z } from 'zod';
import { ensureBackend } from '../backend/ensure-backend';
import { LABELS_JSON, loadModelFolder } from '../model/manager/model-folder';
import { getVariant } from '../model/variants';
import { computeMetrics, type ScoredImage } from '../eval/metrics';
import { reorder, runClasses } from '../eval/evaluate-run';
import type { Database } from '../project/database';
import type { TestMetrics } from './model-card';
import type { ProjectHandle } from '../project/registry';
import { getRun, runHistory } from '../project/runs';
import { FINAL_MODEL_DIR, runFolderName } from '../project/run-folders';
import { commitFolder, discardFolder, stageFolder } from './atomic-folder';
import { confusionMatrixSvg } from './confusion-svg';
import { exportReadme } from './export-readme';
import { recordExport } from './exports-table';
import { buildModelCard, CONFUSION_SVG, modelCardMarkdown, MODEL_CARD_MD } from './model-card';
import { MODEL_CARD_JSON, MODEL_ONNX, openPredictionModel, type PredictionModel } from './predict/prediction-model';
import { argmax, predictImages, type ImageProbabilities } from './predict/predict-images';
import { classCounts, parityImages, splitImages, type LabeledFile } from './project-data';
import { usageExamples } from './usage-examples';
import { writeTfjsModel } from './write-tfjs';

export type ExportArgs = CallArgs<'export.run'>;
type Progress = z.infer<typeof ExportProgress>;

export interface ExportHooks {
  onProgress?: (progress: Progress) => void;
  /** called after each file is written (relative path); a test throws here to fail an export midway */
  afterWrite?: (file: string) => void;
}

/** Project images the exported model is compared with the app's model on. */
export const PARITY_IMAGES = 32;
export const LABELS_TXT = 'labels.txt';
/** The float32 model of a quantized export is written here (inside the temporary folder) to be measured, then removed. */
const FLOAT32_SCRATCH = '.float32-check';

export async function exportRun(handle: ProjectHandle, args: ExportArgs, hooks: ExportHooks = {}): Promise<ExportResult> {
  const started = performance.now();
  const jobId = args.jobId ?? `export-${Date.now().toString(36)}`;
  const say = (phase: Progress['phase'], message: string) => hooks.onProgress?.({ jobId, phase, message });
  const { db } = handle;
  const run = getRun(db, args.runId);
  if (run.status !== 'completed') {
    throw new ApiError('invalid_input', `run ${run.id} has not finished (status ${run.status}); only a completed run has a model to export`);
  }
  const modelDir = path.join(run.checkpointDir ?? path.join(`${handle.path}.d`, runFolderName(run.id)), FINAL_MODEL_DIR);
  if (!fs.existsSync(modelDir)) throw new ApiError('not_found', `the model folder of run ${run.id} (${modelDir}) is missing`);
  const variant = getVariant(run.variant);
  const staged = stageFolder(args.out, args.force);
  const write = (file: string, data: Uint8Array | string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    hooks.afterWrite?.(path.relative(staged.temp, file));
  };
  const opened: PredictionModel[] = [];
  let appModel: tfl.LayersModel | null = null;
  try {
    say('converting', `loading the model of run ${run.id}`);
    await ensureBackend();
    appModel = (await loadModelFolder(modelDir)).model;
    const labelsJson = JSON.stringify(run.classes, null, 1);
    const metadata = { variant: run.variant, resolution: run.resolution, classes: run.classes.length, input: 'RGB pixels 0..255 as float32, NHWC; normalisation is inside the model', runId: run.id, labels: run.classes };
    const writeModel = async (dir: string, quantize: Quantization) => {
      if (args.format === 'tfjs') return (await writeTfjsModel(appModel!, dir, quantize, metadata, write)).files;
      // the ONNX converter is a sibling module; loaded on demand with its protobuf writer
      const { tfjsModelToOnnx } = await import('../inference/onnx');
      write(path.join(dir, MODEL_ONNX), await tfjsModelToOnnx(appModel!, { quantize }));
      return [MODEL_ONNX];
    };
    say(args.quantize === 'none' ? 'converting' : 'quantizing', `writing the ${args.format === 'tfjs' ? 'TF.js' : 'ONNX'} model${args.quantize === 'none' ? '' : ` with ${args.quantize} weights`}`);
    const modelFiles = await writeModel(staged.temp, args.quantize);
    write(path.join(staged.temp, LABELS_JSON), labelsJson);
    write(path.join(staged.temp, LABELS_TXT), run.classes.join('\n') + '\n');
    let float32Dir = staged.temp;
    let float32Files = modelFiles;
    if (args.quantize !== 'none') {
      float32Dir = path.join(staged.temp, FLOAT32_SCRATCH);
      say('quantizing', 'writing the float32 model too, to measure what quantizing costs');
      float32Files = await writeModel(float32Dir, 'none');
      write(path.join(float32Dir, LABELS_JSON), labelsJson);
    }
    appModel.dispose();
    appModel = null;

    say('checking', 'predicting the test split with the exported files');
    const testImages = splitImages(db, run.classes, 'test');
    const float32Model = await openModel(float32Dir, opened);
    const float32Test = await predictImages(float32Model, testImages.map((i) => i.file));
    const precisions: PrecisionReport[] = [precisionOf('none', modelBytes(float32Dir, float32Files), testImages, float32Test, float32Test)];
    if (args.quantize !== 'none') {
      const quantized = await openModel(staged.temp, opened);
      precisions.push(precisionOf(args.quantize, modelBytes(staged.temp, modelFiles), testImages, await predictImages(quantized, testImages.map((i) => i.file)), float32Test));
    }
    const test = metricsOf(db, run.classes, testImages, float32Test);

    let parity: ExportResult['parity'] = null;
    if (args.quantize === 'none') {
      say('checking', `comparing the export with the app's model on up to ${PARITY_IMAGES} project images`);
      parity = await compareModels(await openModel(modelDir, opened), float32Model, parityImages(db, run.classes, PARITY_IMAGES));
    }
    for (const m of opened.splice(0)) m.dispose();
    if (float32Dir !== staged.temp) fs.rmSync(float32Dir, { recursive: true, force: true });

    say('writing', 'writing the model card, labels and usage examples');
    const card = buildModelCard({ projectName: handle.info.name, run, variant, format: args.format, quantize: args.quantize, counts: classCounts(db, run.classes), history: runHistory(db, run.id), test, precisions, parity });
    write(path.join(staged.temp, MODEL_CARD_JSON), JSON.stringify(card, null, 2));
    write(path.join(staged.temp, MODEL_CARD_MD), modelCardMarkdown(card));
    if (test && test.images > 0) write(path.join(staged.temp, CONFUSION_SVG), confusionMatrixSvg(test.classes, test.confusion, `Run ${run.id}: test split, ${test.images} images`));
    for (const example of usageExamples(args.format, run.resolution)) write(path.join(staged.temp, example.path), example.text);
    write(path.join(staged.temp, 'README.md'), exportReadme({ title: card.title, format: args.format, quantize: args.quantize, resolution: run.resolution, classes: run.classes, modelFiles, precisions }));

    const replaced = commitFolder(staged, args.force);
    const files = listFiles(staged.target);
    const result: ExportResult = {
      project: handle.path,
      runId: run.id,
      format: args.format,
      quantize: args.quantize,
      dir: staged.target,
      files,
      bytes: files.reduce((n, f) => n + f.bytes, 0),
      precisions,
      parity,
      replaced,
      seconds: (performance.now() - started) / 1000,
    };
    recordExport(db, result, new Date().toISOString());
    say('done', `exported run ${run.id} to ${staged.target}`);
    return result;
  } catch (err) {
    discardFolder(staged);
    say('failed', (err as Error).message);
    if (err instanceof ApiError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw new ApiError('io_error', `cannot write the export ${staged.target}: ${(err as Error).message}`);
    throw new ApiError('internal', `exporting run ${run.id} failed: ${(err as Error).message}`);
  } finally {
    appModel?.dispose();
    for (const m of opened) m.dispose();
  }
}

async function openModel(dir: string, opened: PredictionModel[]): Promise<PredictionModel> {
  const model = await openPredictionModel(dir);
  opened.push(model);
  return model;
}

function modelBytes(dir: string, files: readonly string[]): number {
  return files.reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/** Top-1 accuracy on the test images and agreement with the float32 model's top-1 (unreadable images left out). */
function precisionOf(quantize: Quantization, bytes: number, images: readonly LabeledFile[], predicted: readonly ImageProbabilities[], float32: readonly ImageProbabilities[]): PrecisionReport {
  let n = 0;
  let correct = 0;
  let agree = 0;
  predicted.forEach((p, i) => {
    if (!p.probabilities || !float32[i].probabilities) return;
    const top = argmax(p.probabilities);
    n++;
    if (top === images[i].label) correct++;
    if (top === argmax(float32[i].probabilities!)) agree++;
  });
  return { quantize, modelBytes: bytes, testAccuracy: n > 0 ? correct / n : null, agreement: n > 0 ? agree / n : null };
}

/**
 * The test metrics of the card, computed by the evaluation engine's functions (the conventions of
 * eval.run: classes in the project's order, null precision for a class never predicted, ...) on the
 * exported float32 model's predictions.
 */
function metricsOf(db: Database, outputs: string[], images: readonly LabeledFile[], predicted: readonly ImageProbabilities[]): TestMetrics | null {
  if (images.length === 0) return null;
  const classes = runClasses(db, outputs);
  const scored: ScoredImage[] = [];
  predicted.forEach((p, i) => {
    if (p.probabilities) scored.push({ truth: classes.toOrdered[images[i].label], probs: reorder(p.probabilities, classes) });
  });
  return { split: 'test', classes: classes.ordered, ...computeMetrics(scored, classes.ordered) };
}

/** Largest probability difference and whether every top-1 class matches, on the same decoded images. */
async function compareModels(app: PredictionModel, exported: PredictionModel, images: readonly LabeledFile[]): Promise<ExportResult['parity']> {
  const files = images.map((i) => i.file);
  const [a, b] = [await predictImages(app, files), await predictImages(exported, files)];
  let count = 0;
  let maxAbsDiff = 0;
  let top1Agree = true;
  a.forEach((p, i) => {
    const q = b[i];
    if (!p.probabilities || !q.probabilities) return;
    count++;
    for (let k = 0; k < p.probabilities.length; k++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(p.probabilities[k] - q.probabilities[k]));
    if (argmax(p.probabilities) !== argmax(q.probabilities)) top1Agree = false;
  });
  return count > 0 ? { images: count, maxAbsDiff, top1Agree } : null;
}

function listFiles(root: string): { path: string; bytes: number }[] {
  const out: { path: string; bytes: number }[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push({ path: path.relative(root, full).split(path.sep).join('/'), bytes: fs.statSync(full).size });
    }
  };
  walk(root);
  return out;
}
