// OpenTelemetry traces end to end: a real server on the reference stores exports its spans over
// OTLP/HTTP to a receiver this test runs (node:http, decoding the exporter's JSON payloads). REST
// and MCP requests, with and without a caller's traceparent: one trace per request, the stages as
// children of the request's span, one span per store query with the statement as sent
// (placeholders, never the client's values) and its rows, and the trace id in the audit record.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { parseDocument } from 'yaml';
import {
  createReferenceStores,
  get,
  KEYS,
  REFERENCE_CONFIG,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';
import { createLogger } from '../../src/ops/logger.js';
import { waitFor } from '../support/wait.js';
import { auditFileRecords } from '../support/audit-file.js';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, string | number | boolean>;
  service: string;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };

/** An OTLP/HTTP traces endpoint: every span of every payload it was sent. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes = new Set<string>();
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.contentTypes.add(String(req.headers['content-type']));
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        this.decode(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  private decode(payload: { resourceSpans: any[] }): void {
    for (const rs of payload.resourceSpans) {
      const service = attributes(rs.resource.attributes)['service.name'] as string;
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans)
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            attributes: attributes(s.attributes ?? []),
            service,
          });
    }
  }

  inTrace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function attributes(list: OtlpAttribute[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue ?? ''));
  }
  return out;
}

let stores: ReferenceStores;
let srv: RunningServer;
let endpoint: string;
const receiver = new OtlpReceiver();
/** The server's log lines, as JSON. */
const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _e, cb) {
    for (const l of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(l) as Record<string, unknown>);
    cb();
  },
});
const internal = { 'X-API-Key': KEYS.internal };

beforeAll(async () => {
  stores = await createReferenceStores('otel');
  endpoint = await receiver.start();
  srv = await startServer(
    referenceConfig(stores.env, (yaml) => {
      const doc = parseDocument(yaml);
      doc.set('telemetry', { otlpEndpoint: endpoint, serviceName: 'viewgate-test', exportInterval: '50ms' });
      // A store nobody answers for: its requests fail with 503, and the gateway logs why.
      doc.setIn(['sources', 'down'], { kind: 'postgres', url: 'postgres://viewgate@127.0.0.1:1/none', timeout: '1s' });
      doc.setIn(['services', 'down'], { source: 'down', tables: ['things'] });
      return doc.toString();
    }),
    { logger: createLogger('info', logStream) },
  );
});

afterAll(async () => {
  await srv?.close();
  await receiver.stop();
  await stores?.drop();
});

/** The spans of one trace once its root span (the request's) has arrived. */
async function traceOf(traceId: string): Promise<{ root: ReceivedSpan; spans: ReceivedSpan[] }> {
  await srv.rt.telemetry!.flush();
  const root = await waitFor(() => receiver.inTrace(traceId).find((s) => s.attributes['viewgate.request_id'] !== undefined), {
    what: `the spans of trace ${traceId}`,
  });
  return { root, spans: receiver.inTrace(traceId) };
}

/** The audit record of a request, by its request id. */
async function auditRecord(requestId: string) {
  await srv.rt.audit.flush();
  return srv.audit.records.find((r) => r.requestId === requestId);
}

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');

describe('REST', () => {
  it("continues the caller's traceparent: stages as children of the request span, store spans with placeholders and rows", async () => {
    const traceId = hex(32);
    const callerSpan = hex(16);
    const filter = "status = 'paid' and total_amount >= 100";
    const r = await get(`${srv.url}/api/v2/app/_table/orders?filter=${encodeURIComponent(filter)}&order=order_id`, {
      ...internal,
      traceparent: `00-${traceId}-${callerSpan}-01`,
    });
    expect(r.status).toBe(200);
    const rows = r.body.resource as unknown[];
    expect(rows.length).toBeGreaterThan(0);

    const { root, spans } = await traceOf(traceId);
    expect(root.parentSpanId).toBe(callerSpan);
    expect(root.name).toBe('rest query');
    expect(root.service).toBe('viewgate-test');
    expect(root.attributes).toMatchObject({
      'viewgate.surface': 'rest',
      'viewgate.request_id': r.headers.get('x-request-id'),
      'viewgate.view': 'app.orders',
      'viewgate.status': 200,
    });
    const children = spans.filter((s) => s.parentSpanId === root.spanId).map((s) => s.name);
    for (const stage of ['authenticate', 'parse', 'authorize', 'govern', 'engine', 'present', 'audit']) expect(children).toContain(stage);

    const engine = spans.find((s) => s.name === 'engine' && s.parentSpanId === root.spanId)!;
    const scan = spans.find((s) => s.name === 'scan app' && s.parentSpanId === engine.spanId);
    expect(scan, JSON.stringify(spans.map((s) => s.name))).toBeDefined();
    expect(scan!.attributes['db.system']).toBe('postgresql');
    expect(scan!.attributes['db.operation']).toBe('scan');
    const statement = String(scan!.attributes['db.statement']);
    expect(statement).toMatch(/^SELECT .* FROM "public"\."orders" WHERE .*\$1/);
    expect(statement).not.toContain('paid');
    expect(statement).not.toContain('100');
    expect(scan!.attributes['db.response.returned_rows']).toBe(rows.length);

    expect((await auditRecord(root.attributes['viewgate.request_id'] as string))?.traceId).toBe(traceId);
  });

  it('starts a new trace without traceparent, and a MySQL query is traced as mysql', async () => {
    const r = await get(`${srv.url}/api/v2/crm/_table/customers?filter=${encodeURIComponent("email like 'ada%'")}`, internal);
    expect(r.status).toBe(200);
    const record = await auditRecord(r.headers.get('x-request-id')!);
    expect(record?.traceId).toMatch(/^[0-9a-f]{32}$/);
    const { root, spans } = await traceOf(record!.traceId!);
    expect(root.parentSpanId).toBe('');
    const scan = spans.find((s) => s.name === 'scan crm')!;
    expect(scan.attributes['db.system']).toBe('mysql');
    expect(String(scan.attributes['db.statement'])).toContain('?');
    expect(String(scan.attributes['db.statement'])).not.toContain('ada');
    expect(scan.attributes['db.response.returned_rows']).toBe(r.body.resource.length);
  });

  it('marks a refused request on its span and still records the trace id', async () => {
    const traceId = hex(32);
    const r = await get(`${srv.url}/api/v2/app/_table/orders?filter=${encodeURIComponent('nope = 1')}`, {
      ...internal,
      traceparent: `00-${traceId}-${hex(16)}-01`,
    });
    expect(r.status).toBe(400);
    const { root, spans } = await traceOf(traceId);
    expect(root.attributes['viewgate.status']).toBe(400);
    expect(spans.some((s) => s.name.startsWith('scan '))).toBe(false);
    expect((await auditRecord(r.headers.get('x-request-id')!))?.traceId).toBe(traceId);
  });

  it("puts the trace id on the gateway's log lines of the request, and marks a failed store round trip", async () => {
    const traceId = hex(32);
    const r = await get(`${srv.url}/api/v2/down/_table/things`, { ...internal, traceparent: `00-${traceId}-${hex(16)}-01` });
    expect(r.status).toBe(503);
    const requestId = r.headers.get('x-request-id');
    const line = await waitFor(() => logLines.find((l) => l.requestId === requestId && l.store === 'down'), { what: 'the log line' });
    expect(line.traceId).toBe(traceId);
    const { root, spans } = await traceOf(traceId);
    expect(root.attributes['viewgate.status']).toBe(503);
    expect(spans.some((s) => s.name === 'introspect down' && s.attributes['db.system'] === 'postgresql')).toBe(true);
  });

  it('ignores a malformed traceparent: a new trace', async () => {
    const r = await get(`${srv.url}/api/v2/app/_table/orders?limit=1`, { ...internal, traceparent: 'not-a-traceparent' });
    expect(r.status).toBe(200);
    const record = await auditRecord(r.headers.get('x-request-id')!);
    const { root } = await traceOf(record!.traceId!);
    expect(root.parentSpanId).toBe('');
  });
});

describe('MCP over HTTP', () => {
  it('traces each tool call as one trace continuing the traceparent of its HTTP request', async () => {
    const traceId = hex(32);
    const callerSpan = hex(16);
    const client = new Client({ name: 'otel-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    const headers = { ...internal, traceparent: `00-${traceId}-${callerSpan}-01` };
    await client.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers } }));
    try {
      const r = await client.callTool({
        name: 'query_view',
        arguments: { view: 'analytics.events', filter: "event_type = 'buy'", limit: 5 },
      });
      expect(r.isError).toBeFalsy();
      const rows = (r.structuredContent as { rows: unknown[] }).rows;
      expect(rows.length).toBeGreaterThan(0);
      await srv.rt.telemetry!.flush();
      const root = await waitFor(() => receiver.inTrace(traceId).find((s) => s.name === 'mcp query_view'), { what: 'the tool call span' });
      expect(root.parentSpanId).toBe(callerSpan);
      expect(root.attributes['viewgate.surface']).toBe('mcp');
      const spans = receiver.inTrace(traceId);
      const scan = spans.find((s) => s.name === 'scan analytics')!;
      expect(scan.attributes['db.system']).toBe('mongodb');
      const statement = String(scan.attributes['db.statement']);
      expect(statement).toContain('db.events.find(');
      expect(statement).not.toContain('buy');
      expect(statement).toContain('?');
      expect(scan.attributes['db.response.returned_rows']).toBeGreaterThanOrEqual(rows.length);
      const record = srv.audit.records.find((a) => a.action === 'query_view' && a.traceId === traceId);
      expect(record?.view).toBe('analytics.events');
    } finally {
      await client.close();
    }
  });
});

describe('MCP over stdio', () => {
  it('traces each tool call of a `viewgate mcp` process, with the trace id in its audit record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-otel-stdio-'));
    try {
      const auditFile = join(dir, 'audit.log');
      const config = join(dir, 'viewgate.yaml');
      const doc = parseDocument(readFileSync(REFERENCE_CONFIG, 'utf8'));
      doc.set('audit', { sink: 'file', path: auditFile });
      doc.set('telemetry', { otlpEndpoint: endpoint, serviceName: 'viewgate-stdio', exportInterval: '50ms' });
      writeFileSync(config, doc.toString());
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [new URL('../../bin/viewgate.js', import.meta.url).pathname, 'mcp', '--config', config],
        env: { ...(process.env as Record<string, string>), ...stores.env, VIEWGATE_API_KEY: KEYS.internal },
        stderr: 'pipe',
      });
      const client = new Client({ name: 'otel-stdio-test', version: '1.0.0' });
      await client.connect(transport);
      const r = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', filter: "tenant_id = 't1'", limit: 2 } });
      expect(r.isError).toBeFalsy();
      await client.close(); // stdin closes: the process flushes its spans and audit records, then exits
      const root = await waitFor(() => receiver.spans.find((s) => s.service === 'viewgate-stdio' && s.name === 'mcp query_view'), {
        what: 'the stdio tool call span',
      });
      expect(root.parentSpanId).toBe('');
      const scan = receiver.inTrace(root.traceId).find((s) => s.name === 'scan crm')!;
      expect(scan.attributes['db.system']).toBe('mysql');
      expect(String(scan.attributes['db.statement'])).not.toContain('t1');
      const lines = auditFileRecords<{ action: string; traceId?: string }>(auditFile);
      expect(lines.find((l) => l.action === 'query_view')?.traceId).toBe(root.traceId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the exporter', () => {
  it('sends OTLP JSON to /v1/traces', () => {
    expect([...receiver.contentTypes]).toEqual(['application/json']);
  });
});
