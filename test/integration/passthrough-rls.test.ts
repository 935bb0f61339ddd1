// Identity passthrough on embedded reads (docs/security.md, "Identity passthrough"), against the
// real stores: a PostgreSQL table owned by a non-superuser role with FORCE ROW LEVEL SECURITY and
// a policy over request.jwt.claims, read by viewgate as a non-superuser login role through a grant
// WITHOUT a row filter: the source's own policy still gives each tenant only its rows, also with
// two tenants interleaved on a pool of two connections, which keep no setting afterwards. The
// request's trace id reaches PostgreSQL as viewgate.trace_id. And a MariaDB user with column
// grants, used for one role through roleUrls: that role cannot read the other column (a clear
// 403), other roles read it through the source's url.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayRequest, Operation } from '../../src/gateway/request.js';
import { createMysqlDatabase, MYSQL_URL, PG_URL, withDatabase } from '../support/stores.js';
import { get, startServer, type RunningServer } from '../support/reference.js';
import { waitFor } from '../support/wait.js';
import { Sources } from '../../src/sources/index.js';

const SCHEMA = 'vg_passthru';
const OWNER = 'vg_passthru_owner';
const READER = 'vg_passthru_reader';
const MARIA_USER = 'vg_passthru_limited';

const sha256 = (k: string) => createHash('sha256').update(k).digest('hex');

function userUrl(base: string, user: string, db?: string): string {
  const u = new URL(db ? withDatabase(base, db) : base);
  u.username = user;
  u.password = '';
  return u.toString();
}

/** Drops what an earlier run may have left (idempotent); the schema first, so the roles own nothing. */
async function dropPg(admin: pg.Client): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  for (const role of [READER, OWNER]) {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (rowCount) await admin.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
  }
}

async function dropMaria(): Promise<void> {
  const c = await mysql.createConnection(MYSQL_URL);
  try {
    await c.query(`DROP USER IF EXISTS '${MARIA_USER}'@'%'`);
  } finally {
    await c.end();
  }
}

let admin: pg.Client;
let maria: { url: string; name: string; drop: () => Promise<void> };
let srv: RunningServer;
/** The server's config text (the trace id case starts a second server on it, with telemetry). */
let yaml: string;

const KEYS = {
  t1: { role: 'tenant', claims: '{ tenant: t1 }' },
  t2: { role: 'tenant', claims: '{ tenant: t2 }' },
  nobody: { role: 'tenant', claims: '{ }' },
  limited: { role: 'limited' },
  full: { role: 'full' },
};

beforeAll(async () => {
  admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await dropPg(admin);
  await admin.query(`CREATE ROLE ${OWNER} NOLOGIN; CREATE ROLE ${READER} LOGIN`);
  await admin.query(`CREATE SCHEMA ${SCHEMA} AUTHORIZATION ${OWNER}`);
  await admin.query(`SET ROLE ${OWNER}`);
  await admin.query(`
    CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, tenant text NOT NULL, label text NOT NULL);
    INSERT INTO ${SCHEMA}.items SELECT i, CASE WHEN i % 2 = 0 THEN 't2' ELSE 't1' END, 'item ' || i FROM generate_series(1, 40) i;
    ALTER TABLE ${SCHEMA}.items ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ${SCHEMA}.items FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_rows ON ${SCHEMA}.items USING (tenant = current_setting('request.jwt.claims', true)::json->>'tenant');
    CREATE VIEW ${SCHEMA}.session AS SELECT 1 AS id, current_setting('viewgate.trace_id', true) AS trace_id,
      current_setting('viewgate.role', true) AS role, current_setting('transaction_read_only') AS read_only, pg_backend_pid() AS pid;
    CREATE TABLE ${SCHEMA}.private (id int PRIMARY KEY);
    CREATE VIEW ${SCHEMA}.slow AS SELECT 1 AS id, pg_sleep(60)::text AS slept;
    GRANT USAGE ON SCHEMA ${SCHEMA} TO ${READER};
    GRANT SELECT ON ${SCHEMA}.items, ${SCHEMA}.session, ${SCHEMA}.slow TO ${READER};`);
  await admin.query('RESET ROLE');

  await dropMaria();
  maria = await createMysqlDatabase('passthru');
  const m = await mysql.createConnection(maria.url);
  try {
    await m.query('CREATE TABLE people (id int PRIMARY KEY, name varchar(40) NOT NULL, secret varchar(40) NOT NULL)');
    await m.query("INSERT INTO people VALUES (1, 'ada', 's-ada'), (2, 'bob', 's-bob')");
    await m.query('CREATE SQL SECURITY INVOKER VIEW whoami AS SELECT 1 AS id, CURRENT_USER() AS who');
    await m.query(`CREATE USER '${MARIA_USER}'@'%'`);
    await m.query(`GRANT SELECT (id, name) ON \`${maria.name}\`.people TO '${MARIA_USER}'@'%'`);
    await m.query(`GRANT SELECT ON \`${maria.name}\`.whoami TO '${MARIA_USER}'@'%'`);
  } finally {
    await m.end();
  }

  const keys = Object.entries(KEYS)
    .map(
      ([name, k]) =>
        `    - { name: ${name}, sha256: ${sha256(`key-${name}`)}, role: ${k.role}${'claims' in k ? `, claims: ${k.claims}` : ''} }`,
    )
    .join('\n');
  yaml = `
sources:
  app: { kind: postgres, url: "${userUrl(PG_URL, READER)}", pool: 2, passthrough: true }
  plain: { kind: postgres, url: "${PG_URL}", pool: 1 }
  maria:
    kind: mysql
    url: "${maria.url}"
    roleUrls: { limited: "${userUrl(MYSQL_URL, MARIA_USER, maria.name)}" }
services:
  app: { source: app, tables: [{ name: ${SCHEMA}.items, key: [id] }, { name: ${SCHEMA}.session, key: [id] }, { name: ${SCHEMA}.slow, key: [id] }, { name: ${SCHEMA}.private, key: [id] }] }
  plain: { source: plain, tables: [{ name: ${SCHEMA}.session, key: [id] }] }
  m: { source: maria, tables: [people, { name: whoami, key: [id] }] }
auth:
  apiKeys:
${keys}
roles:
  tenant:
    grants:
      app.*: { read: true }
      plain.*: { read: true }
  limited:
    grants: { m.*: { read: true } }
  full:
    grants: { m.*: { read: true } }
`;
  srv = await startServer(parseConfig(yaml, 'passthru-test.yaml', {}));
});

afterAll(async () => {
  await srv?.close();
  if (admin) {
    await dropPg(admin);
    await admin.end();
  }
  await maria?.drop();
  await dropMaria();
});

async function rows(key: string, path: string): Promise<Record<string, unknown>[]> {
  const r = await get(`${srv.url}/api/v2/${path}`, { 'X-API-Key': `key-${key}` });
  expect(r.status, r.text).toBe(200);
  return r.body.resource as Record<string, unknown>[];
}

/** A query of `view` as the API key `key`, through the gateway itself, continuing the caller's trace `traceId`. */
function traced(key: string, view: string, traceId?: string): GatewayRequest<Extract<Operation, { op: 'query' }>> {
  return {
    requestId: `req-${Math.random()}`,
    surface: 'rest',
    action: 'query',
    caller: { credentials: () => ({ apiKey: `key-${key}` }) },
    operation: { op: 'query', view, parse: () => ({}) },
    ...(traceId !== undefined ? { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } : {}),
  };
}

describe('passthrough: the source’s own row-level security binds every read', () => {
  it('a grant without a row filter still returns only the caller’s tenant', async () => {
    const t1 = await rows('t1', 'app/_table/items?limit=100');
    expect(t1).toHaveLength(20);
    expect(new Set(t1.map((r) => r.tenant))).toEqual(new Set(['t1']));
    const t2 = await rows('t2', 'app/_table/items?limit=100&include_count=true');
    expect(new Set(t2.map((r) => r.tenant))).toEqual(new Set(['t2']));
    // A count runs in the store under the same policy.
    const counted = await get(`${srv.url}/api/v2/app/_table/items?count_only=true`, { 'X-API-Key': 'key-t2' });
    expect(counted.body).toBe(20);
    // Without the claim the policy reads, no rows at all.
    expect(await rows('nobody', 'app/_table/items?limit=100')).toEqual([]);
  });

  it('a READ ONLY transaction carries the role; no trace id without telemetry', async () => {
    const [s] = await rows('t1', 'app/_table/session');
    expect(s).toMatchObject({ role: 'tenant', read_only: 'on' });
    expect(s!.trace_id ?? '').toBe('');
  });

  it('two tenants interleaved on a pool of two never see each other’s rows, and the connections keep no setting', async () => {
    const pids = new Set<number>();
    const asks = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 't1' : 't2'));
    await Promise.all(
      asks.map(async (key) => {
        const [got, [session]] = await Promise.all([rows(key, 'app/_table/items?limit=100'), rows(key, 'app/_table/session')]);
        expect(got.length).toBe(20);
        expect(got.every((r) => r.tenant === key)).toBe(true);
        pids.add(Number(session!.pid));
      }),
    );
    // The pool of two served them all (on one connection alone when the requests happened not to overlap).
    expect(pids.size).toBeGreaterThan(0);
    expect(pids.size).toBeLessThanOrEqual(2);
    // Both pooled connections, outside any transaction: no claims, role or trace id left behind.
    const pool = (srv.rt.sources.get('app') as unknown as { inner: { getPool(): pg.Pool } }).inner.getPool();
    const clients = [await pool.connect(), await pool.connect()];
    const pooled = new Set<number>();
    try {
      for (const c of clients) {
        const r = await c.query(
          "SELECT coalesce(current_setting('request.jwt.claims', true), '') AS claims, coalesce(current_setting('viewgate.role', true), '') AS role, pg_backend_pid() AS pid",
        );
        expect(r.rows[0]).toMatchObject({ claims: '', role: '' });
        pooled.add(Number(r.rows[0].pid));
      }
      // The connections that served the requests are these two: none was replaced.
      for (const pid of pids) expect(pooled.has(pid)).toBe(true);
    } finally {
      for (const c of clients) c.release();
    }
  });

  it('with telemetry, the request’s trace id is a transaction-local setting, with and without passthrough', async () => {
    // A collector that takes every export, so the spans have somewhere to go.
    const collector = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const tracing = await startServer(parseConfig(`${yaml}telemetry: { otlpEndpoint: "${endpoint}" }\n`, 'passthru-traced.yaml', {}));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    try {
      for (const view of ['app.session', 'plain.session']) {
        const out = await tracing.rt.gateway.handle(traced('t1', view, traceId));
        expect(out.ok, out.ok ? '' : out.error.message).toBe(true);
        const [s] = (out as { value: { rows: Record<string, unknown>[] } }).value.rows;
        expect(s).toMatchObject({ trace_id: traceId, read_only: 'on' });
      }
    } finally {
      await tracing.close();
      collector.close();
    }
    // Without telemetry there is no trace id: a source without passthrough runs the statement alone, no transaction.
    const out = await srv.rt.gateway.handle(traced('t1', 'plain.session', traceId));
    const [s] = (out as { value: { rows: Record<string, unknown>[] } }).value.rows;
    expect(s).toMatchObject({ read_only: 'off' });
    expect(s!.trace_id ?? '').toBe('');
  });

  it('a read whose client went away is cancelled inside its transaction, and the pool serves on', async () => {
    const running = async () =>
      (
        await admin.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND state = 'active' AND query LIKE '%slow%'",
          [READER],
        )
      ).rows[0].n as number;
    const abort = new AbortController();
    const started = performance.now();
    const outcome = srv.rt.gateway.handle({ ...traced('t1', 'app.slow'), signal: abort.signal });
    await waitFor(async () => (await running()) === 1, { what: 'the slow statement' });
    abort.abort();
    const out = await outcome;
    expect(out.ok ? 200 : out.error.status).toBe(499);
    await waitFor(async () => (await running()) === 0, { what: 'the statement cancelled', timeout: 5_000 });
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(await rows('t2', 'app/_table/items?limit=100')).toHaveLength(20);
  });
});

describe('the store’s own grants refuse a query', () => {
  it('a clear 403 without the store’s text, which never opens the circuit for others', async () => {
    for (let i = 0; i < 8; i++) {
      const r = await get(`${srv.url}/api/v2/app/_table/private`, { 'X-API-Key': 'key-t1' });
      expect(r.status).toBe(403);
      expect(r.body.error.message).toMatch(/store "app" refused the query: the credentials used for your role may not read/);
      expect(r.text).not.toContain(READER);
    }
    expect(await rows('t2', 'app/_table/items?limit=100')).toHaveLength(20);
  });
});

describe('roleUrls: a role reads with its own store credentials', () => {
  it('the listed role connects as its own user, others with the url', async () => {
    const [limited] = await rows('limited', 'm/_table/whoami');
    expect(String(limited!.who)).toMatch(new RegExp(`^${MARIA_USER}@`));
    const [full] = await rows('full', 'm/_table/whoami');
    expect(String(full!.who)).not.toMatch(new RegExp(`^${MARIA_USER}@`));
  });

  it('column grants bind the role even where viewgate’s grant allows the column', async () => {
    expect(await rows('limited', 'm/_table/people?fields=id,name')).toEqual([
      { id: 1, name: 'ada' },
      { id: 2, name: 'bob' },
    ]);
    for (const query of ['', '?fields=id,secret', "?filter=secret%3D's-ada'&fields=id"]) {
      const r = await get(`${srv.url}/api/v2/m/_table/people${query}`, { 'X-API-Key': 'key-limited' });
      expect(r.status, query).toBe(403);
      expect(r.body.error.message).toMatch(/role "limited" may not read column "secret" of "people" on source "maria"/);
      expect(r.text).not.toContain(MARIA_USER);
    }
    expect(await rows('full', 'm/_table/people?fields=id,secret')).toEqual([
      { id: 1, secret: 's-ada' },
      { id: 2, secret: 's-bob' },
    ]);
    // A refusal is no store failure: the circuit stays closed for everyone.
    expect((await get(`${srv.url}/api/v2/m/_table/people?fields=id`, { 'X-API-Key': 'key-full' })).status).toBe(200);
  });
});

describe('roleUrls: health', () => {
  it('a ping asks every URL, so credentials that no longer log in are found', async () => {
    await srv.rt.sources.get('maria').ping();
    const yaml = `
sources:
  maria: { kind: mysql, url: "${maria.url}", roleUrls: { limited: "${userUrl(MYSQL_URL, 'vg_passthru_nobody', maria.name)}" } }
services:
  m: { source: maria, tables: [people] }
roles:
  limited: { grants: { m.people: { read: true } } }
`;
    const sources = new Sources(parseConfig(yaml, 'x.yaml', {}));
    try {
      await expect(sources.get('maria').ping()).rejects.toMatchObject({ status: 503, source: 'maria' });
    } finally {
      await sources.close();
    }
  });
});

describe('configuration', () => {
  it('a roleUrls key that is not a role is a config problem', () => {
    const yaml = `
sources:
  db: { kind: postgres, url: "postgres://x@h/db", roleUrls: { ghost: "postgres://y@h/db" } }
services:
  s: { source: db, tables: [t] }
roles:
  reader: { grants: { s.t: { read: true } } }
`;
    expect(() => parseConfig(yaml, 'x.yaml', {})).toThrow(/sources\.db\.roleUrls\.ghost.*unknown role "ghost"/s);
  });

  it('a hub takes no roleUrls (its reads use its url)', () => {
    const yaml = `
sources:
  hub: { kind: postgres, url: "postgres://x@h/db", roleUrls: { reader: "postgres://y@h/db" } }
services:
  h: { engine: hub, source: hub, views: { v: { sql: "SELECT 1 AS id" } } }
roles:
  reader: { grants: { h.v: { read: true } } }
`;
    expect(() => parseConfig(yaml, 'x.yaml', {})).toThrow(/sources\.hub\.roleUrls.*remove roleUrls from the hub "hub"/s);
  });

  it('passthrough is a PostgreSQL option, and roleUrls needs a url', () => {
    const base = (src: string) => `sources:\n  db: ${src}\nservices:\n  s: { source: db, tables: [t] }\nroles: {}\n`;
    expect(() => parseConfig(base('{ kind: mysql, url: "mysql://x@h/db", passthrough: true }'), 'x.yaml', {})).toThrow(/passthrough/);
    expect(() => parseConfig(base('{ kind: sqlite, path: /tmp/x.db, roleUrls: { r: "/tmp/y.db" } }'), 'x.yaml', {})).toThrow(
      /roleUrls replaces the source's url/,
    );
  });
});
