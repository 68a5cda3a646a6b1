/**
 * `predict.files`: image files and folders through an exported model (or a run's model folder),
 * top-k per file, files that cannot be read reported one by one, optionally a CSV
 * (path,top1,probability1,top2,probability2,...).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type CallArgs, type CallOutput } from '../../contract/contract';
import type { FilePrediction } from '../../contract/calls-export';
import { collectImageFiles } from './image-files';
import { openPredictionModel } from './prediction-model';
import { predictImages, topClasses } from './predict-images';

export async function predictFiles(args: CallArgs<'predict.files'>): Promise<CallOutput<'predict.files'>> {
  const csv = args.csv === undefined ? null : path.resolve(args.csv);
  if (csv !== null && !fs.existsSync(path.dirname(csv))) throw new ApiError('not_found', `the folder of the CSV file ${csv} does not exist`);
  const model = await openPredictionModel(path.resolve(args.modelDir), { runtime: 'auto', provider: args.provider });
  try {
    const { files, problems } = collectImageFiles(args.paths);
    const started = performance.now();
    const results = await predictImages(model, files);
    const seconds = (performance.now() - started) / 1000;
    const predictions: FilePrediction[] = [
      ...results.map((r) => ({ path: r.path, top: r.probabilities ? topClasses(r.probabilities, model.classes, args.top) : [], error: r.error })),
      ...problems.map((p) => ({ path: p.path, top: [], error: p.error })),
    ];
    const predicted = results.filter((r) => r.probabilities).length;
    if (csv !== null) writeCsv(csv, predictions, Math.min(args.top, model.classes.length));
    return { format: model.format, classes: model.classes, resolution: model.resolution, predictions, csv, imagesPerSecond: seconds > 0 ? predicted / seconds : 0, ranOn: model.ranOn };
  } finally {
    model.dispose();
  }
}

function writeCsv(file: string, predictions: readonly FilePrediction[], top: number): void {
  const header = ['path', ...Array.from({ length: top }, (_, i) => [`top${i + 1}`, `probability${i + 1}`]).flat(), 'error'];
  const rows = predictions.map((p) => [p.path, ...Array.from({ length: top }, (_, i) => [p.top[i]?.className ?? '', p.top[i] ? p.top[i].probability.toFixed(6) : '']).flat(), p.error ?? '']);
  const text = [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
  try {
    fs.writeFileSync(file, text);
  } catch (err) {
    throw new ApiError('io_error', `cannot write the CSV file ${file}: ${(err as Error).message}`);
  }
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
