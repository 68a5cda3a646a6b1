/**
 * The checks after every kill, common to all operations: the project opens through the real CLI
 * (`effitune status`, which also runs whatever recovery opening does), and SQLite's integrity and
 * foreign-key checks pass on the file.
 */
import { startCli } from './cli';
import type { Outcome, Soak } from './context';
import { integrity } from './inspect';

export async function checkProjectOpens(soak: Soak, project: string, result: Outcome): Promise<boolean> {
  const status = await startCli(['status', project, '--json'], soak.env).done;
  if (status.code !== 0) {
    result.corrupt.push(`effitune status ${project} exited ${status.code}: ${status.stderr.trim().slice(-400)}`);
    return false;
  }
  const check = integrity(project);
  if (check !== 'ok') {
    result.corrupt.push(`integrity_check of ${project}: ${check}`);
    return false;
  }
  return true;
}
