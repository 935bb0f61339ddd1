// Work nobody waits for is stopped (docs/operations.md, "Cancelled requests"), on a running server
// against the real stores: a slow statement (PostgreSQL pg_sleep, MariaDB SLEEP() behind a view)
// is started through REST or MCP, the client goes away (closes its connection; the MCP SDK client
// aborts its call, over HTTP by closing the request and over stdio with notifications/cancelled),
// and the store's own catalog (pg_stat_activity, information_schema.PROCESSLIST) shows the statement
// gone within a few seconds, far before it would have ended; the audit record says 499, and the
// circuit breaker did not count it as a store failure. FerretDB lists no running operations
// (currentOp is always empty, killOp is not implemented), so for MongoDB a slow scan is stopped by
// the driver's abort signal, and the test checks the request ended long before the scan could have.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { parseConfig } from '../../src/config/load.js';
import { ApiError } from '../../src/errors.js';
import { HubSession } from '../../src/hub/passthrough/session.js';
import type { AuditRecord } from '../../src/ops/audit.js';
import { startServer, type RunningServer } from '../support/reference.js';
import { createMongoDatabase, createMysqlDatabase, createPgDatabase, mysqlExec, pgExec } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import { auditFileRecords } from '../support/audit-file.js';

const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;
const KEY = 'vg_test_cancel_key';
const CACHED_KEY = 'vg_test_cancel_cached_key';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** How long the slow statements would run; the store's timeout is longer still. */
const SLEEP_S = 60;
/** How soon after the client left its statement must be gone. */
const GONE_WITHIN_MS = 5_000;
const BULK_DOCS = 150_000;

let pgDb: Awaited<ReturnType<typeof createPgDatabase>>;
let myDb: Awaited<ReturnType<typeof createMysqlDatabase>>;
let mongoDb: Awaited<ReturnType<typeof createMongoDatabase>>;
let srv: RunningServer;
let dir: string;

function configYaml(audit = 'audit: { sink: off }'): string {
  return `
${audit}
logging: { level: silent }
server: { mcp: { allowedOrigins: [http://127.0.0.1] } }
sources:
  pg: { kind: postgres, url: "${pgDb.url}", timeout: 120s }
  my: { kind: mysql, url: "${myDb.url}", timeout: 120s }
  mgo:
    kind: mongodb
    url: "${mongoDb.url}"
    database: ${mongoDb.name}
    timeout: 120s
    collections:
      bulk: { columns: { _id: { type: text }, i: { type: int }, s: { type: text } } }
services:
  pgshop: { source: pg, tables: [items, { name: slow_items, key: [id] }] }
  myshop: { source: my, tables: [items, { name: slow_items, key: [id] }] }
  mgo: { source: mgo, tables: [bulk] }
  fed:
    engine: embedded
    views:
      slow_join:
        key: [id]
        sql: SELECT s.id, s.name, m.name AS crm_name FROM pg.slow_items s JOIN my.items m ON m.id = s.id
auth:
  apiKeys:
    - { name: cancel, sha256: ${sha256(KEY)}, role: reader }
    - { name: cancel-cached, sha256: ${sha256(CACHED_KEY)}, role: cached }
roles:
  reader: { metrics: true, grants: { "*": { read: true } } }
  cached: { grants: { "pgshop.*": { read: true, cacheTtl: 30s } } }
`;
}

beforeAll(async () => {
  [pgDb, myDb, mongoDb] = await Promise.all([createPgDatabase('cancel'), createMysqlDatabase('cancel'), createMongoDatabase('cancel')]);
  await pgExec(
    pgDb.url,
    `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
     INSERT INTO items VALUES (1, 'one'), (2, 'two');
     CREATE VIEW slow_items AS SELECT id, name FROM items WHERE pg_sleep(${SLEEP_S}) IS NOT NULL;`,
  );
  await mysqlExec(
    myDb.url,
    `CREATE TABLE items (id int PRIMARY KEY, name varchar(20) NOT NULL);
     INSERT INTO items VALUES (1, 'one'), (2, 'two');
     CREATE VIEW slow_items AS SELECT id, name FROM items WHERE SLEEP(${SLEEP_S}) = 0;`,
  );
  const docs = Array.from({ length: BULK_DOCS }, (_, i) => ({ i, s: `${'x'.repeat(50)}${i}` }));
  await mongoDb.client.db(mongoDb.name).collection('bulk').insertMany(docs, { ordered: false });
  dir = mkdtempSync(join(tmpdir(), 'vg-cancel-'));
  // One counted store failure would open a circuit: a cancelled request must not be one.
  srv = await startServer(parseConfig(configYaml(), join(dir, 'viewgate.yaml'), {}), { breaker: { failures: 1, cooldownMs: 600_000 } });
});

afterAll(async () => {
  await srv?.close();
  await Promise.allSettled([pgDb?.drop(), myDb?.drop(), mongoDb?.drop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Backends of the test database running a statement on slow_items. */
async function pgRunning(): Promise<number> {
  const r = await pgExec(
    pgDb.url,
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%slow_items%'`,
  );
  return (r.rows[0] as { n: number }).n;
}

/** Threads of the test database running a statement on slow_items. */
async function mysqlRunning(): Promise<number> {
  const rows = (await mysqlExec(
    myDb.url,
    `SELECT count(*) AS n FROM information_schema.PROCESSLIST
      WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep' AND INFO LIKE '%slow_items%'`,
  )) as { n: number }[];
  return Number(rows[0]!.n);
}

/** A GET whose client can go away before the answer: destroy() closes the connection. */
function openRequest(path: string, key = KEY): { destroy: () => void; answered: Promise<number> } {
  const req = http.get(`${srv.url}${path}`, { headers: { 'X-API-Key': key }, agent: false });
  const answered = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
  return { destroy: () => req.destroy(), answered };
}

const recordsOf = (view: string, status?: number): AuditRecord[] =>
  srv.audit.records.filter((r) => r.view === view && (status === undefined || r.status === status));
/** The first record of a cancelled request of `view`, once written. */
const cancelledRecord = (view: string): AuditRecord | undefined => recordsOf(view, 499)[0];

/** Starts a slow read, waits until the store runs it, lets the client go, and says how soon the statement was gone. */
async function cancelWhileRunning(running: () => Promise<number>, start: () => () => void): Promise<number> {
  const before = await running();
  const leave = start();
  await waitFor(async () => (await running()) > before, { what: 'the slow statement to run', timeout: 20_000 });
  const left = performance.now();
  leave();
  await waitFor(async () => (await running()) === before, { what: 'the statement to be stopped', timeout: GONE_WITHIN_MS });
  return performance.now() - left;
}

async function circuitStates(): Promise<string> {
  const text = await (await fetch(`${srv.url}/metrics`, { headers: { 'X-API-Key': KEY } })).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('viewgate_circuit_state{'))
    .sort()
    .join('\n');
}

describe('a client that leaves stops the store queries of its request', () => {
  it('REST over PostgreSQL: the statement is cancelled, the record says 499, the circuit stays closed', async () => {
    await cancelWhileRunning(pgRunning, () => {
      const r = openRequest('/api/v2/pgshop/_table/slow_items?include_count=true');
      return () => r.destroy();
    });
    const rec = await waitFor(() => cancelledRecord('pgshop.slow_items'), { what: 'the audit record' });
    expect(rec).toMatchObject({ surface: 'rest', action: 'query', status: 499, decision: 'error', keyName: 'cancel' });
    // The pool gave up the cancelled connection and serves the next request; no circuit opened.
    const next = await fetch(`${srv.url}/api/v2/pgshop/_table/items`, { headers: { 'X-API-Key': KEY } });
    expect(next.status).toBe(200);
    expect(await circuitStates()).not.toMatch(/store="pg"\} [12]/);
  });

  it('REST over MariaDB: KILL QUERY stops the statement', async () => {
    await cancelWhileRunning(mysqlRunning, () => {
      const r = openRequest('/api/v2/myshop/_table/slow_items');
      return () => r.destroy();
    });
    await waitFor(() => recordsOf('myshop.slow_items', 499).length === 1, { what: 'the audit record' });
    const next = await fetch(`${srv.url}/api/v2/myshop/_table/items`, { headers: { 'X-API-Key': KEY } });
    expect(next.status).toBe(200);
    expect(await circuitStates()).not.toMatch(/store="my"\} [12]/);
  });

  it('an embedded view stops the fetch it sent', async () => {
    await cancelWhileRunning(pgRunning, () => {
      const r = openRequest('/api/v2/fed/_table/slow_join');
      return () => r.destroy();
    });
    await waitFor(() => recordsOf('fed.slow_join', 499).length === 1, { what: 'the audit record' });
  });

  it('a cached load shared by two requests stops only when both clients have left', async () => {
    const first = openRequest('/api/v2/pgshop/_table/slow_items?limit=1', CACHED_KEY);
    await waitFor(async () => (await pgRunning()) === 1, { what: 'the shared load to run', timeout: 20_000 });
    const misses = async () => /viewgate_cache_misses_total\{view="pgshop.slow_items"\} 2/.test(await metricsText());
    const second = openRequest('/api/v2/pgshop/_table/slow_items?limit=1', CACHED_KEY);
    await waitFor(misses, { what: 'the second request to wait for the same load' });
    first.destroy();
    await waitFor(() => srv.audit.records.filter((r) => r.keyName === 'cancel-cached' && r.status === 499).length === 1, {
      what: 'the first record',
    });
    // The second client still waits: the load goes on.
    expect(await pgRunning()).toBe(1);
    second.destroy();
    await waitFor(async () => (await pgRunning()) === 0, { what: 'the load to be stopped', timeout: GONE_WITHIN_MS });
    await waitFor(() => srv.audit.records.filter((r) => r.keyName === 'cancel-cached' && r.status === 499).length === 2, {
      what: 'the second record',
    });
  });

  it('MCP over HTTP: the SDK client aborting its call closes the request and stops the statement', async () => {
    const client = new Client({ name: 'cancel-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': KEY } } }));
    try {
      const before = recordsOf('pgshop.slow_items').length;
      let call: Promise<unknown> | undefined;
      await cancelWhileRunning(pgRunning, () => {
        const abort = new AbortController();
        call = client.callTool({ name: 'query_view', arguments: { view: 'pgshop.slow_items' } }, { signal: abort.signal }).catch((e) => e);
        return () => abort.abort();
      });
      await call;
      const recs = await waitFor(
        () => (recordsOf('pgshop.slow_items').length > before ? recordsOf('pgshop.slow_items').slice(before) : undefined),
        {
          what: 'the audit record',
        },
      );
      expect(recs).toEqual([expect.objectContaining({ surface: 'mcp', action: 'query_view', status: 499 })]);
      // The session goes on.
      const ok = await client.callTool({ name: 'query_view', arguments: { view: 'pgshop.items' } });
      expect(ok.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });

  it('MCP over stdio: notifications/cancelled stops the statement', async () => {
    const auditFile = join(dir, 'stdio-audit.log');
    const configFile = join(dir, 'stdio.yaml');
    writeFileSync(configFile, configYaml(`audit: { sink: file, path: "${auditFile}" }`));
    const client = new Client({ name: 'cancel-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'mcp', '--config', configFile],
        env: { ...(process.env as Record<string, string>), VIEWGATE_API_KEY: KEY },
        stderr: 'pipe',
      }),
    );
    try {
      await cancelWhileRunning(mysqlRunning, () => {
        const abort = new AbortController();
        void client.callTool({ name: 'query_view', arguments: { view: 'myshop.slow_items' } }, { signal: abort.signal }).catch(() => {});
        return () => abort.abort();
      });
      const records = () => auditFileRecords<AuditRecord>(auditFile);
      const rec = await waitFor(() => records().find((r) => r.action === 'query_view'), { what: 'the audit record' });
      expect(rec).toMatchObject({ surface: 'mcp', view: 'myshop.slow_items', status: 499 });
      expect(records().some((r) => r.action === 'notifications/cancelled')).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('MongoDB (FerretDB): the driver abandons a long scan at once', async () => {
    // Matches no document, so every document is read.
    const path = `/api/v2/mgo/_table/bulk?filter=${encodeURIComponent("s like '%zzz'")}&include_count=true`;
    const started = performance.now();
    const full = await fetch(`${srv.url}${path}`, { headers: { 'X-API-Key': KEY } });
    const scanMs = performance.now() - started;
    expect(full.status).toBe(200);
    expect(scanMs).toBeGreaterThan(1_000);

    const r = openRequest(path);
    await new Promise((resolve) => setTimeout(resolve, 200));
    r.destroy();
    const rec = await waitFor(() => cancelledRecord('mgo.bulk'), { what: 'the audit record', timeout: 30_000 });
    expect(rec.latencyMs).toBeLessThan(scanMs / 2);
    expect(await circuitStates()).not.toMatch(/store="mgo"\} [12]/);
  });
});

describe('a hub read whose client left', () => {
  it('cancels its statement, runs no further one, and the session goes on', async () => {
    const session = new HubSession({ name: 'hub', url: pgDb.url, timeoutMs: 120_000 });
    try {
      const statements: string[] = [];
      let read: Promise<unknown> | undefined;
      await cancelWhileRunning(pgRunning, () => {
        const cancel = new AbortController();
        read = session
          .read(
            undefined,
            async (run) => {
              statements.push('page');
              await run({ source: 'hub', text: 'SELECT * FROM slow_items', params: [] });
              statements.push('count');
              return run({ source: 'hub', text: 'SELECT count(*) FROM items', params: [] });
            },
            cancel.signal,
          )
          .catch((e: unknown) => e);
        return () => cancel.abort();
      });
      const err = await read;
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).kind).toBe('request_cancelled');
      expect(statements).toEqual(['page']);
      expect(await session.read(undefined, (run) => run({ source: 'hub', text: 'SELECT count(*) FROM items', params: [] }))).toEqual([
        ['2'],
      ]);
    } finally {
      await session.close();
    }
  });
});

async function metricsText(): Promise<string> {
  return (await fetch(`${srv.url}/metrics`, { headers: { 'X-API-Key': KEY } })).text();
}
