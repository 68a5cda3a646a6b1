/**
 * Export killed while it replaces an earlier export (--force). The target must be absent, the old
 * complete folder or the new complete folder, never partial. Absent while an old export existed is
 * only acceptable if the leftover sweep (which every export runs first) brings the old one back:
 * otherwise the old export is lost. The sweep is run here the same way, and must leave no leftovers
 * of the dead process.
 */
import path from 'node:path';
import { sweepFolderLeftovers } from '../../../main/export/atomic-folder';
import { startCli } from '../cli';
import { killSomewhere } from '../kill-plan';
import { checkProjectOpens } from '../checks';
import { outcome, type Outcome, type Soak } from '../context';
import { exportFolderState, exportLeftovers, type FolderState } from '../export-folder';

const describe = (s: FolderState) => (s.kind === 'complete' ? `complete (${s.exportedAt})` : s.kind === 'partial' ? `partial: ${s.why}` : 'absent');

export async function exportTrial(soak: Soak, quantize: 'none' | 'float16'): Promise<Outcome> {
  const result = outcome();
  const old = soak.exportStamp;
  const args = ['export', soak.trainProject, '--run', String(soak.runId), '--format', 'tfjs', '--quantize', quantize, '--out', soak.exportDir, '--force', '--json'];
  const attempt = await killSomewhere(soak, 'export', startCli(args, soak.env), () => exportLeftovers(soak.exportDir).length > 0, 1000, () => ({ state: exportFolderState(soak.exportDir), leftovers: exportLeftovers(soak.exportDir).length }));
  if (!attempt.killed) {
    if (attempt.result.code !== 0) result.corrupt.push(`export exited ${attempt.result.code}: ${attempt.result.stderr.trim().slice(-400)}`);
    soak.seconds.export = attempt.result.seconds;
    const state = exportFolderState(soak.exportDir);
    if (state.kind !== 'complete' || state.exportedAt === old) result.corrupt.push(`export: finished but the target is ${describe(state)}`);
    soak.exportStamp = state.kind === 'complete' ? state.exportedAt : null;
    return result;
  }
  result.killed = true;
  const atKill = attempt.snapshot.state;
  // mid-work: the temporary folder had been started, or the new folder was already in place
  result.midWork = attempt.snapshot.leftovers > 0 || (atKill.kind === 'complete' && atKill.exportedAt !== old);
  await checkProjectOpens(soak, soak.trainProject, result);
  const after = exportFolderState(soak.exportDir);
  if (after.kind === 'partial') result.corrupt.push(`export: the target is ${describe(after)}`);
  // what the next export's sweep makes of the leftovers of the killed one
  sweepFolderLeftovers(path.dirname(soak.exportDir));
  const swept = exportFolderState(soak.exportDir);
  if (after.kind === 'absent' && swept.kind === 'complete') result.recovered++;
  const left = exportLeftovers(soak.exportDir);
  if (left.length > 0) result.corrupt.push(`export: leftovers of the killed export survive the sweep: ${left.join(', ')}`);
  if (swept.kind === 'partial') result.corrupt.push(`export: after the sweep the target is ${describe(swept)}`);
  const newAtKill = atKill.kind === 'complete' && atKill.exportedAt !== old;
  if (newAtKill && !(swept.kind === 'complete' && swept.exportedAt === atKill.exportedAt)) result.lost.push(`export: the new export was in place at the kill, after it the target is ${describe(swept)}`);
  else if (old !== null && swept.kind === 'absent') result.lost.push('export: the old export is gone and the new one never arrived');
  soak.exportStamp = swept.kind === 'complete' ? swept.exportedAt : null;
  return result;
}
