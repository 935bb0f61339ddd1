// Reading the stores' plans for the cost guard (docs/security.md, "Cost guards"): which scans of a
// PostgreSQL or MySQL plan read a table whole, and how several grants' guards combine.
import { describe, expect, it } from 'vitest';
import { strictestGuard } from '../../src/gateway/cost-guard.js';
import { foreignScanNodes, pageReads, servedByIndex, wholeReads, type PgPlanNode } from '../../src/sources/postgres/full-scans.js';
import { wholeReads as mysqlWholeReads } from '../../src/sources/mysql/full-scans.js';

const seq = (filter?: string): PgPlanNode => ({
  'Node Type': 'Seq Scan',
  'Relation Name': 'orders',
  Schema: 'app',
  ...(filter ? { Filter: filter } : {}),
});

describe('PostgreSQL plans', () => {
  it('a Seq Scan reads its table whole, with the filter it tests', () => {
    expect(wholeReads(seq('(orders.region = $1)'))).toEqual([{ schema: 'app', table: 'orders', condition: '(orders.region = $1)' }]);
    expect(wholeReads(seq())).toEqual([{ schema: 'app', table: 'orders', condition: '' }]);
  });

  it('below a LIMIT an unfiltered scan stops after the page; a filtered one, or one below a sort, does not', () => {
    expect(wholeReads({ 'Node Type': 'Limit', Plans: [seq()] })).toEqual([]);
    expect(wholeReads({ 'Node Type': 'Limit', Plans: [seq('(orders.region = $1)')] })).toHaveLength(1);
    expect(wholeReads({ 'Node Type': 'Limit', Plans: [{ 'Node Type': 'Sort', Plans: [seq()] }] })).toHaveLength(1);
  });

  it('an index scan without an index condition walks the whole index; with one it does not', () => {
    const walk: PgPlanNode = { 'Node Type': 'Index Scan', 'Relation Name': 'orders', Schema: 'app', Filter: '(orders.region = $1)' };
    expect(wholeReads({ 'Node Type': 'Limit', Plans: [walk] })).toHaveLength(1);
    expect(wholeReads({ ...walk, 'Index Cond': '(orders.customer_id = $2)' })).toEqual([]);
    expect(wholeReads({ 'Node Type': 'Limit', Plans: [{ ...walk, Filter: undefined }] })).toEqual([]);
  });

  it('a filter with a conjunct comparing a column that leads an index is served by it; an OR or <> is not', () => {
    const indexed = ['customer_id'];
    expect(servedByIndex('((orders.customer_id = $1) AND (orders.region = $2))', indexed)).toBe(true);
    expect(servedByIndex('((orders.customer_id)::text = $1)', indexed)).toBe(true);
    expect(servedByIndex('(orders.customer_id = ANY ($1))', indexed)).toBe(true);
    expect(servedByIndex('((orders.region = $1) OR (orders.customer_id = $2))', indexed)).toBe(false);
    expect(servedByIndex('(orders.customer_id <> $1)', indexed)).toBe(false);
    expect(servedByIndex('(orders.region = $1)', indexed)).toBe(false);
  });

  it('an unfiltered scan below a LIMIT is a page read: it reads as many rows as the query asks', () => {
    expect(pageReads({ 'Node Type': 'Limit', Plans: [seq()] })).toEqual([{ schema: 'app', table: 'orders', condition: '' }]);
    expect(pageReads({ 'Node Type': 'Limit', Plans: [seq('(orders.region = $1)')] })).toEqual([]);
    expect(pageReads({ 'Node Type': 'Limit', Plans: [{ 'Node Type': 'Sort', Plans: [seq()] }] })).toEqual([]);
    expect(pageReads(seq())).toEqual([]);
  });

  it('a Foreign Scan names its foreign table (the first of a join the wrapper runs) and what the wrapper sends', () => {
    const remote = 'SELECT id FROM public.orders WHERE ((region = $1::text))';
    const base: PgPlanNode = { 'Node Type': 'Foreign Scan', 'Relation Name': 'orders', Schema: 'app_map', 'Remote SQL': remote };
    const join: PgPlanNode = { 'Node Type': 'Foreign Scan', Relations: '("My Map".orders o) INNER JOIN (app_map.items i)' };
    expect(foreignScanNodes({ 'Node Type': 'Hash Join', Plans: [base, seq()] })).toEqual([{ schema: 'app_map', table: 'orders', remote }]);
    expect(foreignScanNodes({ 'Node Type': 'Limit', Plans: [join] })).toEqual([{ schema: 'My Map', table: 'orders' }]);
    expect(foreignScanNodes(seq())).toEqual([]);
  });
});

describe('MySQL plans', () => {
  const table = (t: Record<string, unknown>) => ({ query_block: { nested_loop: [{ table: { table_name: 'orders', ...t } }] } });

  it('type ALL, or a whole index walked with a condition, and no index fits the shape', () => {
    expect(mysqlWholeReads(table({ access_type: 'ALL', attached_condition: "orders.region = 'r1'" }))).toEqual([
      { table: 'orders', condition: "orders.region = 'r1'" },
    ]);
    expect(mysqlWholeReads(table({ access_type: 'index', attached_condition: "orders.region = 'r1'" }))).toHaveLength(1);
    expect(mysqlWholeReads(table({ access_type: 'index' }))).toEqual([]);
    expect(mysqlWholeReads(table({ access_type: 'ALL', possible_keys: ['customer_id'] }))).toEqual([]);
    expect(mysqlWholeReads(table({ access_type: 'ref', possible_keys: ['customer_id'] }))).toEqual([]);
  });
});

describe('several grants', () => {
  it('the strictest of each guard applies; none without any', () => {
    expect(strictestGuard([{ maxScanRows: 100 }, { maxScanRows: 50, timeoutMs: 2000 }, undefined])).toEqual({
      maxScanRows: 50,
      timeoutMs: 2000,
    });
    expect(strictestGuard([undefined, undefined])).toBeUndefined();
  });
});
