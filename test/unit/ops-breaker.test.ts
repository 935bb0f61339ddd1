// The circuit breaker with a controlled clock: opens after N consecutive unavailable/timeout
// failures, fails fast with a 503 naming the store, lets one probe through after the cooldown,
// closes on success and reopens on a failed probe. Query errors (the store answered) never count.
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { CircuitBreaker, CircuitOpenError } from '../../src/sources/breaker.js';
import { Metrics } from '../../src/ops/metrics.js';

// As src/sources/store-errors.ts makes them: viewgate's words for callers, the driver's as detail.
const down = () => Promise.reject(new StoreError('crm', 'unavailable', 'it cannot be reached', 'connect ECONNREFUSED 127.0.0.1:3306'));
const slow = () => Promise.reject(new StoreError('crm', 'timeout', 'the query took too long', 'max_statement_time exceeded'));
const ok = () => Promise.resolve('rows');

function setup() {
  let now = 0;
  const states: string[] = [];
  const metrics = new Metrics();
  const b = new CircuitBreaker(
    'crm',
    { failures: 3, cooldownMs: 1000 },
    {
      now: () => now,
      onStateChange: (store, s) => {
        states.push(s);
        metrics.breakerChanged(store, s);
      },
      onReject: (store) => metrics.breakerRejected(store),
    },
  );
  return { b, states, metrics, tick: (ms: number) => (now += ms) };
}

describe('circuit breaker', () => {
  it('opens after N consecutive failures and then fails fast with a 503 naming the store', async () => {
    const { b, metrics } = setup();
    await expect(b.run(down)).rejects.toThrow('cannot be reached');
    await expect(b.run(slow)).rejects.toThrow('took too long');
    expect(b.state).toBe('closed');
    await expect(b.run(down)).rejects.toThrow('cannot be reached');
    expect(b.state).toBe('open');
    let called = false;
    const err = await b.run(async () => (called = true)).catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect(err).toMatchObject({ status: 503, context: { source: 'crm' } });
    expect((err as Error).message).toMatch(
      /^store "crm" is unavailable: circuit open after 3 consecutive failures; the next probe is in 1s$/,
    );
    // The last failure's driver text is for the log, never in the caller's message.
    expect((err as StoreError).detail).toMatch(/\(last: connect ECONNREFUSED 127\.0\.0\.1:3306\)$/);
    expect((err as StoreError).headers['Retry-After']).toBe('1');
    const text = await metrics.exposition();
    expect(text).toContain('viewgate_circuit_state{store="crm"} 2');
    expect(text).toContain('viewgate_circuit_rejections_total{store="crm"} 1');
  });

  it('a success in between resets the count', async () => {
    const { b } = setup();
    await b.run(down).catch(() => {});
    await b.run(down).catch(() => {});
    await b.run(ok);
    await b.run(down).catch(() => {});
    await b.run(down).catch(() => {});
    expect(b.state).toBe('closed');
  });

  it('query errors mean the store answered: they neither count nor keep it open', async () => {
    const { b } = setup();
    const bad = () => Promise.reject(new StoreError('crm', 'failed', 'syntax error'));
    for (let i = 0; i < 5; i++) await b.run(bad).catch(() => {});
    expect(b.state).toBe('closed');
  });

  it('half-open: one probe after the cooldown; success closes', async () => {
    const { b, states, tick } = setup();
    for (let i = 0; i < 3; i++) await b.run(down).catch(() => {});
    tick(999);
    await expect(b.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    tick(1);
    let release!: (v: string) => void;
    const probe = b.run(() => new Promise<string>((r) => (release = r)));
    expect(b.state).toBe('half-open');
    // While the probe is out, everyone else still fails fast.
    await expect(b.run(ok)).rejects.toThrow(/a probe is in flight/);
    release('rows');
    await expect(probe).resolves.toBe('rows');
    expect(b.state).toBe('closed');
    await expect(b.run(ok)).resolves.toBe('rows');
    expect(states).toEqual(['closed', 'open', 'half-open', 'closed']);
  });

  it('half-open: a failed probe opens it for another cooldown', async () => {
    const { b, states, tick } = setup();
    for (let i = 0; i < 3; i++) await b.run(down).catch(() => {});
    tick(1000);
    await expect(b.run(down)).rejects.toThrow('cannot be reached');
    expect(b.state).toBe('open');
    tick(500);
    await expect(b.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    tick(500);
    await expect(b.run(ok)).resolves.toBe('rows');
    expect(states).toEqual(['closed', 'open', 'half-open', 'open', 'half-open', 'closed']);
  });
});
