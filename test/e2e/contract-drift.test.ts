// Drift at run time and deprecation (docs/contracts.md), against a running `viewgate serve` (the
// built CLI, real HTTP, the MCP client) over real PostgreSQL, MariaDB and MongoDB (FerretDB): each
// store's change is seen within the check interval, only the affected view answers 503 (naming the
// view, never the column), /readyz and MCP list_views say so, and the view heals when the change
// is reverted, without a restart. Deprecated views carry Deprecation, Sunset and Link, and answer
// 410 after their sunset.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { mysqlExec, pgExec } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import { createContractStores, INTERNAL_KEY, PARTNER_KEY, writeContractConfig, type ContractStores } from '../support/contract-fixture.js';

const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;
const SUNSET = '2099-06-30';

let s: ContractStores;
let child: ChildProcess;
let url = '';
let logs = '';

beforeAll(async () => {
  s = await createContractStores('contract_drift');
  const config = writeContractConfig(s, 'serve.yaml', {
    checkInterval: '200ms',
    publicUrl: 'https://api.example.com',
    thingsExtra: `        deprecated: { since: "2026-11-01", sunset: "${SUNSET}", successor: pgs.items }\n`,
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

/** Waits until the view answers the 503 of a view out of contract; returns that body. */
async function until503(path: string, view: string): Promise<string> {
  return waitFor(
    async () => {
      const r = await get(path);
      return r.status === 503 ? r.body : undefined;
    },
    { what: `${view} to go out of contract` },
  ).then((body) => {
    expect(JSON.parse(body).error.message).toBe(OUT(view));
    return body;
  });
}

async function until200(path: string, view: string): Promise<void> {
  await waitFor(async () => (await get(path)).status === 200, { what: `${view} to heal` });
}

async function mcpViews(): Promise<{ name: string; unavailable?: boolean; deprecated?: Record<string, unknown> }[]> {
  const client = new Client({ name: 'contract-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { 'X-API-Key': INTERNAL_KEY } } }),
  );
  try {
    const r = await client.callTool({ name: 'list_views', arguments: {} });
    return (r.structuredContent as { views: { name: string }[] }).views;
  } finally {
    await client.close();
  }
}

const ITEMS = '/api/v2/pgs/_table/items';
const THINGS = '/api/v2/mys/_table/things';
const EVENTS = '/api/v2/mgs/_table/events';
const JOINED = '/api/v2/fed/_table/joined';

describe('drift at run time', () => {
  it('a PostgreSQL column renamed: 503 for the views that read it only, /readyz, MCP and metrics say so; heals when renamed back', async () => {
    await expectServing([ITEMS, THINGS, EVENTS, JOINED]);
    await pgExec(s.pgUrl, 'ALTER TABLE items RENAME COLUMN name TO full_name');
    const body = await until503(ITEMS, 'pgs.items');
    // The caller is told the view only: the column (which a role may not see) goes to the log.
    expect(body).not.toContain('name"');
    expect(body).not.toContain('full_name');
    await waitFor(() => logs.includes('column \\"name\\" is gone'), { what: 'the drift in the log' });
    // The joined view reads items too, but not the renamed column: it keeps working, as do the others.
    await expectServing([THINGS, EVENTS, JOINED]);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not ready', down: [], viewsOutOfContract: 1 });
    const views = await mcpViews();
    expect(views.find((v) => v.name === 'pgs.items')?.unavailable).toBe(true);
    expect(views.find((v) => v.name === 'mys.things')?.unavailable).toBeUndefined();
    const metrics = await get('/metrics');
    expect(metrics.body).toMatch(/viewgate_view_out_of_contract\{view="pgs\.items"\} 1/);

    await pgExec(s.pgUrl, 'ALTER TABLE items RENAME COLUMN full_name TO name');
    await until200(ITEMS, 'pgs.items');
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await get('/metrics')).body).toMatch(/viewgate_view_out_of_contract\{view="pgs\.items"\} 0/);
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

  it('a compatible change (a wider type) keeps serving', async () => {
    await pgExec(s.pgUrl, 'ALTER TABLE items ALTER COLUMN price TYPE numeric(16,2)');
    // Two intervals at least: the view has been rechecked and still serves.
    await new Promise((r) => setTimeout(r, 600));
    const r = await get(`${ITEMS}?filter=id%20%3D%201`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).resource[0].price).toBe('1.50');
  });

  it('a missing MongoDB collection: 503 for its view; heals when the collection is back', async () => {
    await s.mongo.db(s.mongoDb).collection('events').drop();
    await until503(EVENTS, 'mgs.events');
    // After the type change above, a pooled PostgreSQL connection whose prepared statement no longer
    // fits fails once (502) and is replaced (docs/architecture.md, "Sources"): wait past that.
    await until200(ITEMS, 'pgs.items');
    await expectServing([ITEMS, THINGS]);
    await s.mongo
      .db(s.mongoDb)
      .collection('events')
      .insertOne({ _id: 'e9', kind: 'view', ts: new Date('2026-02-01T00:00:00Z') } as never);
    await until200(EVENTS, 'mgs.events');
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
