/**
 * The app's data folder: recent projects, the weights cache, and the ONNX files converted from model
 * folders that belong to no run. $EFFITUNE_HOME, else ~/.effitune.
 */
import os from 'node:os';
import path from 'node:path';

export function defaultDataDir(): string {
  return process.env.EFFITUNE_HOME || path.join(os.homedir(), '.effitune');
}

/** Where ONNX files of model folders outside any run are cached (exports, converted weights). */
export function sharedOnnxCacheDir(dataDir = defaultDataDir()): string {
  return path.join(dataDir, 'onnx-cache');
}
