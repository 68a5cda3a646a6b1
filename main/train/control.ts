/**
 * Steering a run from outside its loop: pause, resume, cancel. The loop calls `gate()` between
 * steps; a pause holds it there (the model stays in memory), a cancel makes it throw
 * RunCancelled, which the loop turns into a cancelled run that keeps its last checkpoint.
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

  /** Between steps: returns at once while running, waits while paused, throws once cancelled. */
  async gate(hooks: GateHooks): Promise<void> {
    this.throwIfCancelled();
    if (!this.pausedFlag) return;
    hooks.onPause();
    while (this.pausedFlag && this.cancelReason === null) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    this.throwIfCancelled();
    hooks.onResume();
  }

  throwIfCancelled(): void {
    if (this.cancelReason !== null) throw new RunCancelled(this.cancelReason);
  }
}
