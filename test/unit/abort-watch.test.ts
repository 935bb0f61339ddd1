// When a store's stop runs for a statement (src/sources/abort-watch.ts): the real stores' side is in
// test/e2e/ops-cancel.test.ts.
import { describe, expect, it } from 'vitest';
import { watchAbort } from '../../src/sources/abort-watch.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watchAbort', () => {
  it('stops a statement aborted before the watch begins, once the watch begins', async () => {
    const c = new AbortController();
    let stops = 0;
    const done = watchAbort(c.signal, () => stops++);
    c.abort();
    expect(stops).toBe(0);
    await wait(60);
    expect(stops).toBe(1);
    done();
  });

  it('stops a watched statement when the signal aborts', async () => {
    const c = new AbortController();
    let stops = 0;
    const done = watchAbort(c.signal, () => stops++);
    await wait(60);
    c.abort();
    expect(stops).toBe(1);
    done();
  });

  it('never stops a statement that has ended, whenever the signal aborts', async () => {
    for (const abortAfter of [0, 60]) {
      const c = new AbortController();
      let stops = 0;
      const done = watchAbort(c.signal, () => stops++);
      await wait(abortAfter);
      done();
      c.abort();
      await wait(60);
      expect(stops).toBe(0);
    }
  });

  it('does nothing without a signal', () => {
    expect(() => watchAbort(undefined, () => {})()).not.toThrow();
  });
});
