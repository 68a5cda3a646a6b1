/**
 * The service's job registry: the long work a caller names with a job id (imports, weight
 * downloads). One runner gives every job the same life: a free id (a running job of the same kind
 * and id is refused as busy), an AbortController its cancel call aborts, progress events that
 * carry its kind's event name, and leaving the registry however it ends. Closing the service
 * aborts every job still running.
 *
 * Training runs are not jobs here: they are named by (project, run id), outlive a crash of their
 * trainer process in the project's records, and pause/resume/cancel are messages to that process,
 * so the service's TrainingManager (main/train/training-manager.ts) keeps them. Estimates and
 * predictions have no id and no cancel; identical requests share one computation (`shared`).
 */
import { ApiError, type EventName, type EventPayload } from '../contract/contract';

/** Each kind of job: how its busy message names it, and the event its progress travels as. */
const JOB_KINDS = {
  import: { words: 'an import', progress: 'import.progress' },
  download: { words: 'a download', progress: 'weights.progress' },
} as const satisfies Record<string, { words: string; progress: EventName }>;

export type JobKind = keyof typeof JOB_KINDS;
type ProgressEventOf<K extends JobKind> = (typeof JOB_KINDS)[K]['progress'];

/** What the work of a job gets from the runner. */
export interface Job<K extends JobKind> {
  readonly id: string;
  /** aborted by the kind's cancel call and when the service closes */
  readonly signal: AbortSignal;
  progress(payload: EventPayload<ProgressEventOf<K>>): void;
}

type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

export class JobRegistry {
  private readonly running = new Map<string, AbortController>();
  private readonly sharedRuns = new Map<string, Promise<unknown>>();

  constructor(private readonly emit: Emit) {}

  /** Run `work` as a job of this kind, under the caller's id or a fresh one (`<kind>-<time>-<random>`). */
  async run<K extends JobKind, T>(kind: K, requestedId: string | undefined, work: (job: Job<K>) => Promise<T>): Promise<T> {
    const id = requestedId ?? `${kind}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const key = jobKey(kind, id);
    if (this.running.has(key)) throw new ApiError('busy', `${JOB_KINDS[kind].words} with job id "${id}" is already running`);
    const controller = new AbortController();
    this.running.set(key, controller);
    const event: ProgressEventOf<K> = JOB_KINDS[kind].progress;
    try {
      return await work({ id, signal: controller.signal, progress: (payload) => this.emit(event, payload) });
    } finally {
      this.running.delete(key);
    }
  }

  /** Abort the running job of this kind and id; false when there is none. */
  cancel(kind: JobKind, id: string): boolean {
    const controller = this.running.get(jobKey(kind, id));
    controller?.abort();
    return Boolean(controller);
  }

  /** While a computation under this key runs, identical requests get the same promise instead of a second one. */
  shared<T>(key: string, work: () => Promise<T>): Promise<T> {
    let found = this.sharedRuns.get(key) as Promise<T> | undefined;
    if (!found) {
      found = work().finally(() => this.sharedRuns.delete(key));
      this.sharedRuns.set(key, found);
    }
    return found;
  }

  /** The service is closing: every running job is asked to stop. */
  abortAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }
}

/** Kinds hold no ':', so the first one splits the key: no two (kind, id) pairs share a key. */
function jobKey(kind: JobKind, id: string): string {
  return `${kind}:${id}`;
}
