/**
 * Import killed: a new folder of fresh images is imported and the CLI killed part-way. Afterwards
 * no usable image row may be half-written, every image committed before the kill is still there,
 * and re-running the same import completes it (every image of the folder imported once).
 */
import path from 'node:path';
import { runCli, startCli } from '../cli';
import { killSomewhere } from '../kill-plan';
import { checkProjectOpens } from '../checks';
import { outcome, type Outcome, type Soak } from '../context';
import { writeNoiseImages } from '../data';
import { importedRows, walBytes } from '../inspect';

export const IMPORT_BATCH = 40;

/** A fresh folder of images no earlier import has seen. */
export async function nextBatch(soak: Soak): Promise<string> {
  const folder = path.join(soak.dir, 'imports', `batch-${soak.batches}`);
  await writeNoiseImages(folder, IMPORT_BATCH, 1000 + soak.batches);
  soak.batches++;
  return folder;
}

export function importArgs(soak: Soak, folder: string): string[] {
  return ['import', soak.labelProject, folder, '--labels-from-folders', '--json'];
}

export async function importTrial(soak: Soak): Promise<Outcome> {
  const result = outcome();
  const folder = await nextBatch(soak);
  const wal = walBytes(soak.labelProject);
  const attempt = await killSomewhere(soak, 'import', startCli(importArgs(soak, folder), soak.env), () => walBytes(soak.labelProject) > wal, 1000, () => importedRows(soak.labelProject, folder));
  if (attempt.killed) {
    result.killed = true;
    result.midWork = attempt.snapshot.total > 0 && attempt.snapshot.ok < IMPORT_BATCH;
    if (!(await checkProjectOpens(soak, soak.labelProject, result))) return result;
    const after = importedRows(soak.labelProject, folder);
    if (after.incomplete > 0) result.corrupt.push(`import: ${after.incomplete} image rows without hash or size after the kill`);
    if (after.ok < attempt.snapshot.ok) result.lost.push(`import: ${attempt.snapshot.ok} images were committed at the kill, ${after.ok} are left`);
    // the import can be re-run to completion
    const rerun = await runCli(importArgs(soak, folder), soak.env).catch((err: Error) => err);
    if (rerun instanceof Error) {
      result.corrupt.push(`import: re-running after the kill failed: ${rerun.message}`);
      return result;
    }
    result.recovered++;
  } else {
    if (attempt.result.code !== 0) result.corrupt.push(`import exited ${attempt.result.code}: ${attempt.result.stderr.trim().slice(-400)}`);
    soak.seconds.import = attempt.result.seconds;
  }
  const final = importedRows(soak.labelProject, folder);
  if (final.ok !== IMPORT_BATCH || final.total !== IMPORT_BATCH) result.corrupt.push(`import: after completing, ${final.ok} usable images of ${IMPORT_BATCH} (${final.total} rows)`);
  return result;
}
