// SQLite as a store, end to end on a running server: a table service over a SQLite file and
// embedded views over it, alone and joined with MariaDB and PostgreSQL, queried through REST and
// through MCP (the real MCP client over Streamable HTTP). Every answer is compared with the rows
// PostgreSQL computes for the same query on the oracle database of test/oracle/env.ts, which holds
// a copy of what each store holds (the `reference` fixture). And `viewgate check` on a config
// whose SQLite file does not exist names the file and says what to do.
process.env.TZ = 'Europe/Berlin'; // DST-observing process zone: no value may depend on it

import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import Database from 'better-sqlite3';
import { createOracleEnv, ORACLE_KEY, oracleConfig, SERVICE, type OracleEnv, type OracleType } from '../oracle/env.js';
import { fixture } from '../oracle/fixtures.js';
import { oracleCountSql, oracleQuerySql, type GenQuery } from '../oracle/generate.js';
import { compareRows, show } from '../oracle/harness.js';
import { VIEWS } from '../oracle/views.js';
import { parseLossless, toValueModel, type Num } from '../support/lossless-json.js';
import { startServer, type RunningServer } from '../support/reference.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;

/** The table service over the SQLite file: its tables and their primary keys. */
const TABLE_SERVICE = 'lite';
const TABLES: Record<string, string[]> = { countries: ['code'], tenant_countries: ['tenant_id'], statuses: ['status'] };
/** Embedded views of test/oracle/views.ts: SQLite alone, and SQLite joined with MariaDB and PostgreSQL. */
const FED_VIEWS = VIEWS.filter((v) => ['lite_countries', 'order_statuses', 'country_customers'].includes(v.name));

interface Target {
  /** service.view, as MCP names it. */
  id: string;
  /** The view's SQL on the oracle database. */
  sql: string;
  key: string[];
}

function target(id: string): Target {
  const [service, name] = id.split('.') as [string, string];
  if (service === TABLE_SERVICE) return { id, sql: `SELECT * FROM lite.${name}`, key: TABLES[name]! };
  const def = FED_VIEWS.find((v) => v.name === name)!;
  return { id, sql: def.sql, key: def.key };
}

interface Case {
  view: string;
  fields?: string[];
  /** The client filter, and the same condition as PostgreSQL over the view's columns. */
  filter?: string;
  sql?: string;
  /** `col [desc], ...`; the server appends the key. */
  order?: string;
  limit?: number;
  offset?: number;
  count?: boolean;
}

// prettier-ignore
const CASES: Case[] = [
  // SQLite alone, the table service: LIKE by case, NULLs in order, 0/1 booleans, UTC timestamps, NUMERIC, paging
  { view: 'lite.countries', filter: "name like '%land%'", sql: "name LIKE '%land%'", order: 'name' },
  { view: 'lite.countries', filter: "code like 'c%'", sql: "code LIKE 'c%'" },
  { view: 'lite.countries', filter: "name contains 'ö' or name starts with 'Č'", sql: "strpos(name, U&'\\00F6') > 0 OR starts_with(name, U&'\\010C')" },
  { view: 'lite.countries', filter: 'eu = true and population > 10000000', sql: 'eu AND population > 10000000', order: 'population desc' },
  { view: 'lite.countries', fields: ['code', 'updated_at'], filter: "updated_at >= '2024-01-01T01:00:00+01:00'", sql: "updated_at >= timestamptz '2024-01-01 00:00:00+00'", order: 'updated_at desc' },
  { view: 'lite.countries', filter: "updated_at = '2024-10-27T00:30:00.25Z'", sql: "updated_at = timestamptz '2024-10-27 00:30:00.25+00'" },
  { view: 'lite.countries', filter: 'vat_rate between 19 and 21', sql: 'vat_rate BETWEEN 19 AND 21', order: 'vat_rate desc' },
  { view: 'lite.countries', filter: 'eu_since is null', sql: 'eu_since IS NULL', order: 'area_km2' },
  { view: 'lite.countries', order: 'capital', limit: 3, offset: 2, count: true },
  { view: 'lite.countries', order: 'eu_since desc', limit: 4, count: true },
  { view: 'lite.statuses', filter: "status in ('paid', 'PAID')", sql: "status IN ('paid', 'PAID')" },
  { view: 'lite.statuses', filter: "label contains 'ü' or is_final is null", sql: "strpos(label, U&'\\00FC') > 0 OR is_final IS NULL", order: 'rank desc' },
  { view: 'lite.tenant_countries', filter: "tenant_id = 'T1' or country_code is null", sql: "tenant_id = 'T1' OR country_code IS NULL" },
  // an embedded view over SQLite alone
  { view: 'fed.lite_countries', filter: "capital like '%n' and not (eu = false)", sql: "capital LIKE '%n' AND NOT (eu = false)", order: 'capital desc' },
  // SQLite joined with MariaDB and PostgreSQL
  { view: 'fed.order_statuses', filter: "status_label like 'Bez%'", sql: "status_label LIKE 'Bez%'", order: 'total_amount desc' },
  { view: 'fed.order_statuses', filter: 'eu = true', sql: 'eu', order: 'country_name, order_id desc', limit: 5, count: true },
  { view: 'fed.order_statuses', filter: "tenant_id = 't3' and is_final = true", sql: "tenant_id = 't3' AND is_final" },
  { view: 'fed.order_statuses', fields: ['order_id', 'full_name', 'country_name', 'country_updated'], order: 'country_updated desc', limit: 4, offset: 3 },
  { view: 'fed.country_customers', filter: 'customer_id is null', sql: 'customer_id IS NULL', order: 'code' },
  { view: 'fed.country_customers', filter: "country_name like '%sko' or tenant_id = 'T1'", sql: "country_name LIKE '%sko' OR tenant_id = 'T1'", order: 'full_name desc' },
];

let env: OracleEnv;
let srv: RunningServer;
let mcp: Client;

beforeAll(async () => {
  env = await createOracleEnv(fixture('reference'), FED_VIEWS);
  const config = oracleConfig(env.urls, FED_VIEWS, {
    services: {
      [SERVICE]: {
        engine: 'embedded',
        views: Object.fromEntries(FED_VIEWS.map((v) => [v.name, { key: v.key, sql: v.sql, description: v.description }])),
      },
      [TABLE_SERVICE]: { description: 'Reference data (SQLite).', source: 'lite', tables: Object.keys(TABLES) },
    },
  });
  srv = await startServer(config);
  mcp = new Client({ name: 'viewgate-sqlite-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': ORACLE_KEY } } }),
  );
}, 120_000);

afterAll(async () => {
  await mcp?.close();
  await srv?.close();
  await env?.close();
});

interface Expected {
  columns: string[];
  types: Map<string, OracleType>;
  rows: Record<string, unknown>[];
  total: number;
}

/** PostgreSQL's answer to a case: its rows (ordered by `order`, then the key) and the number that match. */
async function expected(c: Case): Promise<Expected> {
  const t = target(c.view);
  const all = await env.oracle(`SELECT * FROM (${t.sql}) v LIMIT 0`);
  const order = (c.order ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => ({ column: s.split(/\s+/)[0]!, desc: /\sdesc$/i.test(s) }));
  for (const k of t.key) if (!order.some((o) => o.column === k)) order.push({ column: k, desc: false });
  const q: GenQuery = {
    id: 0,
    columns: c.fields ?? all.columns,
    ...(c.sql ? { sql: c.sql } : {}),
    order,
    limit: c.limit ?? 1000,
    offset: c.offset ?? 0,
    count: c.count ?? false,
  };
  const o = oracleQuerySql(t.sql, q, all.types);
  const n = oracleCountSql(t.sql, c.sql ? { sql: c.sql } : undefined, all.types);
  return {
    columns: q.columns,
    types: new Map(Object.entries(all.types)),
    rows: (await env.oracle(o.sql, o.params)).rows,
    total: Number((await env.oracle(n.sql, n.params)).rows[0]!.n),
  };
}

function describeCase(c: Case): string {
  return `${c.view} ${show({ fields: c.fields, filter: c.filter, order: c.order, limit: c.limit, offset: c.offset })}`;
}

/** An MCP row -> the value model: integers beyond 2^53 come as strings of digits. */
function mcpValueModel(row: Record<string, unknown>, types: Map<string, OracleType>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, v !== null && types.get(k) === 'int' ? BigInt(v as number | string) : v]),
  );
}

describe('SQLite through REST', () => {
  it.each(CASES.map((c) => [describeCase(c), c] as const))('%s', async (_d, c) => {
    const want = await expected(c);
    const [service, name] = c.view.split('.') as [string, string];
    const params = new URLSearchParams();
    if (c.fields) params.set('fields', c.fields.join(','));
    if (c.filter) params.set('filter', c.filter);
    if (c.order) params.set('order', c.order);
    if (c.limit !== undefined) params.set('limit', String(c.limit));
    if (c.offset !== undefined) params.set('offset', String(c.offset));
    if (c.count) params.set('include_count', 'true');
    const res = await fetch(`${srv.url}/api/v2/${service}/_table/${name}?${params}`, { headers: { 'X-API-Key': ORACLE_KEY } });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = parseLossless(text) as { resource: Record<string, unknown>[]; meta: { count?: Num; next?: Num } };
    const rows = body.resource.map((r) => toValueModel(r, want.types));
    expect(compareRows(rows, want.rows, want.columns, true)).toBe('');
    expect(rows.every((r) => Object.keys(r).length === want.columns.length)).toBe(true);
    const end = (c.offset ?? 0) + (c.limit ?? 1000);
    expect(body.meta.next ? Number(body.meta.next.num) : undefined).toBe(want.total > end ? end : undefined);
    expect(body.meta.count ? Number(body.meta.count.num) : undefined).toBe(c.count ? want.total : undefined);
    expect(want.total, 'a case should select rows').toBeGreaterThan(0);
  });

  it('a SQLite table is read-only: a write is 405', async () => {
    const res = await fetch(`${srv.url}/api/v2/${TABLE_SERVICE}/_table/countries`, {
      method: 'POST',
      headers: { 'X-API-Key': ORACLE_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ resource: [{ code: 'NO', name: 'Norge' }] }),
    });
    expect(res.status).toBe(405);
  });
});

describe('SQLite through MCP (Streamable HTTP)', () => {
  it('lists the SQLite tables and views, and describes a table with the types its declared types map to', async () => {
    const listed = await mcp.callTool({ name: 'list_views', arguments: {} });
    const names = (listed.structuredContent as { views: { name: string }[] }).views.map((v) => v.name);
    for (const t of Object.keys(TABLES)) expect(names).toContain(`${TABLE_SERVICE}.${t}`);
    for (const v of FED_VIEWS) expect(names).toContain(`${SERVICE}.${v.name}`);
    const d = await mcp.callTool({ name: 'describe_view', arguments: { view: `${TABLE_SERVICE}.countries` } });
    expect(d.isError, JSON.stringify(d.content)).toBeFalsy();
    const schema = d.structuredContent as { key: string[]; columns: { name: string; type: string }[] };
    expect(schema.key).toEqual(['code']);
    const all = await env.oracle('SELECT * FROM lite.countries LIMIT 0');
    expect(Object.fromEntries(schema.columns.map((col) => [col.name, col.type]))).toEqual(all.types);
  });

  it.each(CASES.map((c) => [describeCase(c), c] as const))('%s', async (_d, c) => {
    const want = await expected(c);
    const args: Record<string, unknown> = { view: c.view };
    if (c.fields) args.fields = c.fields;
    if (c.filter) args.filter = c.filter;
    if (c.order) args.order = c.order;
    if (c.limit !== undefined) args.limit = c.limit;
    if (c.offset !== undefined) args.offset = c.offset;
    const r = await mcp.callTool({ name: 'query_view', arguments: args });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    const out = r.structuredContent as {
      rows: Record<string, unknown>[];
      returned: number;
      truncated: boolean;
      next_offset: number | null;
    };
    const rows = out.rows.map((row) => mcpValueModel(row, want.types));
    expect(compareRows(rows, want.rows, want.columns, true)).toBe('');
    expect(out.returned).toBe(want.rows.length);
    const end = (c.offset ?? 0) + (c.limit ?? 1000);
    expect(out.truncated).toBe(want.total > end);
    expect(out.next_offset).toBe(want.total > end ? end : null);
  });
});

describe('viewgate check with a SQLite source', () => {
  const config = (path: string): string =>
    [
      'sources:',
      `  ref: { kind: sqlite, path: ${JSON.stringify(path)} }`,
      'services:',
      '  ref:',
      '    source: ref',
      '    tables: [countries]',
      'roles:',
      '  r: { grants: {} }',
      '',
    ].join('\n');

  async function check(dir: string, file: string): Promise<{ code: number; stdout: string }> {
    return run(process.execPath, [BIN, 'check', '--config', file], { cwd: dir, timeout: 60_000 }).then(
      (x) => ({ code: 0, stdout: x.stdout }),
      (err: { code: number; stdout: string }) => ({ code: err.code, stdout: String(err.stdout) }),
    );
  }

  it('reads a relative path against the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-check-sqlite-'));
    const db = new Database(join(dir, 'reference.db'));
    db.exec("CREATE TABLE countries (code TEXT NOT NULL PRIMARY KEY, name TEXT); INSERT INTO countries VALUES ('AT', 'Österreich')");
    db.close();
    writeFileSync(join(dir, 'viewgate.yaml'), config('./reference.db'));
    const r = await check(dir, 'viewgate.yaml');
    expect(r.stdout).toMatch(/^source +ok +ref\b/m);
    expect(r.stdout).toMatch(/^view +ok +ref\.countries\b/m);
    expect(r.code, r.stdout).toBe(0);
  });

  it('names a SQLite file that does not exist and says what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-check-sqlite-'));
    writeFileSync(join(dir, 'viewgate.yaml'), config('./missing.db'));
    const r = await check(dir, 'viewgate.yaml');
    expect(r.code, r.stdout).toBe(1);
    const line = r.stdout.split('\n').find((l) => /^source +FAIL +ref\b/.test(l));
    expect(line, r.stdout).toBeDefined();
    expect(line).toContain(join(dir, 'missing.db'));
    expect(line).toMatch(/ -> .*`path`/);
    expect(r.stdout).toMatch(/^view +FAIL +ref\.countries\b/m);
  });
});
