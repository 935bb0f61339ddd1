// withTimeout (src/gateway/cost-guard.ts): the grant's statement timeout around a request's store
// work. It stops the work when the time passes (504 store_timeout) or when the caller's signal
// aborts (the caller's reason, not a timeout), and leaves nothing behind once the work ends: no
// listener on the caller's signal, no pending timer (a weakly held signal per request piled up in
// the old generation before).
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { withTimeout } from '../../src/gateway/cost-guard.js';
import { ApiError } from '../../src/errors.js';
import { signalOf, type Cancel } from '../../src/cancellation.js';

/** Work that ends only when its signal aborts, with the signal's reason. */
const untilAborted = (cancel: Cancel | undefined): Promise<never> => {
  const signal = signalOf(cancel)!;
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
};

describe('withTimeout', () => {
  it('stops the work when the grant timeout passes, answering store_timeout', async () => {
    const caller = new AbortController();
    let seen: Cancel | undefined;
    const err = await withTimeout({ timeoutMs: 30 }, caller.signal, (s) => ((seen = s), untilAborted(s))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('store_timeout');
    expect((err as ApiError).status).toBe(504);
    expect(seen?.aborted).toBe(true);
    expect(caller.signal.aborted).toBe(false);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it("stops the work when the caller's signal aborts, with the caller's reason", async () => {
    const caller = new AbortController();
    const reason = new Error('client left');
    const running = withTimeout({ timeoutMs: 60_000 }, caller.signal, untilAborted);
    caller.abort(reason);
    await expect(running).rejects.toBe(reason);
  });

  it('a caller that left before the work started aborts it at once', async () => {
    const caller = new AbortController();
    caller.abort(new Error('gone'));
    let aborted: boolean | undefined;
    await withTimeout({ timeoutMs: 60_000 }, caller.signal, async (s) => {
      aborted = s?.aborted;
    });
    expect(aborted).toBe(true);
  });

  it('leaves no listener and no timer behind when the work ends in time', async () => {
    const caller = new AbortController();
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(await withTimeout({ timeoutMs: 60_000 }, caller.signal, async () => 'rows')).toBe('rows');
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
  });

  it('without a grant timeout, hands the caller signal through untouched', async () => {
    const caller = new AbortController();
    let seen: Cancel | undefined;
    await withTimeout(undefined, caller.signal, async (s) => {
      seen = s;
    });
    expect(seen).toBe(caller.signal);
  });
});
