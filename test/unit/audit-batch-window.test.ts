// The batch window of src/ops/audit-batch.ts: records that arrive while a write is in flight wait
// out their own window, so a busy server makes one write per window rather than one right after
// each write. The sinks themselves are tested against a real file, PostgreSQL and stream in
// test/integration/audit-batch.test.ts; here the target only records what it is handed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher } from '../../src/ops/audit-batch.js';

/** A target whose writes stay in flight until the test ends them. */
function heldTarget() {
  const batches: string[][] = [];
  const pending: (() => void)[] = [];
  return {
    batches,
    endWrite: () => pending.shift()!(),
    target: {
      write: (items: string[]) => {
        batches.push(items);
        return new Promise<void>((resolve) => pending.push(resolve));
      },
    },
  };
}

const settle = () => vi.advanceTimersByTimeAsync(0);

/** A Batcher of 256 records at most per write, with this window. */
const batcher = (target: ReturnType<typeof heldTarget>['target'], maxDelayMs = 20) =>
  new Batcher(target, { maxRecords: 256, maxDelayMs, maxPendingBytes: 1 << 20 }, () => new Error('full'));

describe('Batcher window', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('records that arrive during a write are written when their own window ends', async () => {
    const t = heldTarget();
    const b = batcher(t.target);
    void b.add('a', 1);
    await vi.advanceTimersByTimeAsync(20);
    expect(t.batches).toEqual([['a']]);
    void b.add('b', 1);
    void b.add('c', 1);
    t.endWrite();
    await settle();
    expect(t.batches).toEqual([['a']]); // not written on the heels of the first write
    await vi.advanceTimersByTimeAsync(20);
    expect(t.batches).toEqual([['a'], ['b', 'c']]);
    t.endWrite();
  });

  it('a window that ends during a write is written as soon as that write ends', async () => {
    const t = heldTarget();
    const b = batcher(t.target);
    void b.add('a', 1);
    await vi.advanceTimersByTimeAsync(20);
    void b.add('b', 1);
    await vi.advanceTimersByTimeAsync(25); // b's window ends while a's write is in flight
    expect(t.batches).toEqual([['a']]);
    t.endWrite();
    await settle();
    expect(t.batches).toEqual([['a'], ['b']]);
    t.endWrite();
  });

  it('a drain during a write writes what waits once that write ends, without its window', async () => {
    const t = heldTarget();
    const b = batcher(t.target);
    void b.add('a', 1);
    await vi.advanceTimersByTimeAsync(20);
    void b.add('b', 1);
    const drained = b.drain();
    t.endWrite();
    await settle();
    expect(t.batches).toEqual([['a'], ['b']]);
    t.endWrite();
    await drained;
  });

  it('with no window (failing closed), what arrives during a write goes at the next turn after it', async () => {
    const t = heldTarget();
    const b = batcher(t.target, 0);
    void b.add('a', 1);
    await settle();
    void b.add('b', 1);
    t.endWrite();
    await settle();
    expect(t.batches).toEqual([['a'], ['b']]);
    t.endWrite();
  });
});
