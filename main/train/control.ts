/**
 * Steering a run from outside its loop: pause, resume, cancel. The loop calls `gate()` between
 * steps; a pause holds it there (the model stays in memory), a cancel makes it throw
 * RunCancelled, which the loop turns into a cancelled run that keeps its last checkpoint.
 * Time held at a pause is kept apart (activeNow), so speeds and epoch times count training only.
 */
export class RunCancelled extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RunCancelled';
  }
}

export interface GateHooks {
  onPause(): void;
  onResume(): void;
}

export class RunControl {
  private pausedFlag = false;
  private cancelReason: string | null = null;
  private wake: (() => void) | null = null;
  /** milliseconds held at the gate by pauses that have ended */
  private pausedMs = 0;
  /** performance.now() when the pause holding the gate now began */
  private pausedSince: number | null = null;

  get paused(): boolean {
    return this.pausedFlag;
  }

  get cancelled(): boolean {
    return this.cancelReason !== null;
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    this.wake?.();
  }

  cancel(reason: string): void {
    this.cancelReason ??= reason;
    this.wake?.();
  }

  /**
   * A clock in milliseconds like performance.now() that stands still while a pause holds the run:
   * the difference of two readings is the time spent training between them.
   */
  activeNow(): number {
    const now = performance.now();
    return now - this.pausedMs - (this.pausedSince === null ? 0 : now - this.pausedSince);
  }

  /** Between steps: returns at once while running, waits while paused, throws once cancelled. */
  async gate(hooks: GateHooks): Promise<void> {
    this.throwIfCancelled();
    if (!this.pausedFlag) return;
    hooks.onPause();
    this.pausedSince = performance.now();
    try {
      while (this.pausedFlag && this.cancelReason === null) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      }
    } finally {
      this.pausedMs += performance.now() - this.pausedSince;
      this.pausedSince = null;
    }
    this.throwIfCancelled();
    hooks.onResume();
  }

  throwIfCancelled(): void {
    if (this.cancelReason !== null) throw new RunCancelled(this.cancelReason);
  }
}
