/**
 * What a run tells besides its progress: its status (stored with the run and sent to the caller),
 * notes (stored with the run), the images it had to skip (each one told once, however often it is
 * met), and the gate between steps, where a pause holds the run and shows as a status change.
 */
import { ApiError } from '../contract/contract';
import type { RunStatus } from '../contract/calls-data';
import type { TrainNote } from '../contract/calls-train';
import { updateRunStatus } from '../project/runs';
import type { SkippedImage } from '../contract/calls-data';
import type { RunContext } from './run-context';
import { addRunNote } from './run-notes';

/** Skipped images named in one note; the rest are counted. */
const SKIPS_LISTED = 10;

export class RunReporting {
  private readonly reportedSkips = new Set<number>();

  constructor(private readonly ctx: Pick<RunContext, 'db' | 'runId' | 'control' | 'reporter'>) {}

  status(status: RunStatus, reason: string | null, change: { backend?: string; checkpointDir?: string } = {}): void {
    const { ctx } = this;
    try {
      updateRunStatus(ctx.db, ctx.runId, status, { reason, ...change });
    } catch (err) {
      // the run may already have been ended from outside (the service recorded a crash): keep that record
      if (!(err instanceof ApiError && err.code === 'invalid_input')) throw err;
    }
    ctx.reporter.status(status, reason);
  }

  note(kind: TrainNote['kind'], message: string): void {
    this.ctx.reporter.note(addRunNote(this.ctx.db, this.ctx.runId, kind, message));
  }

  /** One note for the images not told before. */
  skips(skipped: readonly SkippedImage[]): void {
    const fresh = skipped.filter((s) => !this.reportedSkips.has(s.id));
    if (fresh.length === 0) return;
    for (const s of fresh) this.reportedSkips.add(s.id);
    const listed = fresh.slice(0, SKIPS_LISTED).map((s) => `${s.path} (${s.reason})`);
    const more = fresh.length > listed.length ? ` and ${fresh.length - listed.length} more` : '';
    this.note('skipped', `${fresh.length} image${fresh.length === 1 ? '' : 's'} skipped: ${listed.join('; ')}${more}`);
  }

  /** Between steps: waits while paused, throws RunCancelled once cancelled. */
  async gate(): Promise<void> {
    await this.ctx.control.gate({
      onPause: () => this.status('paused', 'paused by the user'),
      onResume: () => this.status('running', null),
    });
  }
}
