/**
 * A run once it is set up, as the parts that train it see it (epoch-loop.ts, epoch-end.ts,
 * image-training.ts, head-training.ts): the caller's context, the configuration, the set-up and the
 * reporting, plus the two rules they all follow — an out-of-memory error halves the batch and
 * retries, and `patience` epochs without a better validation loss end the run.
 */
import type { TrainConfig } from '../contract/calls-train';
import { isOutOfMemory } from './memory';
import type { RunContext } from './run-context';
import type { ProgressPoint, RunProgress } from './run-progress';
import type { RunReporting } from './run-reporting';
import type { RunCounters, RunSetup } from './run-setup';
import { decodedCacheOf } from './config';
import type { DecodedCache } from './data/decoded-cache';
export class TrainingSession {
  /** the decode cache the run's pipelines read (config.decodeCache), or null */
  readonly decodedCache: DecodedCache | null;

  constructor(
    readonly ctx: RunContext,
    readonly config: TrainConfig,
    readonly setup: RunSetup,
    readonly reporting: RunReporting,
    readonly progress: RunProgress,
  ) {
    this.decodedCache = decodedCacheOf(ctx.db.name, config);
  }

  get counters(): RunCounters {
    return this.setup.counters;
  }

  /** A progress report with the batch and step of now. */
  report(point: ProgressPoint): void {
    this.progress.report(point, this.setup.counters);
  }

  /** Whether the validation loss has not improved for `patience` epochs (a resumed run may begin that way). */
  patienceUsedUp(): boolean {
    const { config, counters } = this;
    return config.patience > 0 && counters.best !== null && counters.epochsWithoutImprovement >= config.patience;
  }

  /** Run `work` over [0, size) in chunks of the current batch; an out-of-memory error halves the batch and retries the same chunk. */
  async inChunks(size: number, work: (from: number, n: number) => Promise<void>): Promise<void> {
    let from = 0;
    while (from < size) {
      const n = Math.min(this.counters.batch, size - from);
      try {
        await work(from, n);
        from += n;
      } catch (err) {
        this.halveOnOutOfMemory(err, `step ${this.counters.step + 1}`);
      }
    }
  }

  /** After an out-of-memory error at `where`, halve the batch and say so; throw any other error, and one at batch 1. */
  halveOnOutOfMemory(err: unknown, where: string): void {
    const { counters } = this;
    if (!isOutOfMemory(err) || counters.batch === 1) throw err;
    const before = counters.batch;
    counters.batch = Math.max(1, Math.floor(before / 2));
    this.reporting.note('oom', `out of memory at ${where} with batch ${before} (${(err as Error).message.split('\n')[0]}): halved the batch to ${counters.batch} and retried the same step`);
  }
}
