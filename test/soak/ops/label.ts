/**
 * Labeling from a CSV killed: every usable image of the project gets a random class from one CSV
 * file (one edit). After the kill the labels are either all as before or all as the CSV says, the
 * undo journal agrees with which (an edit recorded exactly when the labels changed), and an edit
 * committed before the kill is still applied.
 */
import path from 'node:path';
import { startCli } from '../cli';
import { killSomewhere } from '../kill-plan';
import { checkProjectOpens } from '../checks';
import { outcome, type Outcome, type Soak } from '../context';
import { writeLabelCsv } from '../data';
import { journal, labelsByPath, walBytes } from '../inspect';
import { labelState } from './label-states';

export async function labelTrial(soak: Soak): Promise<Outcome> {
  const result = outcome();
  const project = soak.labelProject;
  const before = labelsByPath(project);
  const csv = path.join(soak.dir, `labels-${Date.now()}.csv`);
  const wanted = writeLabelCsv(csv, [...before.keys()], soak.random);
  // ids are reused once an undone edit is dropped, so "a new edit" is: the newest not-undone edit changed
  const lastDoneBefore = journal(project).lastDone?.id ?? 0;
  const wal = walBytes(project);
  const attempt = await killSomewhere(soak, 'label', startCli(['label', project, '--csv', csv, '--json'], soak.env), () => walBytes(project) > wal, 30, () => labelState(labelsByPath(project), before, wanted).state);
  if (attempt.killed) {
    result.killed = true;
    if (!(await checkProjectOpens(soak, project, result))) return result;
  } else {
    if (attempt.result.code !== 0) result.corrupt.push(`label exited ${attempt.result.code}: ${attempt.result.stderr.trim().slice(-400)}`);
    soak.seconds.label = attempt.result.seconds;
  }
  const { state, differing } = labelState(labelsByPath(project), before, wanted);
  const recorded = (journal(project).lastDone?.id ?? 0) !== lastDoneBefore;
  if (state === 'partial') result.corrupt.push(`label: a partial edit, ${differing} of ${wanted.size} images not as the CSV says and not as before`);
  else if ((state === 'after') !== recorded) result.corrupt.push(`label: labels are ${state} the edit but the journal ${recorded ? 'records' : 'does not record'} it`);
  if (attempt.killed) {
    result.midWork = attempt.snapshot === 'after';
    if (attempt.snapshot === 'after' && state !== 'after') result.lost.push('label: the CSV edit was committed at the kill and is gone after');
  } else if (state !== 'after') result.corrupt.push(`label: finished without applying the CSV (${state})`);
  // undo takes back the newest edit: the one just applied, or still the one it was before
  if (state === 'after') soak.undoable = { before };
  return result;
}
