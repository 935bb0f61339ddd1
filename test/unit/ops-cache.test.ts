// The response cache pieces without stores: the codec keeps bigints exact, the key separates
// tenants (and only what matters), entries expire, concurrent misses share one load (stopped once
// no request waits for it).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseConfig } from '../../src/config/load.js';
import { CacheKeys } from '../../src/ops/cache-key.js';
import { canonical } from '../../src/values.js';
import { parseViewId, serviceOf, viewNameOf } from '../../src/config/view-id.js';
import { Policy } from '../../src/policy/policy.js';
import { decodeEntry, encodeEntry, MemoryCacheStore, ResponseCache } from '../../src/ops/cache.js';
import type { EngineQuery, View } from '../../src/engine/view.js';
import type { Identity } from '../../src/policy/identity.js';
import { Metrics } from '../../src/ops/metrics.js';
import { waitFor } from '../support/wait.js';

const CONFIG = parseConfig(
  `
sources:
  crm: { kind: mysql, url: "mysql://root@127.0.0.1:3306/x" }
  hub: { kind: postgres, url: "postgres://postgres@127.0.0.1:5432/x" }
services:
  fedhub:
    engine: hub
    source: hub
    foreign:
      crm: { schema: mysql_map, tables: [customers] }
    views:
      h:
        key: [customer_id]
        sql: SELECT customer_id, tenant_id FROM mysql_map.customers
  crm: { source: crm, tables: [customers] }
  fed:
    views:
      v:
        sql: SELECT customer_id, tenant_id FROM crm.customers
        rowSecurity: "tenant_id in {claims.tenants}"
roles:
  external:
    grants:
      crm.customers: { read: true, rowFilter: "tenant_id = {claims.tenant_id}", masks: { email: email }, cacheTtl: 30s }
      fed.v: { read: true, cacheTtl: 30s }
      fedhub.h: { read: true, cacheTtl: 30s }
  other:
    grants:
      crm.customers: { read: true, rowFilter: "tenant_id = {claims.tenant_id}", masks: { email: hash }, cacheTtl: 30s }
`,
  'test.yaml',
  {},
);

const query: EngineQuery = {
  columns: ['customer_id', 'email'],
  where: { op: 'cmp', column: 'tenant_id', cmp: '=', value: 't1' },
  orderBy: [{ column: 'customer_id', desc: false }],
  limit: 100,
  offset: 0,
  count: false,
};

const who = (claims: Record<string, unknown>, role = 'external', sub = 'someone'): Identity => ({
  subject: sub,
  identityKey: `jwt:|${sub}`,
  role,
  method: 'jwt',
  claims,
});

describe('cache codec', () => {
  it('round-trips bigints exactly, beside look-alike strings and JSON values', () => {
    const value = {
      rows: [
        {
          id: 9007199254740993n,
          neg: -9223372036854775808n,
          text: '9007199254740993',
          tagLike: '\u0000big:0000000000000000:1',
          doc: { a: [1, 'x', null] },
        },
        { id: null, neg: 0n, text: '', tagLike: 'n', doc: null },
      ],
      fields: ['id'],
      next: 100,
    };
    const back = decodeEntry<typeof value>(encodeEntry(value));
    expect(back).toEqual(value);
    expect(typeof back.rows[0]!.id).toBe('bigint');
    expect(typeof back.rows[0]!.text).toBe('string');
  });

  it('round-trips any bigint and string (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ b: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), s: fc.string() })), (rows) => {
        expect(decodeEntry(encodeEntry({ rows }))).toEqual({ rows });
      }),
    );
  });
});

describe('cache key', () => {
  const keys = new CacheKeys(CONFIG);
  const policy = new Policy(CONFIG);
  const engine = { execute: () => Promise.reject(new Error('unused')), explain: () => Promise.reject(new Error('unused')) };
  const views = new Map(
    ['crm.customers', 'fed.v', 'fedhub.h'].map((text): [string, View] => {
      const id = parseViewId(text)!;
      const columns = [
        { name: 'customer_id', type: 'int' as const, nullable: false },
        { name: 'tenant_id', type: 'text' as const, nullable: false },
      ];
      return [text, { id, service: serviceOf(id), name: viewNameOf(id), description: '', key: ['customer_id'], columns, engine }];
    }),
  );
  /** The policy's record for the role on the view: what the key reads of the policy. */
  const scope = (view: string, role = 'external') => policy.access(role, views.get(view)!)!;
  const customers = scope('crm.customers');

  it('differs between tenants, roles and masks; is stable for the same inputs', () => {
    const t1 = keys.key(who({ tenant_id: 't1' }), customers, query);
    expect(keys.key(who({ tenant_id: 't1' }), customers, query)).toBe(t1);
    expect(keys.key(who({ tenant_id: 't2' }), customers, query)).not.toBe(t1);
    expect(keys.key(who({ tenant_id: 't1' }, 'other'), scope('crm.customers', 'other'), query)).not.toBe(t1);
    expect(keys.key(who({ tenant_id: 't1' }), customers, { ...query, offset: 100 })).not.toBe(t1);
    expect(keys.key(who({ tenant_id: 't1' }), customers, { ...query, columns: ['email', 'customer_id'] })).not.toBe(t1);
  });

  it('ignores claims no row filter reads (a new token for the same tenant hits the same entry)', () => {
    const a = keys.key(who({ tenant_id: 't1', iat: 1, jti: 'a' }, 'external', 'alice'), customers, query);
    const b = keys.key(who({ tenant_id: 't1', iat: 2, jti: 'b' }, 'external', 'bob'), customers, query);
    expect(a).toBe(b);
  });

  it('ignores the identity the engine query carries, except for hub views, whose key holds every claim', () => {
    const withIdentity = (claims: Record<string, unknown>): EngineQuery => ({ ...query, identity: { role: 'external', claims } });
    const c1 = { tenant_id: 't1', iat: 1 };
    const c2 = { tenant_id: 't1', iat: 2 };
    expect(keys.key(who(c1), customers, withIdentity(c1))).toBe(keys.key(who(c2), customers, withIdentity(c2)));
    const hub = scope('fedhub.h');
    expect(keys.key(who(c1), hub, withIdentity(c1))).not.toBe(keys.key(who(c2), hub, withIdentity(c2)));
  });

  it("includes the claims of the view's rowSecurity, even when the grant has no row filter", () => {
    const v = scope('fed.v');
    const q = { ...query, where: undefined };
    expect(keys.key(who({ tenants: ['t1'] }), v, q)).not.toBe(keys.key(who({ tenants: ['t2'] }), v, q));
  });

  it('depends on the deployment (another config sharing Redis never shares entries)', () => {
    const other = new CacheKeys({ ...CONFIG, masking: { hashSecret: 'different' } });
    expect(other.key(who({ tenant_id: 't1' }), customers, query)).not.toBe(keys.key(who({ tenant_id: 't1' }), customers, query));
  });

  it('canonical text tells bigints, numbers and strings apart and sorts keys', () => {
    expect(canonical(1n)).not.toBe(canonical(1));
    expect(canonical(1n)).not.toBe(canonical('1'));
    expect(canonical({ b: 1, a: 2 })).toBe(canonical({ a: 2, b: 1 }));
  });

  it('canonical text is what it was before it was written out with loops (keys in Redis outlive a release)', () => {
    const before = (v: unknown): string => {
      if (v === undefined) return 'u';
      if (v === null || typeof v === 'boolean' || typeof v === 'number') return JSON.stringify(v) ?? 'null';
      if (typeof v === 'bigint') return `${v}n`;
      if (typeof v === 'string') return JSON.stringify(v);
      if (Array.isArray(v)) return `[${v.map(before).join(',')}]`;
      if (v instanceof Map) return `M${before([...v.entries()].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)))}`;
      const o = v as Record<string, unknown>;
      return `{${Object.keys(o)
        .sort()
        .filter((k) => o[k] !== undefined)
        .map((k) => `${JSON.stringify(k)}:${before(o[k])}`)
        .join(',')}}`;
    };
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSparseArray: true }), (v) => {
        expect(canonical(v)).toBe(before(v));
      }),
      { numRuns: 500 },
    );
    expect(canonical([1n, , 'a'])).toBe('[1n,,"a"]'); // eslint-disable-line no-sparse-arrays
  });
});

describe('memory store and ResponseCache', () => {
  it('keeps values frozen, so no reader can change what the next request gets', async () => {
    const store = new MemoryCacheStore();
    await store.set('k', { rows: [{ id: 1n, doc: { a: [1] } }] }, 1000);
    const got = (await store.get<{ rows: { id: bigint; doc: { a: number[] } }[] }>('k'))!.value;
    expect(got.rows[0]!.id).toBe(1n);
    expect(() => {
      got.rows[0]!.id = 2n;
    }).toThrow(TypeError);
    expect(() => got.rows[0]!.doc.a.push(2)).toThrow(TypeError);
  });

  it('does not keep an entry larger than its limit', async () => {
    const store = new MemoryCacheStore({ maxChars: 1000, maxEntries: 10, maxEntryChars: 100 });
    await store.set('big', { text: 'x'.repeat(200) }, 1000);
    expect(await store.get('big')).toBeUndefined();
  });

  it('expires entries after their TTL', async () => {
    const store = new MemoryCacheStore();
    const ttlMs = 1_000;
    await store.set('k', 'v', ttlMs);
    expect((await store.get('k'))?.value).toBe('v');
    expect((await store.get('k'))!.remainingMs).toBeLessThanOrEqual(ttlMs);
    await waitFor(async () => (await store.get('k')) === undefined, { what: 'the entry to expire' });
  });

  it('counts hits and misses and shares one load between concurrent misses', async () => {
    const metrics = new Metrics();
    const cache = new ResponseCache(new MemoryCacheStore(), metrics);
    let loads = 0;
    const load = async () => {
      loads++;
      // Still loading one macrotask later, when the other two misses (microtasks only) have joined.
      await new Promise((r) => setImmediate(r));
      return { rows: [{ id: 1n }] };
    };
    const first = await Promise.all([1, 2, 3].map(() => cache.getOrLoad('v', 'k', 1000, load)));
    expect(loads).toBe(1);
    expect(first.every((o) => !o.hit && o.maxAgeMs === 1000)).toBe(true);
    const again = await cache.getOrLoad('v', 'k', 1000, load);
    expect(again).toMatchObject({ hit: true, value: { rows: [{ id: 1n }] } });
    expect(again.maxAgeMs).toBeLessThanOrEqual(1000);
    const text = await metrics.exposition();
    expect(text).toContain('viewgate_cache_hits_total{view="v"} 1');
    expect(text).toContain('viewgate_cache_misses_total{view="v"} 3');
  });

  it('answers an in-process hit at once (hitNow), as getOrLoad would, and counts it', async () => {
    const metrics = new Metrics();
    const cache = new ResponseCache(new MemoryCacheStore(), metrics);
    expect(cache.hitNow('v', 'k')).toBeUndefined();
    await cache.getOrLoad('v', 'k', 1000, async () => ({ rows: [{ id: 2n }] }));
    const now = cache.hitNow<{ rows: unknown[] }>('v', 'k');
    expect(now).toMatchObject({ hit: true, value: { rows: [{ id: 2n }] } });
    expect(now!.maxAgeMs).toBeGreaterThan(0);
    expect(now!.maxAgeMs).toBeLessThanOrEqual(1000);
    expect(now!.value).toBe((await cache.getOrLoad('v', 'k', 1000, async () => ({ rows: [] }))).value);
    expect(cache.hitNow('v', 'other')).toBeUndefined();
    expect(await metrics.exposition()).toContain('viewgate_cache_hits_total{view="v"} 2');
  });

  it('stops a shared load only when every request waiting for it has been cancelled', async () => {
    const cache = new ResponseCache(new MemoryCacheStore());
    const loads: AbortSignal[] = [];
    const load = (signal: AbortSignal) => {
      loads.push(signal);
      return new Promise<string>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
        setTimeout(() => resolve('done'), 60_000).unref();
      });
    };
    const [a, b] = [new AbortController(), new AbortController()];
    const first = cache.getOrLoad('v', 'k', 1000, load, a.signal).catch((e: unknown) => e);
    const second = cache.getOrLoad('v', 'k', 1000, load, b.signal).catch((e: unknown) => e);
    await waitFor(() => loads.length === 1, { what: 'the shared load to start' });
    a.abort(new Error('first left'));
    expect(await first).toEqual(new Error('first left'));
    expect(loads[0]!.aborted).toBe(false);
    b.abort(new Error('second left'));
    expect(await second).toEqual(new Error('second left'));
    expect(loads[0]!.aborted).toBe(true);
    // The next miss does not join the stopped load.
    const third = cache.getOrLoad('v', 'k', 1000, async () => 'fresh');
    expect((await third).value).toBe('fresh');
  });

  it('does not cache a failed load', async () => {
    const cache = new ResponseCache(new MemoryCacheStore());
    await expect(cache.getOrLoad('v', 'k', 1000, async () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect((await cache.getOrLoad('v', 'k', 1000, async () => 'ok')).hit).toBe(false);
  });
});
