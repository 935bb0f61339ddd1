// A circuit breaker per store. After `failures` consecutive unavailable/timeout errors it opens:
// calls fail at once with a 503 naming the store, so a dead store costs no pool slot and no timeout
// per request. After `cooldownMs` one call is let through as a probe (half-open): success closes
// the circuit, failure opens it for another cooldown.
import { StoreError } from '../errors.js';

export type BreakerStateName = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failures: number;
  cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failures: 5, cooldownMs: 10_000 };

export interface BreakerHooks {
  onStateChange?(store: string, state: BreakerStateName): void;
  onReject?(store: string): void;
  now?(): number;
}

/** The fail-fast 503 while the circuit is open (a StoreError, so every surface maps it alike). */
export class CircuitOpenError extends StoreError {}

/** Errors that say the store is not answering; anything else means it answered. */
function countsAsFailure(err: unknown): boolean {
  return err instanceof StoreError && !(err instanceof CircuitOpenError) && (err.reason === 'unavailable' || err.reason === 'timeout');
}

export class CircuitBreaker {
  private current: BreakerStateName = 'closed';
  private consecutive = 0;
  private openedAt = 0;
  private probeInFlight = false;
  private lastError = '';
  private readonly now: () => number;

  constructor(
    readonly store: string,
    private readonly opts: BreakerOptions = DEFAULT_BREAKER,
    private readonly hooks: BreakerHooks = {},
  ) {
    this.now = hooks.now ?? Date.now;
    hooks.onStateChange?.(store, 'closed');
  }

  get state(): BreakerStateName {
    return this.current;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const probe = this.admit();
    try {
      const value = await fn();
      this.succeeded();
      return value;
    } catch (err) {
      this.threw(err, probe);
      throw err;
    }
  }

  /**
   * run() in steps, for a caller that awaits the call in its own frame: admit() before the call,
   * then succeeded() or threw() with what it threw.
   * Throws the fail-fast 503 when the call may not go through; returns whether it is the probe.
   */
  admit(): boolean {
    if (this.current === 'closed') return false;
    if (this.current === 'open' && this.now() - this.openedAt >= this.opts.cooldownMs) this.transition('half-open');
    if (this.current === 'half-open' && !this.probeInFlight) {
      this.probeInFlight = true;
      return true;
    }
    this.hooks.onReject?.(this.store);
    const waitMs = Math.max(0, this.opts.cooldownMs - (this.now() - this.openedAt));
    const publicDetail =
      `circuit open after ${this.opts.failures} consecutive failures; ` +
      (this.current === 'half-open' ? 'a probe is in flight' : `the next probe is in ${Math.ceil(waitMs / 1000)}s`);
    // The last failure's driver text is for the log only (docs/security.md "Store outages").
    const err = new CircuitOpenError(this.store, 'unavailable', publicDetail, `${publicDetail} (last: ${this.lastError})`);
    err.headers['Retry-After'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
    throw err;
  }

  threw(err: unknown, probe: boolean): void {
    if (countsAsFailure(err)) this.failed(err as StoreError);
    else if (err instanceof StoreError) this.succeeded();
    else if (probe) this.probeInFlight = false;
  }

  succeeded(): void {
    this.consecutive = 0;
    this.probeInFlight = false;
    if (this.current !== 'closed') this.transition('closed');
  }

  private failed(err: StoreError): void {
    this.consecutive++;
    const detail = err.detail;
    this.lastError = detail.length > 200 ? `${detail.slice(0, 200)}...` : detail;
    this.probeInFlight = false;
    if (this.current === 'half-open' || (this.current === 'closed' && this.consecutive >= this.opts.failures)) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  private transition(to: BreakerStateName): void {
    this.current = to;
    this.hooks.onStateChange?.(this.store, to);
  }
}
