/**
 * `predict.files`: image files and folders through an exported model (or a run's model folder),
 * top-k per file, files that cannot be read reported one by one, optionally a CSV
 * (path,top1,probability1,top2,probability2,...), written atomically and replacing a file only with force.
 */
import path from 'node:path';
import type { CallArgs, CallOutput } from '../../contract/contract';
import type { FilePrediction } from '../../contract/calls-export';
import { collectImageFiles } from './image-files';
import { openPredictionModel } from './prediction-model';
import { predictImages, topClasses } from './predict-images';
import { checkCsvTarget, predictionsCsvText, writeCsvAtomically } from './predictions-csv';

export async function predictFiles(args: CallArgs<'predict.files'>): Promise<CallOutput<'predict.files'>> {
  const { force } = args;
  // refused before the model loads: the user hears about an existing CSV at once, not after predicting
  const csv = args.csv === undefined ? null : checkCsvTarget(args.csv, force);
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
    if (csv !== null) writeCsvAtomically(csv, predictionsCsvText(predictions, Math.min(args.top, model.classes.length)), force);
    return { format: model.format, classes: model.classes, resolution: model.resolution, predictions, csv, imagesPerSecond: seconds > 0 ? predicted / seconds : 0, ranOn: model.ranOn };
  } finally {
    model.dispose();
  }
}
