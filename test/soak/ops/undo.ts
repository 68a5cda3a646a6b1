/**
 * Undo killed, right after a CSV labeling: the labels of that edit are either all still applied or
 * all back as they were before it, the journal marks the edit undone exactly when they are back,
 * and an undo committed before the kill stays undone.
 */
import { startCli } from '../cli';
import { killSomewhere } from '../kill-plan';
import { checkProjectOpens } from '../checks';
import { outcome, type Outcome, type Soak } from '../context';
import { journal, labelsByPath, walBytes } from '../inspect';
import { labelState } from './label-states';

export async function undoTrial(soak: Soak): Promise<Outcome> {
  const result = outcome();
  const project = soak.labelProject;
  const target = soak.undoable!.before;
  const edit = journal(project).lastDone;
  // the labels as they are now, over the images of the edit undo will take back
  const all = labelsByPath(project);
  const applied = new Map([...target.keys()].map((p) => [p, all.get(p) ?? null]));
  const wal = walBytes(project);
  const attempt = await killSomewhere(soak, 'undo', startCli(['undo', project, '--json'], soak.env), () => walBytes(project) > wal, 30, () => labelState(labelsByPath(project), applied, target).state);
  if (attempt.killed) {
    result.killed = true;
    if (!(await checkProjectOpens(soak, project, result))) return result;
  } else {
    if (attempt.result.code !== 0) result.corrupt.push(`undo exited ${attempt.result.code}: ${attempt.result.stderr.trim().slice(-400)}`);
    soak.seconds.undo = attempt.result.seconds;
  }
  const { state, differing } = labelState(labelsByPath(project), applied, target);
  const undone = edit !== null && journal(project).lastDone?.id !== edit.id;
  if (state === 'partial') result.corrupt.push(`undo: a partial undo, ${differing} of ${target.size} images neither undone nor as they were`);
  else if ((state === 'after') !== undone) result.corrupt.push(`undo: labels are ${state === 'after' ? 'undone' : 'not undone'} but the journal ${undone ? 'marks' : 'does not mark'} edit ${edit?.id} undone`);
  if (attempt.killed) {
    result.midWork = attempt.snapshot === 'after';
    if (attempt.snapshot === 'after' && state !== 'after') result.lost.push('undo: the undo was committed at the kill and is gone after');
  } else if (state !== 'after') result.corrupt.push(`undo: finished without undoing (${state})`);
  // what an earlier edit restored is not tracked: after an undo, the next labeling sets a new target
  if (state === 'after') soak.undoable = null;
  return result;
}
