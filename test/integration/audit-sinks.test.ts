// Audit (issue 4 item 6; docs/security.md, "Audit") with real sinks behind a real HTTP server: one
// record per request with identity, view, fields, filter, row count, decision, status and latency;
// the file and PostgreSQL sinks (table created if missing) write them; a failing sink is logged and
// counted, and with failClosed the request fails with 503.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/ops/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { buildServer } from '../../src/server.js';
import { createReferenceStores, get, KEYS, referenceConfig, startServer, type ReferenceStores } from '../support/reference.js';
import { signHs256 } from '../support/jwt.js';
import { createPgDatabase, pgExec, testDbName, withDatabase, PG_URL } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

let stores: ReferenceStores;
let auditDb: Awaited<ReturnType<typeof createPgDatabase>>;
let dir: string;
const running: { app: FastifyInstance; rt: Runtime }[] = [];

beforeAll(async () => {
  stores = await createReferenceStores('audit_sinks');
  auditDb = await createPgDatabase('audit_sink');
  dir = mkdtempSync(join(tmpdir(), 'vg-audit-'));
});

afterAll(async () => {
  for (const s of running) {
    await s.app.close();
    await s.rt.close();
  }
  await stores?.drop();
  await auditDb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** The reference config with its `audit:` block replaced and an extra postgres source for audit. */
function configWith(audit: string, auditUrl = auditDb.url): Config {
  return referenceConfig(stores.env, (y) =>
    y
      .replace(/\naudit:\n  sink: stdout\n/, `\naudit:\n${audit.replace(/^/gm, '  ')}\n`)
      .replace(/\nsources:\n/, `\nsources:\n  auditdb:\n    kind: postgres\n    url: ${auditUrl}\n`),
  );
}

/** A server with the config's own audit sink (not the in-memory one) and a captured log. */
async function serveWithSink(config: Config) {
  let log = '';
  const stream = new Writable({
    write(chunk, _e, cb) {
      log += String(chunk);
      cb();
    },
  });
  const rt = await createRuntime(config, { logger: createLogger('info', stream) });
  const app = await buildServer(rt);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  running.push({ app, rt });
  return { url, rt, logText: () => log };
}

/** viewgate_audit as an older viewgate made it: the first columns, and `later` ones. */
function olderAuditTable(url: string, later: string) {
  return pgExec(
    url,
    `CREATE TABLE viewgate_audit (
       id bigserial PRIMARY KEY, time timestamptz NOT NULL, request_id text NOT NULL, surface text NOT NULL,
       action text NOT NULL, subject text, role text, key_name text, view text, fields text[], filter text,
       row_count integer, decision text NOT NULL, status integer NOT NULL, latency_ms double precision, args jsonb${later})`,
  );
}

const internal = { 'X-API-Key': KEYS.internal };
const partner = { 'X-API-Key': KEYS.partner };

describe('record contents (one per request)', () => {
  it('has identity, view, fields, filter, row count, decision, status and latency', async () => {
    const srv = await startServer(referenceConfig(stores.env));
    try {
      const filter = "full_name contains 'a' and customer_id > 2";
      const r = await get(`${srv.url}/api/v2/crm/_table/customers?fields=customer_id,email&filter=${encodeURIComponent(filter)}`, partner);
      expect(r.status).toBe(200);
      expect(srv.audit.records).toHaveLength(1);
      const rec = srv.audit.records[0]!;
      expect(rec).toMatchObject({
        surface: 'rest',
        action: 'query',
        subject: 'key:partner-t2',
        identityKey: 'key:partner-t2',
        role: 'external',
        keyName: 'partner-t2',
        view: 'crm.customers',
        fields: ['customer_id', 'email'],
        rowCount: r.body.resource.length,
        decision: 'allow',
        status: 200,
        requestId: r.headers.get('x-request-id'),
      });
      expect(rec.filter).toMatch(/full_name contains 'a' and customer_id > 2/);
      expect(rec.latencyMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(rec.time)).not.toBeNaN();

      // A JWT caller: the token's subject, no key name.
      const token = await signHs256(
        srv.rt.config.auth.jwt!.secret!,
        { roles: ['llm'], tenant_id: 't1' },
        { iss: 'viewgate-demo', sub: 'agent-7' },
      );
      await get(`${srv.url}/api/v2/crm/_table/customers/3`, { Authorization: `Bearer ${token}` });
      expect(srv.audit.records[1]).toMatchObject({
        subject: 'agent-7',
        identityKey: 'jwt:viewgate-demo|agent-7',
        role: 'llm',
        keyName: undefined,
        action: 'get_row',
        view: 'crm.customers',
        rowCount: 1,
        status: 200,
      });

      // Denials and errors are audited too, one record each.
      const cases: [Record<string, string>, string, number, string][] = [
        [{}, '/crm/_table/customers', 401, 'deny'],
        [{ 'X-API-Key': 'wrong' }, '/crm/_table/customers', 401, 'deny'],
        [partner, '/app/_table/orders', 404, 'deny'],
        [partner, `/crm/_table/customers?filter=${encodeURIComponent("email = 'x'")}`, 400, 'error'],
        [internal, '/crm/_schema/customers', 200, 'allow'],
        [internal, '/crm/_table', 200, 'allow'],
      ];
      for (const [headers, path, status, decision] of cases) {
        const n = srv.audit.records.length;
        const res = await get(`${srv.url}/api/v2${path}`, headers);
        expect(res.status, path).toBe(status);
        expect(srv.audit.records.length, path).toBe(n + 1);
        expect(srv.audit.records.at(-1), path).toMatchObject({ status, decision, requestId: res.headers.get('x-request-id') });
      }
      expect(srv.audit.records.at(-4)).toMatchObject({ view: 'app.orders', role: 'external' });
    } finally {
      await srv.close();
    }
  });
});

describe('sinks', () => {
  it('file: one JSON line per request', async () => {
    const path = join(dir, 'audit.log');
    const srv = await serveWithSink(configWith(`sink: file\npath: ${path}`));
    const a = await get(`${srv.url}/api/v2/crm/_table/customers?limit=2`, partner);
    const b = await get(`${srv.url}/api/v2/crm/_table/customers`);
    await srv.rt.audit.flush();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      requestId: a.headers.get('x-request-id'),
      keyName: 'partner-t2',
      role: 'external',
      view: 'crm.customers',
      rowCount: 2,
      status: 200,
      decision: 'allow',
    });
    expect(lines[1]).toMatchObject({ requestId: b.headers.get('x-request-id'), status: 401, decision: 'deny' });
    expect(srv.rt.audit.failures).toBe(0);
  });

  it('postgres: creates viewgate_audit when missing and inserts one row per request', async () => {
    const exists = await pgExec(auditDb.url, "SELECT to_regclass('viewgate_audit') AS t");
    expect(exists.rows[0].t).toBeNull();
    const srv = await serveWithSink(configWith('sink: postgres\nsource: auditdb'));
    const a = await get(`${srv.url}/api/v2/app/_table/orders?fields=order_id&filter=${encodeURIComponent('total_amount > 400')}`, internal);
    const b = await get(`${srv.url}/api/v2/app/_table/orders`, partner);
    expect(a.status).toBe(200);
    expect(b.status).toBe(404);
    await srv.rt.audit.flush(); // failing open, an answer does not wait for its record
    const rows = (await pgExec(auditDb.url, 'SELECT * FROM viewgate_audit ORDER BY id')).rows;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      request_id: a.headers.get('x-request-id'),
      surface: 'rest',
      action: 'query',
      subject: 'key:internal-tools',
      identity_key: 'key:internal-tools',
      role: 'internal',
      key_name: 'internal-tools',
      view: 'app.orders',
      fields: ['order_id'],
      filter: 'total_amount > 400',
      row_count: a.body.resource.length,
      decision: 'allow',
      status: 200,
    });
    expect(rows[0].time).toBeInstanceOf(Date);
    expect(rows[1]).toMatchObject({
      request_id: b.headers.get('x-request-id'),
      role: 'external',
      view: 'app.orders',
      decision: 'deny',
      status: 404,
      row_count: null,
    });
    // A second server on the same table: the table exists already, rows are appended.
    const again = await serveWithSink(configWith('sink: postgres\nsource: auditdb'));
    await get(`${again.url}/api/v2/crm/_table/customers?limit=1`, internal);
    await again.rt.audit.flush();
    expect((await pgExec(auditDb.url, 'SELECT count(*)::int AS n FROM viewgate_audit')).rows[0].n).toBe(3);
  });

  it('postgres: a table made by an older viewgate (no identity_key) gets the column on first write', async () => {
    const old = await createPgDatabase('audit_old');
    try {
      await olderAuditTable(old.url, '');
      const srv = await serveWithSink(configWith('sink: postgres\nsource: auditdb', old.url));
      expect((await get(`${srv.url}/api/v2/crm/_table/customers?limit=1`, partner)).status).toBe(200);
      await srv.rt.audit.flush();
      const rows = (await pgExec(old.url, 'SELECT subject, identity_key FROM viewgate_audit')).rows;
      expect(rows).toEqual([{ subject: 'key:partner-t2', identity_key: 'key:partner-t2' }]);
    } finally {
      for (const s of running.splice(0)) {
        await s.app.close();
        await s.rt.close();
      }
      await old.drop();
    }
  });
});

describe('trace ids (telemetry configured)', () => {
  // Spans go to a port nothing listens on: exports fail, requests and records do not care.
  const traced = (audit: string, url?: string) => {
    const c = configWith(audit, url);
    return {
      ...c,
      telemetry: { otlpEndpoint: 'http://127.0.0.1:9', serviceName: 'viewgate', headers: {}, sampleRatio: 1, exportInterval: 60_000 },
    };
  };
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;

  it('file and postgres records carry the trace id the request continued; a table without trace_id gets the column', async () => {
    const path = join(dir, 'audit-traced.log');
    const file = await serveWithSink(traced(`sink: file\npath: ${path}`));
    expect((await get(`${file.url}/api/v2/crm/_table/customers?limit=1`, { ...partner, traceparent })).status).toBe(200);
    await file.rt.audit.flush();
    expect(JSON.parse(readFileSync(path, 'utf8').trim())).toMatchObject({ traceId, view: 'crm.customers' });

    const old = await createPgDatabase('audit_traced');
    try {
      // The table as the previous viewgate made it: identity_key, no trace_id.
      await olderAuditTable(old.url, ', identity_key text');
      const srv = await serveWithSink(traced('sink: postgres\nsource: auditdb', old.url));
      expect((await get(`${srv.url}/api/v2/crm/_table/customers?limit=1`, { ...partner, traceparent })).status).toBe(200);
      expect((await get(`${srv.url}/api/v2/crm/_table/customers?limit=1`, partner)).status).toBe(200);
      await srv.rt.audit.flush();
      const rows = (await pgExec(old.url, 'SELECT identity_key, trace_id FROM viewgate_audit ORDER BY id')).rows;
      expect(rows[0]).toEqual({ identity_key: 'key:partner-t2', trace_id: traceId });
      // Without a traceparent the request starts its own trace.
      expect(rows[1].trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(rows[1].trace_id).not.toBe(traceId);
    } finally {
      for (const s of running.splice(0)) {
        await s.app.close();
        await s.rt.close();
      }
      await old.drop();
    }
  });
});

describe('a failing sink is never silent', () => {
  // A real PostgreSQL sink whose database does not exist: every write fails.
  const missingDb = () => withDatabase(PG_URL, testDbName('audit_missing'));

  it('failClosed: false — the request is served, the failure is logged and counted', async () => {
    const srv = await serveWithSink(configWith('sink: postgres\nsource: auditdb\nfailClosed: false', missingDb()));
    const r = await get(`${srv.url}/api/v2/crm/_table/customers?limit=1`, internal);
    expect(r.status).toBe(200);
    const r2 = await get(`${srv.url}/api/v2/crm/_table/customers?limit=1`);
    expect(r2.status).toBe(401);
    await srv.rt.audit.flush();
    expect(srv.rt.audit.failures).toBe(2);
    const failedLines = () =>
      srv
        .logText()
        .split('\n')
        .filter((l) => l.includes('audit write failed'));
    await waitFor(() => failedLines().length >= 2, { what: 'two "audit write failed" log lines' });
    const errors = failedLines().map((l) => JSON.parse(l));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ level: 50, requestId: r.headers.get('x-request-id') });
  });

  it('failClosed: true — the request fails with 503 and no data leaves', async () => {
    const srv = await serveWithSink(configWith('sink: postgres\nsource: auditdb\nfailClosed: true', missingDb()));
    const r = await get(`${srv.url}/api/v2/crm/_table/customers?limit=1`, internal);
    expect(r.status).toBe(503);
    expect(r.body.error.message).toMatch(/audit log cannot be written/);
    expect(r.text).not.toMatch(/example\.(org|net|com)/);
    expect(srv.rt.audit.failures).toBe(1);
  });

  it('failClosed: true with a file sink that cannot be written', async () => {
    const srv = await serveWithSink(configWith(`sink: file\npath: ${join(dir, 'no-such-dir', 'audit.log')}\nfailClosed: true`));
    const r = await get(`${srv.url}/api/v2/crm/_table/customers?limit=1`, internal);
    expect(r.status).toBe(503);
    expect(srv.rt.audit.failures).toBe(1);
  });
});
