// Drift at run time and deprecation (docs/contracts.md), against a running `viewgate serve` (the
// built CLI, real HTTP, the MCP client) over real PostgreSQL, MariaDB and MongoDB (FerretDB): each
// store's change is seen within the check interval, only the affected view answers 503 (naming the
// view, never the column), /readyz and MCP list_views say so, and the view heals when the change
// is reverted, without a restart: columns renamed, dropped and retyped in PostgreSQL and MariaDB, a
// MongoDB collection gone. Widened columns keep serving; MongoDB documents whose field types change
// are handled row by row, never as drift. Deprecated views carry Deprecation, Sunset and Link, MCP
// list_views and describe_view mark them, and they answer 410 after their sunset.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Double } from 'mongodb';
import { mysqlExec, pgExec } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import { createContractStores, INTERNAL_KEY, PARTNER_KEY, writeContractConfig, type ContractStores } from '../support/contract-fixture.js';

const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;
const SUNSET = '2099-06-30';

let s: ContractStores;
let child: ChildProcess;
let url = '';
let logs = '';

// Tables and a collection of the per-store drift cases, apart from those the cases above change,
// and a probe table whose change and revert show that a whole recheck ran (wholeRecheck).
const DRIFT_COLLECTION = `      drift_docs:
        columns:
          _id: { type: text }
          kind: { type: text }
          n: { type: int }
          score: { type: float, onTypeMismatch: "null" }
`;
const DRIFT_SERVICES = `  pgd: { source: pg, tables: [drift_rows] }
  myd: { source: my, tables: [drift_rows] }
  mgd: { source: mg, tables: [drift_docs] }
  probe: { source: pg, tables: [drift_probe] }
`;

async function createDriftTables(): Promise<void> {
  await pgExec(
    s.pgUrl,
    `CREATE TABLE drift_rows (id int PRIMARY KEY, label text, qty int);
     INSERT INTO drift_rows VALUES (1, 'a', 3), (2, 'b', 4);
     CREATE TABLE drift_probe (id int PRIMARY KEY, v int);
     INSERT INTO drift_probe VALUES (1, 1)`,
  );
  await mysqlExec(
    s.mysqlUrl,
    `CREATE TABLE drift_rows (id int PRIMARY KEY, label varchar(50), amount decimal(10,2), n int, note varchar(20));
     INSERT INTO drift_rows VALUES (1, 'one', 10.00, 1, 'x'), (2, 'two', 20.00, 2, 'y')`,
  );
  await s.mongo
    .db(s.mongoDb)
    .collection('drift_docs')
    .insertMany([
      { _id: 'd1', kind: 'view', n: 1, score: 0.5 },
      { _id: 'd2', kind: 'buy', n: 2, score: 1.5 },
    ] as never[]);
}

beforeAll(async () => {
  s = await createContractStores('contract_drift');
  await createDriftTables();
  const config = writeContractConfig(s, 'serve.yaml', {
    checkInterval: '200ms',
    publicUrl: 'https://api.example.com',
    thingsExtra: `        deprecated: { since: "2026-11-01", sunset: "${SUNSET}", successor: pgs.items }\n`,
    moreCollections: DRIFT_COLLECTION,
    moreServices: DRIFT_SERVICES,
  });
  child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (logs += d));
  child.stderr!.on('data', (d) => (logs += d));
  url = await waitFor(() => /"address":"(http:\/\/[^"]+)"/.exec(logs)?.[1], { timeout: 30_000, what: 'viewgate to listen' });
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await s?.drop();
});

async function get(path: string, key = INTERNAL_KEY) {
  const r = await fetch(`${url}${path}`, { headers: { 'X-API-Key': key } });
  return { status: r.status, headers: r.headers, body: await r.text() };
}

const OUT = (view: string) => `view "${view}" is out of contract; operators: see viewgate check`;

async function expectServing(paths: string[]): Promise<void> {
  for (const p of paths) expect((await get(p)).status, p).toBe(200);
}

// The interval is 200ms: a change must be seen long before the default 60s would pass, with room
// for a loaded machine.
const SEEN_WITHIN = 5_000;

/** Waits until the view answers the 503 of a view out of contract; returns that body. */
async function until503(path: string, view: string): Promise<string> {
  return waitFor(
    async () => {
      const r = await get(path);
      return r.status === 503 ? r.body : undefined;
    },
    { timeout: SEEN_WITHIN, what: `${view} to go out of contract` },
  ).then((body) => {
    expect(JSON.parse(body).error.message).toBe(OUT(view));
    return body;
  });
}

async function until200(path: string, view: string): Promise<void> {
  await waitFor(async () => (await get(path)).status === 200, { what: `${view} to heal` });
}

async function rows(path: string): Promise<unknown[]> {
  const r = await get(path);
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body).resource;
}

/** One MCP tool call over the server's streamable HTTP endpoint, as the internal role. */
async function mcpCall(name: string, args: Record<string, unknown>): Promise<{ structured: unknown; text: string; isError: boolean }> {
  const client = new Client({ name: 'contract-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { 'X-API-Key': INTERNAL_KEY } } }),
  );
  try {
    const r = await client.callTool({ name, arguments: args });
    const text = (r.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');
    return { structured: r.structuredContent, text, isError: r.isError === true };
  } finally {
    await client.close();
  }
}

async function mcpViews(): Promise<{ name: string; unavailable?: boolean; deprecated?: Record<string, unknown> }[]> {
  return ((await mcpCall('list_views', {})).structured as { views: { name: string }[] }).views;
}

const ITEMS = '/api/v2/pgs/_table/items';
const THINGS = '/api/v2/mys/_table/things';
const EVENTS = '/api/v2/mgs/_table/events';
const JOINED = '/api/v2/fed/_table/joined';
const PG_ROWS = '/api/v2/pgd/_table/drift_rows';
const MY_ROWS = '/api/v2/myd/_table/drift_rows';
const DOCS = '/api/v2/mgd/_table/drift_docs';
const PROBE = '/api/v2/probe/_table/drift_probe';
/** Every view the drift cases read, by id. */
const VIEWS: Record<string, string> = {
  'pgs.items': ITEMS,
  'mys.things': THINGS,
  'mgs.events': EVENTS,
  'fed.joined': JOINED,
  'pgd.drift_rows': PG_ROWS,
  'myd.drift_rows': MY_ROWS,
  'mgd.drift_docs': DOCS,
  'probe.drift_probe': PROBE,
};

/**
 * The view goes out of contract within the interval: 503 for it alone (every other view serves),
 * `cause` in the log, and /readyz, MCP list_views and the metrics say so. Returns the 503's body.
 */
async function expectOutOfContract(view: string, cause: string): Promise<string> {
  const body = await until503(VIEWS[view]!, view);
  await waitFor(() => logs.includes(cause), { what: `${cause} in the log` });
  const others = Object.keys(VIEWS).filter((v) => v !== view);
  await expectServing(others.map((v) => VIEWS[v]!));
  const ready = await fetch(`${url}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ status: 'not ready', down: [], viewsOutOfContract: 1 });
  const listed = await mcpViews();
  expect(listed.find((v) => v.name === view)?.unavailable).toBe(true);
  for (const other of others) expect(listed.find((v) => v.name === other)?.unavailable, other).toBeUndefined();
  expect((await get('/metrics')).body).toContain(`viewgate_view_out_of_contract{view="${view}"} 1`);
  return body;
}

/** The view serves again without a restart, and nothing is out of contract any more. */
async function expectHealed(view: string): Promise<void> {
  await until200(VIEWS[view]!, view);
  expect((await fetch(`${url}/readyz`)).status).toBe(200);
  expect((await mcpViews()).find((v) => v.name === view)?.unavailable).toBeUndefined();
  // The gauges are set once the recheck has gone through every view: shortly after the view serves.
  await waitFor(async () => (await get('/metrics')).body.includes(`viewgate_view_out_of_contract{view="${view}"} 0`), {
    what: `the metric of ${view} to say it fits`,
  });
}

/**
 * Returns once a whole recheck of every view began after this call: the probe view is broken
 * until a recheck sees it, then mended until a later recheck sees that. The recheck that heals it
 * started after the one that broke it ended, so after everything done before this call.
 */
async function wholeRecheck(): Promise<void> {
  await pgExec(s.pgUrl, 'ALTER TABLE drift_probe RENAME COLUMN v TO w');
  await until503(PROBE, 'probe.drift_probe');
  await pgExec(s.pgUrl, 'ALTER TABLE drift_probe RENAME COLUMN w TO v');
  await until200(PROBE, 'probe.drift_probe');
}

describe('drift at run time', () => {
  it('a PostgreSQL column renamed: 503 for the views that read it only, /readyz, MCP and metrics say so; heals when renamed back', async () => {
    await expectServing(Object.values(VIEWS));
    await pgExec(s.pgUrl, 'ALTER TABLE items RENAME COLUMN name TO full_name');
    // The joined view reads items too, but not the renamed column: it keeps working, as do the others.
    const body = await expectOutOfContract('pgs.items', 'column \\"name\\" is gone');
    // The caller is told the view only: the column (which a role may not see) goes to the log.
    expect(body).not.toContain('name"');
    expect(body).not.toContain('full_name');

    await pgExec(s.pgUrl, 'ALTER TABLE items RENAME COLUMN full_name TO name');
    await expectHealed('pgs.items');
  });

  it('a MariaDB column changes type, then another is renamed: 503 for the views that read them; heals when changed back', async () => {
    await mysqlExec(s.mysqlUrl, 'ALTER TABLE things MODIFY amount varchar(20)');
    await until503(THINGS, 'mys.things');
    // The joined view does not read amount.
    await expectServing([ITEMS, EVENTS, JOINED]);
    await mysqlExec(s.mysqlUrl, 'ALTER TABLE things MODIFY amount decimal(10,2)');
    await until200(THINGS, 'mys.things');

    await mysqlExec(s.mysqlUrl, 'ALTER TABLE things CHANGE label title varchar(50)');
    await until503(THINGS, 'mys.things');
    await until503(JOINED, 'fed.joined');
    await expectServing([ITEMS, EVENTS]);
    await mysqlExec(s.mysqlUrl, 'ALTER TABLE things CHANGE title label varchar(50)');
    await until200(THINGS, 'mys.things');
    await until200(JOINED, 'fed.joined');
  });

  it('a compatible change (a wider type) keeps serving, also on pooled connections that prepared the read before it', async () => {
    // Concurrent reads leave the view's prepared statement on several pooled connections.
    const burst = () => Promise.all(Array.from({ length: 6 }, () => get(`${ITEMS}?order=id`)));
    for (const r of await burst()) expect(r.status, r.body).toBe(200);
    await pgExec(s.pgUrl, 'ALTER TABLE items ALTER COLUMN price TYPE numeric(16,2)');
    await wholeRecheck();
    for (const r of await burst()) {
      expect(r.status, r.body).toBe(200);
      expect(JSON.parse(r.body).resource[0].price).toBe('1.50');
    }
  });

  it('a missing MongoDB collection: 503 for its view; heals when the collection is back', async () => {
    await s.mongo.db(s.mongoDb).collection('events').drop();
    await until503(EVENTS, 'mgs.events');
    await expectServing([ITEMS, THINGS]);
    await s.mongo
      .db(s.mongoDb)
      .collection('events')
      .insertOne({ _id: 'e9', kind: 'view', ts: new Date('2026-02-01T00:00:00Z') } as never);
    await until200(EVENTS, 'mgs.events');
  });
});

describe('drift at run time, store by store', () => {
  it('PostgreSQL: a column dropped, then a column whose type leaves the value model (int -> text); each heals when reverted', async () => {
    await expectServing(Object.values(VIEWS));
    await pgExec(s.pgUrl, 'ALTER TABLE drift_rows DROP COLUMN label');
    await expectOutOfContract('pgd.drift_rows', 'pgd.drift_rows: column \\"label\\" is gone');
    await pgExec(s.pgUrl, `ALTER TABLE drift_rows ADD COLUMN label text; UPDATE drift_rows SET label = chr(96 + id)`);
    await expectHealed('pgd.drift_rows');
    expect(await rows(`${PG_ROWS}?order=id`)).toEqual([
      { id: 1, qty: 3, label: 'a' },
      { id: 2, qty: 4, label: 'b' },
    ]);

    await pgExec(s.pgUrl, 'ALTER TABLE drift_rows ALTER COLUMN qty TYPE text');
    await expectOutOfContract('pgd.drift_rows', 'pgd.drift_rows: column \\"qty\\" changed type from int to text');
    await pgExec(s.pgUrl, 'ALTER TABLE drift_rows ALTER COLUMN qty TYPE int USING qty::int');
    await expectHealed('pgd.drift_rows');
    expect(await rows(`${PG_ROWS}?order=id`)).toEqual([
      { id: 1, qty: 3, label: 'a' },
      { id: 2, qty: 4, label: 'b' },
    ]);
  });

  it('MariaDB: a column dropped goes out of contract and heals; widened columns keep serving, as the store has them now', async () => {
    await mysqlExec(s.mysqlUrl, 'ALTER TABLE drift_rows DROP COLUMN note');
    await expectOutOfContract('myd.drift_rows', 'myd.drift_rows: column \\"note\\" is gone');
    await mysqlExec(s.mysqlUrl, "ALTER TABLE drift_rows ADD COLUMN note varchar(20); UPDATE drift_rows SET note = 'z'");
    await expectHealed('myd.drift_rows');

    // A widen keeps each column's value-model type (text, numeric, int): it fits the contract, and
    // the view is rebuilt from the store as it is now, so values that need the wider type are served.
    const sum = async () => JSON.parse((await get(`${MY_ROWS}?fields=${encodeURIComponent('sum(n) as total')}`)).body).resource[0].total;
    expect(await sum()).toBe(3); // PostgreSQL's sum(int4) is an int8
    await mysqlExec(
      s.mysqlUrl,
      `ALTER TABLE drift_rows MODIFY label varchar(200), MODIFY amount decimal(16,2), MODIFY n bigint;
       INSERT INTO drift_rows VALUES (3, '${'w'.repeat(150)}', 12345678901234.56, 9007199254740993, 'z')`,
    );
    await wholeRecheck();
    const r = await get(`${MY_ROWS}?filter=id%20%3D%203`);
    expect(r.status, r.body).toBe(200);
    expect(r.body).toContain(`"label":"${'w'.repeat(150)}"`);
    expect(r.body).toContain('"amount":"12345678901234.56"');
    expect(r.body).toContain('"n":9007199254740993'); // exact digits, not rounded through a double
    // Served with the store's types now: sum over an int8 column is a numeric, as in PostgreSQL.
    expect(await sum()).toBe('9007199254740996');
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await mcpViews()).find((v) => v.name === 'myd.drift_rows')?.unavailable).toBeUndefined();
    expect((await get('/metrics')).body).toContain('viewgate_view_out_of_contract{view="myd.drift_rows"} 0');
  });

  it('MongoDB: documents whose field types change are no drift; each row is coerced, NULL or an error naming collection, field and _id', async () => {
    const docs = s.mongo.db(s.mongoDb).collection('drift_docs');
    // n (int): a double that holds an integer still fits; a string does not (an error: the column
    // keeps the default onTypeMismatch: error). score (float, onTypeMismatch: null): a string reads as NULL.
    await docs.updateOne({ _id: 'd1' } as never, { $set: { n: new Double(1), score: 'high' } });
    await docs.updateOne({ _id: 'd2' } as never, { $set: { n: 'two' } });
    const all = await get(`${DOCS}?order=_id`);
    expect(all.status).toBe(502);
    expect(JSON.parse(all.body).error.message).toBe(
      'store "mg" failed: collection "drift_docs": field "n" of document _id "d2" holds a string value, which does not fit column "n" of type int',
    );
    expect(await rows(`${DOCS}?filter=${encodeURIComponent("_id = 'd1'")}`)).toEqual([{ _id: 'd1', kind: 'view', n: 1, score: null }]);

    // Rechecked, the view still fits: its collection exists and its declared columns are the contract.
    await wholeRecheck();
    expect((await get(`${DOCS}?order=_id`)).status).toBe(502);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await mcpViews()).find((v) => v.name === 'mgd.drift_docs')?.unavailable).toBeUndefined();
    expect((await get('/metrics')).body).not.toContain('viewgate_view_out_of_contract{view="mgd.drift_docs"}');

    await docs.updateOne({ _id: 'd2' } as never, { $set: { n: 2 } });
    expect(await rows(`${DOCS}?order=_id`)).toEqual([
      { _id: 'd1', kind: 'view', n: 1, score: null },
      { _id: 'd2', kind: 'buy', n: 2, score: 1.5 },
    ]);
  });
});

describe('deprecation', () => {
  it('REST answers with Deprecation, Sunset and Link; OpenAPI and MCP mark the view; calls are counted per role', async () => {
    const r = await get(THINGS, PARTNER_KEY);
    expect(r.status).toBe(200);
    expect(r.headers.get('deprecation')).toBe(`@${Date.parse('2026-11-01T00:00:00Z') / 1000}`);
    expect(r.headers.get('sunset')).toBe(new Date(`${SUNSET}T00:00:00Z`).toUTCString());
    expect(r.headers.get('link')).toBe('<https://api.example.com/api/v2/pgs/_table/items>; rel="successor-version"');
    // Not on views that are not deprecated.
    expect((await get(ITEMS, PARTNER_KEY)).headers.get('deprecation')).toBeNull();

    const doc = JSON.parse((await get('/api/v2/openapi.json', PARTNER_KEY)).body);
    expect(doc.paths['/api/v2/mys/_table/things'].get.deprecated).toBe(true);
    expect(doc.paths['/api/v2/pgs/_table/items'].get.deprecated).toBeUndefined();

    const views = await mcpViews();
    expect(views.find((v) => v.name === 'mys.things')?.deprecated).toEqual({
      since: Date.parse('2026-11-01T00:00:00Z') / 1000,
      sunset: `${SUNSET}T00:00:00.000Z`,
      successor: 'pgs.items',
    });
    expect(views.find((v) => v.name === 'pgs.items')?.deprecated).toBeUndefined();

    const metrics = await get('/metrics');
    expect(metrics.body).toMatch(/viewgate_deprecated_view_requests_total\{view="mys\.things",role="partner"\} [1-9]/);
  });

  it('MCP describe_view gives the deprecation mark and says it in its text; not for a view that is not deprecated', async () => {
    const d = await mcpCall('describe_view', { view: 'mys.things' });
    expect(d.isError).toBe(false);
    expect((d.structured as { deprecated?: unknown }).deprecated).toEqual({
      since: Date.parse('2026-11-01T00:00:00Z') / 1000,
      sunset: `${SUNSET}T00:00:00.000Z`,
      successor: 'pgs.items',
    });
    expect(d.text).toContain(`This view is deprecated, sunset ${SUNSET}T00:00:00.000Z, use pgs.items.`);
    const other = await mcpCall('describe_view', { view: 'pgs.items' });
    expect(other.isError).toBe(false);
    expect((other.structured as { view: string; deprecated?: unknown }).view).toBe('pgs.items');
    expect((other.structured as { deprecated?: unknown }).deprecated).toBeUndefined();
    expect(other.text).not.toContain('deprecated');
  });

  it('answers 410 after the sunset, naming the successor', async () => {
    const r = await get('/api/v2/mys/_table/old_things', PARTNER_KEY);
    expect(r.status).toBe(410);
    expect(JSON.parse(r.body).error.message).toBe(
      'view "mys.old_things" was retired on 2021-01-01T00:00:00.000Z; use "mys.things" instead',
    );
    expect(r.headers.get('sunset')).toBe(new Date('2021-01-01T00:00:00Z').toUTCString());
    // A caller who may not read it learns nothing more than about any unknown view.
    const other = await get('/api/v2/mgs/_table/old_things', PARTNER_KEY);
    expect(other.status).toBe(404);
  });
});
