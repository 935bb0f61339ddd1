// Planning decisions, without stores: where each conjunct goes, what is inferred across join keys
// (and what is not), which LEFT JOINs become INNER, where ORDER BY + LIMIT go, which side drives.
import { describe, expect, test } from 'vitest';
import type { EmbeddedEngine } from '../../src/engine/embedded/index.js';
import type { Plan } from '../../src/engine/embedded/plan.js';
import { formatExpr, formatPredicate, renderPlan } from '../../src/engine/embedded/explain.js';
import type { EngineQuery, View } from '../../src/engine/view.js';
import type { OrderTerm, Predicate } from '../../src/query/predicate.js';
import { buildView, REFERENCE_SQL } from './embedded-support.js';

function plan(v: View, over: Partial<EngineQuery> = {}): Plan {
  const orderBy = [...(over.orderBy ?? [])];
  for (const k of v.key) if (!orderBy.some((o) => o.column === k)) orderBy.push({ column: k, desc: false });
  return (v.engine as EmbeddedEngine).plan({ columns: v.columns.map((c) => c.name), limit: 10, offset: 0, count: false, ...over, orderBy });
}

/** Pushed predicates per alias, as text. */
function pushed(p: Plan): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const u of p.units)
    for (const s of u.scans) out[p.view.relations[s.rel]!.alias] = s.pushed.map((x) => `${formatPredicate(x.predicate)} [${x.origin}]`);
  return out;
}

const eq = (column: string, value: Predicate extends never ? never : bigint | string): Predicate => ({
  op: 'cmp',
  column,
  cmp: '=',
  value,
});

describe('the reference view', () => {
  test('customer_id = 7 is pushed into customers and inferred into orders and, through ::text, events', async () => {
    const v = await buildView(REFERENCE_SQL);
    const p = plan(v, { where: eq('customer_id', 7n) });
    expect(pushed(p)).toEqual({
      c: ['customer_id = 7 [filter]'],
      o: ['customer_id = 7 [inferred]'],
      e: ["user_id = '7' [inferred]"],
    });
    // Every side has a selective predicate: three independent fetches, no bind join.
    expect(p.units.map((u) => u.bind)).toEqual([undefined, undefined, undefined]);
    expect(p.joins.map((j) => j.join.kind)).toEqual(['left', 'left']);
  });

  test('a tenant filter drives from customers; orders and events are bind-joined to its keys', async () => {
    const v = await buildView(REFERENCE_SQL);
    const p = plan(v, { where: eq('tenant_id', 't2'), limit: 5, offset: 10 });
    expect(pushed(p).c).toEqual(["tenant_id = 't2' [filter]"]);
    expect(p.units[0]!.orderBy).toEqual([{ rel: 0, column: 'customer_id', desc: false }]);
    expect(p.units[0]!.limit).toBe(16); // offset + limit + 1: OFFSET is never pushed past a join
    expect(p.units[0]!.offset).toBeUndefined();
    expect(p.units[1]!.bind).toMatchObject({ fromUnit: 0, targetColumn: 'customer_id' });
    expect(p.units[2]!.bind).toMatchObject({ fromUnit: 0, targetColumn: 'user_id' });
  });

  test('the LIMIT is not pushed when the order does not start with the driving table key, or when counting', async () => {
    const v = await buildView(REFERENCE_SQL);
    expect(plan(v, { orderBy: [{ column: 'total_amount', desc: true }] }).units[0]!.limit).toBeUndefined();
    // tenant_id, then the key's customer_id: a total order on customers, so the LIMIT goes there.
    expect(plan(v, { orderBy: [{ column: 'tenant_id', desc: false }] }).units[0]!.orderBy).toEqual([
      { rel: 0, column: 'tenant_id', desc: false },
      { rel: 0, column: 'customer_id', desc: false },
    ]);
    expect(plan(v, { count: true }).units[0]!.limit).toBeUndefined();
  });

  test('a NULL-rejecting filter on the padded side makes the LEFT JOIN INNER, and then infers back', async () => {
    const v = await buildView(REFERENCE_SQL);
    const p = plan(v, { where: eq('event_id', '65a1b2c3d4e5f6a7b8c90000') });
    expect(p.joins.map((j) => [j.join.kind, j.join.fromLeft])).toEqual([
      ['left', false],
      ['inner', true],
    ]);
    expect(pushed(p).e).toEqual(["_id = '65a1b2c3d4e5f6a7b8c90000' [filter]"]);
    // The inner join lets the event's user_id reach customers... only as a text -> int preimage.
    const q = plan(v, { where: { op: 'in', column: 'event_type', values: ['view'] } });
    expect(q.joins[1]!.join.kind).toBe('inner');
    const r = plan(v, { where: { op: 'and', args: [eq('event_type', 'view'), eq('customer_id', 3n)] } });
    expect(pushed(r).e).toContain("user_id = '3' [inferred]");
  });

  test('a filter that keeps NULL-padded rows stays after the join, and nothing is inferred out of the padded side', async () => {
    const v = await buildView(REFERENCE_SQL);
    const p = plan(v, { where: { op: 'or', args: [{ op: 'isnull', column: 'order_id' }, eq('order_id', 1001n)] } });
    expect(p.joins.map((j) => j.join.kind)).toEqual(['left', 'left']);
    expect(p.residual).toHaveLength(1);
    expect(pushed(p)).toEqual({ c: [], o: [], e: [] });
    const q = plan(v, { where: { op: 'isnull', column: 'event_type' } });
    expect(q.joins[1]!.join.kind).toBe('left');
    expect(pushed(q).c).toEqual([]);
  });

  test('pushdown off: nothing pushed, nothing inferred, no bind join, no limit', async () => {
    const v = await buildView(REFERENCE_SQL, { pushdown: false });
    const p = plan(v, { where: eq('customer_id', 7n) });
    expect(pushed(p)).toEqual({ c: [], o: [], e: [] });
    expect(p.units.every((u) => !u.bind && u.limit === undefined && u.orderBy === undefined)).toBe(true);
    expect(p.units[0]!.scans[0]!.local).toHaveLength(1);
  });

  test('the plan text names every decision', async () => {
    const v = await buildView(REFERENCE_SQL);
    const text = renderPlan(plan(v, { where: eq('tenant_id', 't1') }));
    expect(text).toContain('HashJoin LEFT JOIN e ON e.user_id = c.customer_id::text');
    expect(text).toContain('BindFetch analytics (mongodb): analytics.events e');
    expect(text).toContain('keys: e.user_id IN (distinct c.customer_id::text of fetch #0), batches of 500, 4 at a time');
  });
});

describe('casts', () => {
  const CAST_SQL = `SELECT c.customer_id::text AS cid, c.customer_id::numeric AS cnum, o.order_id, o.total_amount::int AS whole
    FROM crm.customers c LEFT JOIN app.orders o ON o.customer_id = c.customer_id`;

  test('a filter on a lossless cast maps back onto the column (int -> text only for equality)', async () => {
    const v = await buildView(CAST_SQL, { key: ['cid', 'order_id'] });
    expect(pushed(plan(v, { where: eq('cid', '12') })).c).toEqual(['customer_id = 12 [filter]']);
    expect(pushed(plan(v, { where: eq('cid', '12') })).o).toEqual(['customer_id = 12 [inferred]']);
    // '012' is no integer's text: no row can match.
    expect(pushed(plan(v, { where: eq('cid', '012') })).c).toEqual(['(customer_id IS NULL AND NULL) [filter]']);
    // A range on the text is not a range on the integer.
    const range = plan(v, { where: { op: 'cmp', column: 'cid', cmp: '>', value: '5' } });
    expect(pushed(range).c).toEqual([]);
    expect(range.units[0]!.scans[0]!.local).toHaveLength(1);
    // int -> numeric keeps the order: ranges map, rounding the bound.
    expect(pushed(plan(v, { where: { op: 'cmp', column: 'cnum', cmp: '>', value: '7.5' } })).c).toEqual(['customer_id > 7 [filter]']);
    expect(pushed(plan(v, { where: { op: 'cmp', column: 'cnum', cmp: '>=', value: '7.5' } })).c).toEqual(['customer_id >= 8 [filter]']);
  });

  test('never through a lossy cast', async () => {
    const v = await buildView(CAST_SQL, { key: ['cid', 'order_id'] });
    const p = plan(v, { where: eq('whole', 100n) });
    expect(pushed(p).o).toEqual([]);
    expect(p.joins[0]!.join.kind).toBe('inner'); // but the filter still rejects NULLs
    const lossyJoin = await buildView(
      'SELECT c.customer_id, o.order_id FROM crm.customers c LEFT JOIN app.orders o ON o.total_amount::int = c.customer_id',
    );
    const q = plan(lossyJoin, { where: eq('customer_id', 7n) });
    expect(pushed(q).o).toEqual([]);
    expect(q.units[1]!.bind).toBeUndefined(); // numeric -> int is not invertible: no bind join into it either
  });
});

describe('other shapes', () => {
  test('one relation: filter, ORDER BY, LIMIT and OFFSET all go to the store; count too', async () => {
    const v = await buildView("SELECT o.order_id, o.status, o.total_amount FROM app.orders o WHERE o.status <> 'void'");
    const p = plan(v, {
      where: eq('status', 'paid'),
      orderBy: [{ column: 'total_amount', desc: true }],
      limit: 20,
      offset: 40,
      count: true,
    });
    expect(pushed(p).o).toEqual(["status <> 'void' [view]", "status = 'paid' [filter]"]);
    expect(p.units[0]).toMatchObject({ limit: 21, offset: 40 });
    expect(p.offsetPushed).toBe(true);
    expect(p.countInStore).toBe(true);
  });

  test('a GROUP BY view: group-key filters go below the aggregation, aggregate filters stay above', async () => {
    const v = await buildView('SELECT o.status, count(*) AS n, sum(o.total_amount) AS total FROM app.orders o GROUP BY o.status');
    const p = plan(v, { where: { op: 'and', args: [eq('status', 'paid'), { op: 'cmp', column: 'n', cmp: '>', value: 2n }] } });
    expect(pushed(p).o).toEqual(["status = 'paid' [filter]"]);
    expect(p.postFilter).toEqual({ op: 'cmp', column: 'n', cmp: '>', value: 2n });
    expect(p.units[0]!.limit).toBeUndefined();
    // A whole-table aggregate returns its one row whatever the input: nothing goes below it.
    const w = await buildView('SELECT count(*) AS n FROM app.orders o');
    expect(plan(w, { where: { op: 'cmp', column: 'n', cmp: '>', value: 0n } }).postFilter).toBeDefined();
  });

  test('a view LIMIT keeps client filters above it', async () => {
    const v = await buildView('SELECT o.order_id, o.status FROM app.orders o ORDER BY o.total_amount DESC LIMIT 5');
    const p = plan(v, { where: eq('status', 'paid') });
    expect(pushed(p).o).toEqual([]);
    expect(p.postFilter).toBeDefined();
  });

  test('tables of one SQL source joined on plain columns become one fetch', async () => {
    const v = await buildView(`SELECT c.customer_id, o.order_id, i.line_no, i.sku FROM crm.customers c
      JOIN app.orders o ON o.customer_id = c.customer_id LEFT JOIN app.order_items i ON i.order_id = o.order_id`);
    const p = plan(v, { where: eq('customer_id', 3n) });
    expect(p.units.map((u) => u.members)).toEqual([[0], [1, 2]]);
    expect(pushed(p).o).toEqual(['customer_id = 3 [inferred]']);
    // An INNER join between stores: the driving side binds the other (either direction).
    expect(p.joins[0]!.join.kind).toBe('inner');
  });

  test('an INNER join is driven from whichever side is selective', async () => {
    const v = await buildView(
      'SELECT c.customer_id, o.order_id, o.status FROM crm.customers c JOIN app.orders o ON o.customer_id = c.customer_id',
    );
    const p = plan(v, { where: eq('status', 'refunded') });
    expect(p.units[1]!.bind).toBeUndefined();
    expect(p.units[0]!.bind).toMatchObject({ fromUnit: 1, targetColumn: 'customer_id' });
  });
});

describe('under a row filter (docs/security.md, "Row budget")', () => {
  const ORDERS_SQL = `SELECT o.order_id, o.customer_id, o.total_amount, c.tenant_id
FROM app.orders o JOIN crm.customers c ON c.customer_id = o.customer_id`;
  const ids: Predicate = { op: 'in', column: 'order_id', values: [1001n, 1002n] };
  const tenant = eq('tenant_id', 't1');

  test('without one, the selective ids drive; with one, the row filter drives and the ids side is bound to its keys', async () => {
    const v = await buildView(ORDERS_SQL);
    const free = plan(v, { where: { op: 'and', args: [tenant, ids] } });
    expect(free.units[0]!.bind).toBeUndefined(); // orders fetched by ids alone
    const scoped = plan(v, { where: { op: 'and', args: [tenant, ids] }, rowFilter: tenant });
    const orders = scoped.units.find((u) => u.members.includes(0))!;
    const customers = scoped.units.find((u) => u.members.includes(1))!;
    expect(customers.bind).toBeUndefined();
    expect(customers.reason).toMatch(/^driving: row filter tenant_id = 't1'/);
    expect(orders.bind).toMatchObject({ fromUnit: customers.id, targetColumn: 'customer_id' });
    expect(orders.scoped).toBe(true);
    expect(renderPlan(scoped)).toMatch(/driving: row filter/);
  });

  test('a row filter on a join key is inferred across the join, scoping both sides', async () => {
    const v = await buildView(REFERENCE_SQL);
    const p = plan(v, { where: eq('customer_id', 7n), rowFilter: eq('customer_id', 7n) });
    expect(p.units.every((u) => u.scoped && !u.bind)).toBe(true);
  });
});

describe('a store that declines part of an offer (Source.offer)', () => {
  const like = (p: Predicate): boolean => p.op === 'like';

  test('a declined conjunct is evaluated right after the fetch, and explain says why', async () => {
    const v = await buildView(REFERENCE_SQL, { declines: { crm: { where: like } } });
    const p = plan(v, { where: { op: 'and', args: [eq('customer_id', 7n), { op: 'like', column: 'tenant_id', pattern: 't%' }] } });
    expect(pushed(p).c).toEqual(['customer_id = 7 [filter]']);
    const c = p.units[0]!.scans[0]!;
    expect(c.local.map((e) => formatExpr(e, p.view))).toEqual(["c.tenant_id LIKE 't%'"]);
    expect(c.columns).toContain('tenant_id');
    expect(p.notes).toContain(`c.tenant_id LIKE 't%' is evaluated in process: source "crm" does not take it`);
    expect(renderPlan(p)).toContain('source "crm" does not take it');
    // The same conjunct on a store that takes it is pushed.
    const taken = plan(await buildView(REFERENCE_SQL), { where: { op: 'like', column: 'tenant_id', pattern: 't%' } });
    expect(pushed(taken).c).toEqual(["tenant_id LIKE 't%' [filter]"]);
    expect(taken.units[0]!.scans[0]!.local).toEqual([]);
  });

  test('a declined ORDER BY is not pushed, and neither is the LIMIT', async () => {
    const SQL = 'SELECT o.order_id, o.status, o.total_amount FROM app.orders o';
    const byStatus = (terms: readonly OrderTerm[]): boolean => terms.some((t) => t.column === 'status');
    const v = await buildView(SQL, { declines: { app: { orderBy: byStatus } } });
    const p = plan(v, { orderBy: [{ column: 'status', desc: false }], limit: 20, offset: 40 });
    expect(p.units[0]!.orderBy).toBeUndefined();
    expect(p.units[0]!.limit).toBeUndefined();
    expect(p.units[0]!.offset).toBeUndefined();
    expect(p.offsetPushed).toBe(false);
    expect(p.notes).toContain('ORDER BY is not pushed: source "app" does not sort by it exactly');
    // An order it takes still goes down with LIMIT and OFFSET.
    const q = plan(v, { orderBy: [{ column: 'total_amount', desc: true }], limit: 20, offset: 40 });
    expect(q.units[0]).toMatchObject({ limit: 21, offset: 40 });
    // Across stores: the first table's store declines the order, so no LIMIT goes there either.
    const r = plan(await buildView(REFERENCE_SQL, { declines: { crm: { orderBy: () => true } } }), {
      where: eq('tenant_id', 't2'),
      limit: 5,
    });
    expect(r.units[0]!.orderBy).toBeUndefined();
    expect(r.units[0]!.limit).toBeUndefined();
    expect(r.notes).toContain('ORDER BY is not pushed: source "crm" does not sort by it exactly');
  });

  test('a declined inferred predicate is dropped: not pushed, and not evaluated in process either', async () => {
    const cmp = (p: Predicate): boolean => p.op === 'cmp';
    const v = await buildView(REFERENCE_SQL, { declines: { app: { where: cmp } } });
    const p = plan(v, { where: eq('customer_id', 7n) });
    expect(pushed(p)).toEqual({ c: ['customer_id = 7 [filter]'], o: [], e: ["user_id = '7' [inferred]"] });
    expect(p.units[1]!.scans[0]!.local).toEqual([]);
    expect(p.residual).toEqual([]);
    // Orders is no longer selective: it is bound to the customers' keys (its store takes IN).
    expect(p.units[1]!.bind).toMatchObject({ fromUnit: 0, targetColumn: 'customer_id' });
  });

  test('no bind join onto a column whose IN the store declines: that side is fetched on its own', async () => {
    const inList = (p: Predicate): boolean => p.op === 'in';
    const v = await buildView(REFERENCE_SQL, { declines: { app: { where: inList } } });
    const p = plan(v, { where: eq('tenant_id', 't2') });
    expect(p.units[1]!.bind).toBeUndefined();
    expect(p.units[1]!.reason).toBe('fetched on its own: no fetched side can bind it');
    expect(p.units[2]!.bind).toMatchObject({ fromUnit: 0, targetColumn: 'user_id' });
    expect(renderPlan(p)).not.toContain('o.customer_id IN');
  });
});
