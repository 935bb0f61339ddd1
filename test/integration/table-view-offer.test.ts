// A table service over a source that declines part of the work (Source.offer) answers exactly as
// when the source takes it all: the declined conjuncts and order run in process within the row
// budget. The store is a real PostgreSQL; only its answer to offer() is narrowed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, type OrderTerm, type Predicate } from '../../src/query/predicate.js';
import { PostgresSource } from '../../src/sources/postgres/source.js';
import type { ScanAcceptance, ScanOffer, TableInfo } from '../../src/sources/source.js';
import { TableViewEngine } from '../../src/engine/table-view.js';
import type { EngineQuery } from '../../src/engine/view.js';
import { createPgDatabase, pgExec } from '../support/stores.js';

/** PostgreSQL that declines LIKE and every order, as a store without those would. */
class DecliningSource extends PostgresSource {
  override offer(_table: TableInfo, work: ScanOffer): ScanAcceptance {
    const declined = (p: Predicate): boolean => p.op === 'like' || (p.op === 'not' && declined(p.arg));
    return { taken: work.where.filter((p) => !declined(p)), remaining: work.where.filter(declined), orderBy: false };
  }
}

let db: Awaited<ReturnType<typeof createPgDatabase>>;
let full: PostgresSource;
let declining: DecliningSource;
let info: TableInfo;

beforeAll(async () => {
  db = await createPgDatabase('tvoffer');
  await pgExec(
    db.url,
    `CREATE TABLE items (id int PRIMARY KEY, name text, score int);
     INSERT INTO items SELECT g, (ARRAY['alpha','Beta','gamma','éclair',NULL])[1 + g % 5] || CASE WHEN g % 3 = 0 THEN '' ELSE g::text END, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 11 END FROM generate_series(1, 60) g;`,
  );
  full = new PostgresSource({ name: 'app', url: db.url });
  declining = new DecliningSource({ name: 'app', url: db.url });
  info = await full.introspect('items');
});

afterAll(async () => {
  await Promise.all([full?.close(), declining?.close()]);
  await db?.drop();
});

const like = (pattern: string): Predicate => ({ op: 'like', column: 'name', pattern });
const orders: OrderTerm[][] = [
  [{ column: 'id', desc: false }],
  [
    { column: 'name', desc: true },
    { column: 'id', desc: false },
  ],
  [
    { column: 'score', desc: false },
    { column: 'id', desc: true },
  ],
];
const filters: (Predicate | undefined)[] = [
  undefined,
  like('%a%'),
  and(like('a%'), { op: 'cmp', column: 'score', cmp: '>', value: 3n }),
  { op: 'or', args: [like('%2'), { op: 'isnull', column: 'score' }] },
  { op: 'not', arg: like('%e%') },
];

describe('a table view over a source that declines work', () => {
  for (const [fi, where] of filters.entries()) {
    for (const [oi, orderBy] of orders.entries()) {
      it(`filter ${fi}, order ${oi}: same page, count and next-page flag as the source taking it all`, async () => {
        for (const [offset, limit] of [
          [0, 7],
          [5, 10],
          [50, 20],
        ] as const) {
          const q: EngineQuery = { columns: ['id', 'name'], ...(where ? { where } : {}), orderBy, limit, offset, count: true };
          const expected = await new TableViewEngine(full, info, 1000).execute(q);
          const got = await new TableViewEngine(declining, info, 1000).execute(q);
          expect(got.rows).toEqual(expected.rows);
          expect(got.count).toBe(expected.count);
          expect(got.hasMore).toBe(expected.hasMore);
        }
      });
    }
  }

  it('refuses with the row budget when the declined work would need more rows than it allows', async () => {
    const q: EngineQuery = {
      columns: ['id'],
      where: like('%a%'),
      orderBy: [{ column: 'id', desc: false }],
      limit: 5,
      offset: 0,
      count: false,
    };
    await expect(new TableViewEngine(declining, info, 10).execute(q)).rejects.toMatchObject({ kind: 'row_budget_exceeded' });
    // The source taking it all needs no budget: one query returns the page.
    expect((await new TableViewEngine(full, info, 10).execute(q)).rows).toHaveLength(5);
  });

  it('explain says what runs in process', async () => {
    const q: EngineQuery = {
      columns: ['id'],
      where: like('%a%'),
      orderBy: [{ column: 'id', desc: false }],
      limit: 5,
      offset: 0,
      count: false,
    };
    const plan = (await new TableViewEngine(declining, info, 1000).explain(q)).plan as { scan: { pushed: string[] }; inProcess?: string[] };
    expect(plan.scan.pushed).toEqual(['columns']);
    expect(plan.inProcess).toEqual(['1 filter condition(s)', 'the order']);
  });
});

describe('a kept plan compiles its statement once', () => {
  const query = (): EngineQuery => ({
    columns: ['id', 'name'],
    where: { op: 'cmp', column: 'score', cmp: '>', value: 3n },
    orderBy: [{ column: 'id', desc: false }],
    limit: 4,
    offset: 2,
    count: false,
  });

  it('a frozen query (a plan the gateway keeps): the same statement while the table is the same, and the same rows', async () => {
    const source = new PostgresSource({ name: 'app', url: db.url });
    try {
      const engine = new TableViewEngine(source, await source.introspect('items'), 1000);
      const frozen = Object.freeze(query());
      const first = await engine.execute(frozen);
      const again = await engine.execute(frozen);
      expect(again.queries[0]).toBe(first.queries[0]);
      expect(Object.isFrozen(first.queries[0]!.params)).toBe(true);
      expect(again.rows).toEqual(first.rows);
      expect(first.rows).toEqual((await engine.execute(query())).rows);
      // A query that is not frozen may change: compiled every time.
      const loose = query();
      expect((await engine.execute(loose)).queries[0]).not.toBe((await engine.execute(loose)).queries[0]);
      // The catalog read again (a reload, a changed table): compiled again, for the table as it is now.
      source.refreshCatalog();
      const after = await engine.execute(frozen);
      expect(after.queries[0]).not.toBe(first.queries[0]);
      expect(after.queries[0]).toEqual(first.queries[0]);
      expect(after.rows).toEqual(first.rows);
    } finally {
      await source.close();
    }
  });
});
