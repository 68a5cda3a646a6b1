/**
 * Training killed (the CLI and its trainer process together): every epoch recorded before the kill
 * is still recorded after it, epochs are numbered without gaps, and `effitune train --resume RUN`
 * finishes the run, which then holds every epoch. A kill before the run was created leaves no run.
 */
import { runCli, startCli } from '../cli';
import { killSomewhere } from '../kill-plan';
import { checkProjectOpens } from '../checks';
import { outcome, type Outcome, type Soak } from '../context';
import { runs, type RunRow, walBytes } from '../inspect';

export const TRAIN_EPOCHS = 4;

const inOrder = (epochs: number[]) => epochs.every((e, i) => e === i);

export async function trainTrial(soak: Soak): Promise<Outcome> {
  const result = outcome();
  const project = soak.trainProject;
  const lastBefore = Math.max(0, ...runs(project).map((r) => r.id));
  const newRun = (list: RunRow[]) => list.find((r) => r.id > lastBefore);
  const wal = walBytes(project);
  const attempt = await killSomewhere(soak, 'train', startCli(['train', project, ...soak.trainFlags], soak.env), () => walBytes(project) > wal, soak.seconds.train * 700, () => newRun(runs(project)));
  if (attempt.killed) {
    result.killed = true;
    const atKill = attempt.snapshot;
    result.midWork = atKill !== undefined && atKill.epochs.length > 0;
    if (!(await checkProjectOpens(soak, project, result))) return result;
    const after = newRun(runs(project));
    if (atKill && !after) {
      result.lost.push(`train: run ${atKill.id} was recorded at the kill and is gone`);
      return result;
    }
    if (!after) return result; // killed before the run was created: nothing to resume
    if (!inOrder(after.epochs)) result.corrupt.push(`train: run ${after.id} has epochs ${after.epochs.join(',')} after the kill`);
    const missing = (atKill?.epochs ?? []).filter((e) => !after.epochs.includes(e));
    if (missing.length > 0) result.lost.push(`train: epochs ${missing.join(',')} of run ${after.id} were recorded at the kill and are gone`);
    if (after.status !== 'completed') {
      const resumed = await runCli(['train', project, '--resume', String(after.id), '--json'], soak.env).catch((err: Error) => err);
      if (resumed instanceof Error) {
        result.corrupt.push(`train: --resume ${after.id} after the kill failed: ${resumed.message}`);
        return result;
      }
      if (resumed.json.status !== 'completed') result.corrupt.push(`train: --resume ${after.id} ended ${resumed.json.status}: ${resumed.json.reason}`);
      result.recovered++;
    }
  } else {
    if (attempt.result.code !== 0) result.corrupt.push(`train exited ${attempt.result.code}: ${attempt.result.stderr.trim().slice(-400)}`);
    soak.seconds.train = attempt.result.seconds;
  }
  const final = newRun(runs(project));
  if (!final) {
    if (!attempt.killed) result.corrupt.push('train: finished but no run is recorded');
    return result;
  }
  const all = Array.from({ length: TRAIN_EPOCHS }, (_, i) => i);
  if (final.status !== 'completed' || final.epochs.join(',') !== all.join(',')) result.corrupt.push(`train: run ${final.id} ends ${final.status} with epochs ${final.epochs.join(',')}`);
  else soak.runId ??= final.id;
  return result;
}
