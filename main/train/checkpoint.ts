/**
 * Checkpoints of a run, in the project's side folder (<project>.d/runs/<id>/):
 *   epoch-0003/  model.json + weights.bin (a TF.js model folder: loads anywhere), labels.json,
 *                optimizer.bin (iteration count and moments), state.json (written last: epoch,
 *                batch, step, best so far, the epoch's record, sizes and SHA-256 of the other files)
 *   model/       the finished run's model: the best epoch's folder, renamed when the run completes
 *
 * Each checkpoint is written into a temporary folder, every file fsynced, then the folder is renamed
 * into place and the parent fsynced: a trainer killed at any moment (SIGKILL, power cut) leaves
 * either the whole checkpoint or none, and a leftover temporary folder is removed on the next start.
 * A folder whose state.json is missing, unreadable or does not match its files is never loaded.
 * Only the last epoch's and the best epoch's checkpoints are kept.
 *
 * Nothing random needs a place in it: epoch order, augmentation and the head's shuffling derive
 * from the run's seed and the epoch number, TF.js's dropout and stochastic-depth masks from the seed
 * and the step count (dropout-seeds.ts), so a resumed epoch sees the same images in the same order
 * with the same augmentation and the same masks, and ends where the uninterrupted run would.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { ApiError } from '../contract/contract';
import { EpochRecord } from '../contract/calls-data';
import { FINAL_MODEL_DIR } from '../project/run-folders';
import type { NamedTensor } from './optimizer';
import { LABELS_JSON, MODEL_JSON, saveModelFolder, WEIGHTS_BIN } from '../model/manager/model-folder';

export const STATE_JSON = 'state.json';
export const OPTIMIZER_BIN = 'optimizer.bin';
const EPOCH_DIR = /^epoch-(\d+)$/;
const TEMP_PREFIX = '.tmp-';

const FileCheck = z.object({ bytes: z.number().int(), sha256: z.string() });

export const CheckpointState = z.object({
  version: z.literal(1),
  runId: z.number().int(),
  /** the finished epoch (0-based) whose end this checkpoint is */
  epoch: z.number().int(),
  /** the batch size in use at the end of the epoch (after any halving) */
  batch: z.number().int(),
  /** optimizer steps taken so far */
  step: z.number().int(),
  seed: z.number().int(),
  best: z.object({ epoch: z.number().int(), valLoss: z.number() }).nullable(),
  /** epochs in a row without a better validation loss (early stopping) */
  epochsWithoutImprovement: z.number().int(),
  record: EpochRecord,
  optimizer: z.object({ name: z.string(), weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int()), dtype: z.string() })) }).nullable(),
  files: z.record(z.string(), FileCheck),
  savedAt: z.string(),
});
export type CheckpointState = z.infer<typeof CheckpointState>;

export interface CheckpointContent {
  model: tfl.LayersModel;
  labels: readonly string[];
  /** what model.json's metadata says about the model (variant, resolution, ...) */
  metadata: { variant: string; resolution: number; [key: string]: unknown };
  optimizer: { name: string; state: NamedTensor[] } | null;
  state: Omit<CheckpointState, 'version' | 'files' | 'savedAt' | 'optimizer'>;
}

export function epochDirName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}`;
}

/** Write the checkpoint of a finished epoch atomically; returns its folder. */
export async function writeCheckpoint(root: string, content: CheckpointContent): Promise<string> {
  const final = path.join(root, epochDirName(content.state.epoch));
  const temp = path.join(root, `${TEMP_PREFIX}${epochDirName(content.state.epoch)}-${process.pid}`);
  fs.rmSync(temp, { recursive: true, force: true });
  try {
    await saveModelFolder(content.model, temp, { ...content.metadata, classes: content.labels.length, input: 'RGB pixels 0..255 as float32, NHWC; normalisation is inside the model' }, true);
    fs.writeFileSync(path.join(temp, LABELS_JSON), JSON.stringify(content.labels));
    let optimizer: CheckpointState['optimizer'] = null;
    if (content.optimizer) {
      const { data, specs } = await tf.io.encodeWeights(content.optimizer.state);
      fs.writeFileSync(path.join(temp, OPTIMIZER_BIN), Buffer.from(data as ArrayBuffer));
      optimizer = { name: content.optimizer.name, weights: specs.map((s) => ({ name: s.name, shape: [...s.shape], dtype: s.dtype })) };
    }
    const files: CheckpointState['files'] = {};
    for (const name of fs.readdirSync(temp)) files[name] = checkFile(path.join(temp, name));
    const state: CheckpointState = { version: 1, ...content.state, optimizer, files, savedAt: new Date().toISOString() };
    fs.writeFileSync(path.join(temp, STATE_JSON), JSON.stringify(state, null, 1));
    for (const name of fs.readdirSync(temp)) fsyncPath(path.join(temp, name));
    fsyncPath(temp);
    // a checkpoint of the same epoch from an earlier attempt (resumed run) is replaced
    if (fs.existsSync(final)) fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(temp, final);
    fsyncPath(root);
    return final;
  } catch (err) {
    fs.rmSync(temp, { recursive: true, force: true });
    if (err instanceof ApiError) throw err;
    throw new ApiError('io_error', `cannot write the checkpoint of epoch ${content.state.epoch + 1} in ${root}: ${(err as Error).message}`);
  }
}

export interface FoundCheckpoint {
  dir: string;
  state: CheckpointState;
}

/**
 * The latest complete checkpoint of a run, or null. Removes temporary folders a killed trainer left;
 * a damaged checkpoint is skipped (the one before it is used) and reported through `onDamaged`.
 */
export function findLatestCheckpoint(root: string, onDamaged: (dir: string, why: string) => void = () => undefined): FoundCheckpoint | null {
  if (!fs.existsSync(root)) return null;
  const epochs: { dir: string; epoch: number }[] = [];
  for (const name of fs.readdirSync(root)) {
    const full = path.join(root, name);
    if (name.startsWith(TEMP_PREFIX)) {
      fs.rmSync(full, { recursive: true, force: true });
      continue;
    }
    const match = EPOCH_DIR.exec(name);
    if (match) epochs.push({ dir: full, epoch: Number(match[1]) });
  }
  epochs.sort((a, b) => b.epoch - a.epoch);
  for (const { dir } of epochs) {
    const why = verifyCheckpoint(dir);
    if (typeof why === 'string') onDamaged(dir, why);
    else return { dir, state: why };
  }
  return null;
}

/** The state of a checkpoint folder if it is whole, else why not. */
export function verifyCheckpoint(dir: string): CheckpointState | string {
  let state: CheckpointState;
  try {
    const parsed = CheckpointState.safeParse(JSON.parse(fs.readFileSync(path.join(dir, STATE_JSON), 'utf8')));
    if (!parsed.success) return `${STATE_JSON} does not describe a checkpoint`;
    state = parsed.data;
  } catch (err) {
    return `${STATE_JSON} cannot be read: ${(err as Error).message}`;
  }
  for (const [name, expected] of Object.entries(state.files)) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) return `${name} is missing`;
    const actual = checkFile(file);
    if (actual.bytes !== expected.bytes || actual.sha256 !== expected.sha256) return `${name} differs from what was written (${actual.bytes} bytes, expected ${expected.bytes})`;
  }
  for (const needed of [MODEL_JSON, WEIGHTS_BIN]) if (!state.files[needed]) return `${needed} is not part of it`;
  return state;
}

/** Load a checkpoint's weights into a model built with the same configuration, and its optimizer state. */
export async function loadCheckpoint(dir: string, state: CheckpointState, model: tfl.LayersModel): Promise<NamedTensor[] | null> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), 'utf8')) as { weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  const weights = tf.io.decodeWeights(toArrayBuffer(fs.readFileSync(path.join(dir, WEIGHTS_BIN))), specs);
  try {
    model.loadWeights(weights, true);
  } catch (err) {
    throw new ApiError('internal', `the checkpoint ${dir} does not fit the run's model: ${(err as Error).message}`);
  } finally {
    tf.dispose(Object.values(weights));
  }
  if (!state.optimizer) return null;
  const decoded = tf.io.decodeWeights(toArrayBuffer(fs.readFileSync(path.join(dir, OPTIMIZER_BIN))), state.optimizer.weights as tf.io.WeightsManifestEntry[]);
  return state.optimizer.weights.map((w) => ({ name: w.name, tensor: decoded[w.name] }));
}

/** Keep only the checkpoints of these epochs (the last and the best). */
export function pruneCheckpoints(root: string, keep: ReadonlySet<number>): void {
  for (const name of fs.readdirSync(root)) {
    const match = EPOCH_DIR.exec(name);
    if (match && !keep.has(Number(match[1]))) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
}

/**
 * A completed run: the chosen epoch's folder becomes <root>/model (one rename), the other
 * checkpoints go. Returns the model folder.
 */
export function finalizeModel(root: string, epoch: number): string {
  const source = path.join(root, epochDirName(epoch));
  const target = path.join(root, FINAL_MODEL_DIR);
  // a trainer killed right after the rename: the model is in place already
  if (!fs.existsSync(source) && fs.existsSync(target)) {
    const state = verifyCheckpoint(target);
    if (typeof state !== 'string' && state.epoch === epoch) {
      pruneCheckpoints(root, new Set());
      return target;
    }
  }
  if (!fs.existsSync(source)) throw new ApiError('internal', `the checkpoint of epoch ${epoch + 1} (${source}) is missing, so the run has no model to keep`);
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(source, target);
  fsyncPath(root);
  pruneCheckpoints(root, new Set());
  return target;
}

function checkFile(file: string): z.infer<typeof FileCheck> {
  const bytes = fs.readFileSync(file);
  return { bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}

/** fsync a file or a folder (folders: so a rename inside it is durable; not possible on Windows). */
function fsyncPath(target: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(target, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!(fs.statSync(target).isDirectory() && (code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL'))) throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
