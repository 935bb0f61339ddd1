// Waiting for something to happen without guessing how long it takes: the suite runs on loaded
// machines, so a test polls for the state it needs with a generous deadline instead of sleeping a
// fixed time and hoping. The deadline only bounds a failure; a passing test waits as little as it can.

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeout?: number;
  /** Pause between two probes (default 20 ms). */
  interval?: number;
  /** What is awaited, for the message when the deadline passes. */
  what?: string;
}

/**
 * Probes until `probe` returns a truthy value, and returns that value. A probe that throws counts as
 * "not yet"; when the deadline passes, the error names `what` and the last thrown error.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeout = opts.timeout ?? 10_000;
  const interval = opts.interval ?? 20;
  const deadline = performance.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() >= deadline) {
      const cause = lastError ? ` (last error: ${(lastError as Error).message ?? String(lastError)})` : '';
      throw new Error(`waited ${timeout} ms for ${opts.what ?? 'a condition'}, in vain${cause}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
