/**
 * Failed token attempts per remote address. The token is 256 random bits, so guessing it is hopeless
 * anyway; the limit keeps a client on the network from hammering the server (and the log readable)
 * when the app listens beyond loopback. After `maxFailures` wrong or missing tokens within
 * `windowMs`, that address gets 429 for `blockMs`, whatever token it sends: if a right token got
 * through during the block, the block would not slow guessing at all.
 */
export interface TokenAttemptLimits {
  maxFailures: number;
  windowMs: number;
  blockMs: number;
}

export const DEFAULT_TOKEN_ATTEMPT_LIMITS: TokenAttemptLimits = { maxFailures: 10, windowMs: 60_000, blockMs: 60_000 };

/** Beyond this many addresses tracked at once, the stalest are forgotten (memory stays bounded under a scan). */
const MAX_TRACKED_ADDRESSES = 10_000;

interface AddressRecord {
  /** Times of the failures still inside the window, oldest first. */
  failures: number[];
  blockedUntil: number;
}

export class FailedTokenAttempts {
  private readonly records = new Map<string, AddressRecord>();

  constructor(
    readonly limits: TokenAttemptLimits = DEFAULT_TOKEN_ATTEMPT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds the address must still wait (for Retry-After), or 0 when it may try. */
  retryAfterSeconds(address: string): number {
    const record = this.records.get(address);
    if (!record) return 0;
    const left = record.blockedUntil - this.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Counts one failure; true when this failure starts a block (the caller logs it once). */
  recordFailure(address: string): boolean {
    const now = this.now();
    const record = this.records.get(address) ?? { failures: [], blockedUntil: 0 };
    // Re-inserting keeps the Map ordered by last activity, so the first keys are the stalest.
    this.records.delete(address);
    this.records.set(address, record);
    record.failures = record.failures.filter((t) => now - t < this.limits.windowMs);
    record.failures.push(now);
    if (record.failures.length >= this.limits.maxFailures && record.blockedUntil <= now) {
      record.blockedUntil = now + this.limits.blockMs;
      record.failures = [];
      this.forgetStalest();
      return true;
    }
    this.forgetStalest();
    return false;
  }

  private forgetStalest(): void {
    for (const address of this.records.keys()) {
      if (this.records.size <= MAX_TRACKED_ADDRESSES) return;
      this.records.delete(address);
    }
  }
}
