/**
 * "Try an image": a finished run's model on one image file or its bytes (browser mode sends the
 * bytes of a dropped file), with the same preprocessing as evaluation. Errors name the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../contract/contract';
import type { PredictImageResult } from '../contract/calls-eval';
import { sharpMessage } from '../dataset/inspect-image';
import { orientedSize, preprocessForInference } from '../dataset/image-pixels';
import { rankClasses } from './metrics';
import type { PredictContext } from './predictions';
import { finishedRun } from './run-model';

export interface PredictFileOptions {
  runId: number;
  path?: string;
  dataBase64?: string;
  name?: string;
  top: number;
}

export async function predictImageFile(ctx: PredictContext, options: PredictFileOptions): Promise<PredictImageResult> {
  const started = performance.now();
  const { run, model } = finishedRun(ctx.handle.db, ctx.handle.path, options.runId);
  const { input, label } = readInput(options);
  let size: { width: number; height: number };
  let pixels: Float32Array;
  try {
    size = await orientedSize(input);
    pixels = await preprocessForInference(input, run.resolution);
  } catch (err) {
    // preprocessForInference says "cannot read <file or 'the image'>: <why>"; the label says which input
    const prefix = `cannot read ${typeof input === 'string' ? input : 'the image'}: `;
    const why = err instanceof ApiError ? (err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message) : sharpMessage(err);
    throw new ApiError('invalid_input', `${label} is not an image Effitune can read: ${why}`);
  }
  const probs = await ctx.predictor.predictPixels({ model, backend: ctx.backend, provider: ctx.provider }, pixels);
  const top = rankClasses(probs)
    .slice(0, options.top)
    .map((c) => ({ className: run.classes[c], probability: probs[c] }));
  return { top, milliseconds: performance.now() - started, ...size };
}

function readInput(options: PredictFileOptions): { input: Buffer | string; label: string } {
  if (options.path !== undefined) {
    const file = path.resolve(options.path);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      throw new ApiError('not_found', `image file ${file} does not exist`);
    }
    if (!stat.isFile()) throw new ApiError('invalid_input', `${file} is a folder, not an image file`);
    return { input: file, label: file };
  }
  const label = options.name ? `"${options.name}"` : 'the given image';
  // a data URL (what a browser's FileReader gives) carries its bytes after the comma
  const text = (options.dataBase64 ?? '').replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new ApiError('invalid_input', `dataBase64 of ${label} is not base64 text`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 0) throw new ApiError('invalid_input', `${label} is empty (no bytes)`);
  return { input: bytes, label };
}
