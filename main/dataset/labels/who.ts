/**
 * Who made a label change: the operating-system user for edits made by hand, 'run <id>' for an
 * accepted model suggestion. Stored in images.labeled_by and label_history.who.
 */
import os from 'node:os';

let cached: string | undefined;

/** The OS user name; some containers have no passwd entry, so the environment is the fallback. */
export function currentUser(): string {
  if (cached === undefined) {
    try {
      cached = os.userInfo().username || '';
    } catch {
      cached = '';
    }
    cached ||= process.env.USER || process.env.USERNAME || 'unknown';
  }
  return cached;
}

export function runAuthor(runId: number): string {
  return `run ${runId}`;
}
