/**
 * The CSV a prediction writes (path,top1,probability1,...,error per image). An existing file is only
 * replaced when asked (force), and only a plain file: never a folder, and never under the name of
 * an image or a project file (a CSV there is always a slip of the keyboard). The text goes to a
 * hidden sibling `.NAME.tmp-PID-HEX` first, fsynced, then renamed over the name, so a killed or
 * failing write leaves the old file or the new one, never half of either; such siblings of dead
 * processes are swept when the next CSV of that name is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract/contract';
import type { FilePrediction } from '../../contract/calls-export';
import { hasImageExtension } from '../../dataset/inspect-image';
import { formatCsvRow } from '../../dataset/labels/csv';
import { fsyncDir, isStale, leftoverName, newToken, parseLeftover } from '../atomic-folder';

/** Names a CSV must never take: images (the inputs) and a project with its SQLite side files. */
const PROTECTED_NAME = /\.effitune(-wal|-shm|-journal)?$/i;

/**
 * The CSV's absolute path, checked before any prediction runs so a refusal comes at once:
 * its folder exists, the name is not an image or project file, and an existing entry is a plain
 * file that may be replaced (force).
 */
export function checkCsvTarget(csv: string, force: boolean): string {
  const file = path.resolve(csv);
  const base = path.basename(file);
  if (hasImageExtension(base) || PROTECTED_NAME.test(base)) {
    throw new ApiError('invalid_input', `csv: ${file} is named like an image or a project file; write the predictions to a .csv file`);
  }
  if (!isDirectory(path.dirname(file))) throw new ApiError('not_found', `the folder of the CSV file ${file} does not exist`);
  refuseExisting(file, force, 'already exists');
  return file;
}

export function predictionsCsvText(predictions: readonly FilePrediction[], top: number): string {
  const header = ['path', ...Array.from({ length: top }, (_, i) => [`top${i + 1}`, `probability${i + 1}`]).flat(), 'error'];
  const rows = predictions.map((p) => [p.path, ...Array.from({ length: top }, (_, i) => [p.top[i]?.className ?? '', p.top[i] ? p.top[i].probability.toFixed(6) : '']).flat(), p.error ?? '']);
  // the project's one CSV writer, so labels and predictions quote (and escape) their fields alike
  return [header, ...rows].map(formatCsvRow).join('\n') + '\n';
}

/** Write the CSV atomically; the target is checked again (it may have appeared while predicting). */
export function writeCsvAtomically(csv: string, text: string, force: boolean): void {
  const file = path.resolve(csv);
  const dir = path.dirname(file);
  sweepCsvLeftovers(file);
  const temp = path.join(dir, leftoverName(path.basename(file), 'temp', newToken()));
  try {
    const fd = fs.openSync(temp, 'wx');
    try {
      fs.writeFileSync(fd, text, 'utf8');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    refuseExisting(file, force, 'appeared while predicting');
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    if (err instanceof ApiError) throw err;
    throw new ApiError('io_error', `cannot write the CSV file ${file}: ${(err as Error).message}`);
  }
  fsyncDir(dir);
}

/** Temporary CSVs of this name that a killed prediction left. */
function sweepCsvLeftovers(file: string): void {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const leftover = parseLeftover(name);
    if (!leftover || leftover.kind !== 'temp' || leftover.name !== base) continue;
    const full = path.join(dir, name);
    try {
      const stat = fs.lstatSync(full);
      if (stat.isFile() && isStale(leftover, stat.mtimeMs)) fs.rmSync(full, { force: true });
    } catch {
      // gone meanwhile, or left for the next time
    }
  }
}

function refuseExisting(file: string, force: boolean, what: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return; // nothing there (or a dangling link, which the rename replaces)
  }
  if (stat.isDirectory()) throw new ApiError('already_exists', `the CSV file ${file} is an existing folder; choose a file name`);
  if (!stat.isFile()) throw new ApiError('already_exists', `the CSV file ${file} ${what} and is not a plain file; choose another name`);
  if (!force) throw new ApiError('already_exists', `the CSV file ${file} ${what}; choose another name, or --force to replace it`);
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
