// Real MCP clients against viewgate: the v2 client (2026-07-28 negotiation and the 2025 handshake)
// and the 1.x @modelcontextprotocol/sdk client, each over stdio (`viewgate mcp` as a child process)
// and over Streamable HTTP (`/mcp` on a running server). Every combination must list, describe and
// query the reference views and give exactly the rows REST gives the same identity.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { StdioClientTransport as V2Stdio } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport as V1Stdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  createReferenceStores,
  get,
  INTERNAL_TOOLS,
  KEYS,
  REFERENCE_CONFIG,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';
import { waitFor } from '../support/wait.js';

const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;

/** The part of a client the tests use; both SDK generations have this shape. */
interface Mcp {
  listTools(): Promise<{ tools: any[] }>;
  callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<any>;
  listResources(): Promise<{ resources: any[] }>;
  readResource(p: { uri: string }): Promise<{ contents: any[] }>;
  listPrompts(): Promise<{ prompts: any[] }>;
  getPrompt(p: { name: string; arguments?: Record<string, string> }): Promise<any>;
  close(): Promise<void>;
}

interface Connection {
  client: Mcp;
  /** What the stdio server wrote to stderr so far (logs and audit); empty over HTTP. */
  stderr(): string;
}

type Transport = 'stdio' | 'http';
type Flavour = 'v2 (2026-07-28)' | 'v2 (2025 handshake)' | 'v1 sdk';

let stores: ReferenceStores;
let srv: RunningServer;

beforeAll(async () => {
  stores = await createReferenceStores('mcpio');
  srv = await startServer(referenceConfig(stores.env));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

async function open(flavour: Flavour, transport: Transport, key: string): Promise<Connection> {
  const info = { name: 'viewgate-interop', version: '1.0.0' };
  let err = '';
  let t: any;
  if (transport === 'http') {
    const url = new URL(`${srv.url}/mcp`);
    const requestInit = { headers: { 'X-API-Key': key } };
    t = flavour === 'v1 sdk' ? new V1Http(url, { requestInit }) : new V2Http(url, { requestInit });
  } else {
    // Started as a desktop assistant's entry from `viewgate mcp-config` starts it: node and the bin
    // by absolute path, from / (test/e2e/mcp-config.test.ts). Not `npx viewgate`: npx installs the
    // checkout into its cache first, and concurrent starts race on that cache.
    const params = {
      command: process.execPath,
      args: [BIN, 'mcp', '--config', REFERENCE_CONFIG],
      cwd: '/',
      env: { ...(process.env as Record<string, string>), ...stores.env, VIEWGATE_API_KEY: key },
      stderr: 'pipe' as const,
    };
    t = flavour === 'v1 sdk' ? new V1Stdio(params) : new V2Stdio(params);
    t.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  }
  const client: any =
    flavour === 'v1 sdk'
      ? new V1Client(info)
      : new V2Client(info, flavour === 'v2 (2026-07-28)' ? { versionNegotiation: { mode: 'auto' } } : {});
  await client.connect(t);
  return { client, stderr: () => err };
}

function text(result: any): string {
  return result.content.map((c: any) => c.text).join('\n');
}

const FLAVOURS: Flavour[] = ['v2 (2026-07-28)', 'v2 (2025 handshake)', 'v1 sdk'];
const TRANSPORTS: Transport[] = ['stdio', 'http'];

describe.each(TRANSPORTS.flatMap((t) => FLAVOURS.map((f) => [f, t] as const)))('%s client over %s', (flavour, transport) => {
  let internal: Connection;
  let partner: Connection;

  beforeAll(async () => {
    [internal, partner] = await Promise.all([open(flavour, transport, KEYS.internal), open(flavour, transport, KEYS.partner)]);
  });
  afterAll(async () => {
    await Promise.all([internal?.client.close(), partner?.client.close()]);
  });

  it('negotiates the protocol revision the client asked for', async () => {
    const c = internal.client as any;
    if (flavour === 'v1 sdk') expect(c.getServerVersion()).toMatchObject({ name: 'viewgate' });
    else {
      expect(c.getProtocolEra()).toBe(flavour === 'v2 (2026-07-28)' ? 'modern' : 'legacy');
      if (flavour === 'v2 (2026-07-28)') expect(c.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    }
    expect(c.getInstructions()).toContain('untrusted');
  });

  it("lists the read-only tools the caller's grants allow, with the reference scenario's curated tools", async () => {
    const { tools } = await internal.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(INTERNAL_TOOLS);
    const partnerTools = (await partner.client.listTools()).tools.map((t) => t.name).sort();
    expect(partnerTools).toEqual([
      'activity_by_event_type',
      'aggregate_view',
      'describe_view',
      'list_views',
      'query_view',
      'recent_events',
    ]);
    // export_view makes a new export resource on every call: read-only, but not idempotent.
    for (const t of tools)
      expect(t.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: t.name !== 'export_view',
        openWorldHint: false,
      });
  });

  it('lists only the views the caller may read', async () => {
    const all = await internal.client.callTool({ name: 'list_views', arguments: {} });
    expect(all.structuredContent.views.map((v: any) => v.name).sort()).toEqual([
      'analytics.events',
      'app.orders',
      'crm.customers',
      'federation.unified_customer_activity',
    ]);
    const some = await partner.client.callTool({ name: 'list_views', arguments: {} });
    expect(some.structuredContent).toEqual({
      views: [
        {
          name: 'federation.unified_customer_activity',
          description: 'Customers joined with their orders and product events (one row per order x event).',
        },
        { name: 'crm.customers', description: 'Customers from the CRM (MySQL).' },
      ],
    });
    expect(text(some)).toContain('crm.customers');
  });

  it('describes a view', async () => {
    const d = await partner.client.callTool({ name: 'describe_view', arguments: { view: 'crm.customers' } });
    expect(d.isError).toBeFalsy();
    expect(d.structuredContent.key).toEqual(['customer_id']);
    expect(d.structuredContent.columns.find((c: any) => c.name === 'email')).toMatchObject({ masked: true, filterable: false });
    expect(text(d)).toContain('email (text, masked for your role, not filterable)');
  });

  it('gives the same rows as REST for the same identity and query', async () => {
    // [view, tool arguments, the same query as a REST filter string]
    const cases: [string, Record<string, unknown>, string][] = [
      [
        'app.orders',
        { filter: "total_amount >= 100 and status in ('paid','shipped')", order: 'total_amount desc', limit: 5 },
        "total_amount >= 100 and status in ('paid','shipped')",
      ],
      [
        'analytics.events',
        {
          fields: ['_id', 'user_id', 'event_type', 'sku'],
          filter: { field: 'event_type', op: 'in', value: ['view', 'search'] },
          order: ['ts desc'],
          limit: 7,
          offset: 2,
        },
        "event_type in ('view','search')",
      ],
      [
        'crm.customers',
        {
          fields: 'customer_id, email, full_name',
          filter: { and: [{ field: 'customer_id', op: 'gte', value: 3 }, { not: { field: 'full_name', op: 'starts_with', value: 'E' } }] },
        },
        "customer_id >= 3 and not (full_name starts with 'E')",
      ],
    ];
    for (const [view, args, restFilter] of cases) {
      for (const [conn, key] of [
        [internal, KEYS.internal],
        [partner, KEYS.partner],
      ] as const) {
        const r = await conn.client.callTool({ name: 'query_view', arguments: { view, ...args } });
        const qs = new URLSearchParams({ filter: restFilter });
        if (args.fields) qs.set('fields', Array.isArray(args.fields) ? args.fields.join(',') : String(args.fields));
        if (args.order) qs.set('order', Array.isArray(args.order) ? args.order.join(',') : String(args.order));
        if (args.limit) qs.set('limit', String(args.limit));
        if (args.offset) qs.set('offset', String(args.offset));
        const rest = await get(`${srv.url}/api/v2/${view.replace('.', '/_table/')}?${qs}`, { 'X-API-Key': key });
        if (rest.status === 404) {
          expect(r.isError, `${view} for the partner`).toBe(true);
          continue;
        }
        expect(r.isError, text(r)).toBeFalsy();
        expect(r.structuredContent.rows, `${view} ${JSON.stringify(args)}`).toEqual(rest.body.resource);
        expect(r.structuredContent.returned).toBe(rest.body.resource.length);
        expect(r.structuredContent.truncated).toBe(rest.body.meta.next !== undefined);
        expect(r.structuredContent.next_offset).toBe(rest.body.meta.next ?? null);
        expect(text(r)).toContain(`<untrusted-data view="${view}">`);
      }
    }
  });

  it('keeps a partner to its tenant with masked e-mails', async () => {
    const r = await partner.client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', filter: "tenant_id = 't3'" } });
    expect(r.structuredContent.rows).toEqual([]);
    const mine = await partner.client.callTool({ name: 'query_view', arguments: { view: 'crm.customers' } });
    expect(mine.structuredContent.rows.length).toBe(6);
    for (const row of mine.structuredContent.rows) {
      expect(row.tenant_id).toBe('t2');
      expect(row.email).toMatch(/^.\*\*\*@example\.org$/);
    }
  });

  it('answers errors as isError results', async () => {
    const r = await internal.client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', order: 'nope desc' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('Sortable fields of crm.customers');
  });

  it('lists and reads the view schemas as resources', async () => {
    const { resources } = await partner.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual([
      'viewgate://views/federation.unified_customer_activity',
      'viewgate://views/crm.customers',
    ]);
    const { contents } = await partner.client.readResource({ uri: 'viewgate://views/crm.customers' });
    const schema = JSON.parse(contents[0].text);
    expect(schema).toMatchObject({ view: 'crm.customers', key: ['customer_id'], max_limit: 100 });
    expect(contents[0].mimeType).toBe('application/json');
    const all = await internal.client.listResources();
    expect(all.resources.map((r) => r.uri).sort()).toEqual([
      'viewgate://views/analytics.events',
      'viewgate://views/app.orders',
      'viewgate://views/crm.customers',
      'viewgate://views/federation.unified_customer_activity',
    ]);
  });

  it('lists the prompts and renders them with their arguments', async () => {
    const { prompts } = await internal.client.listPrompts();
    const names = prompts.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['explore-a-view', 'answer-with-citations', 'customer-activity-summary']));
    // The customer-activity prompt names federation.unified_customer_activity: it is offered only
    // to callers who can read that view, and warns that the view repeats an order once per event.
    const summary = await internal.client.getPrompt({ name: 'customer-activity-summary', arguments: { customer_id: '4' } });
    expect(summary.messages[0].content.text).toMatch(/distinct/i);
    const noCrm = await partner.client.listPrompts();
    expect(noCrm.prompts.map((p) => p.name)).toContain('customer-activity-summary');
    expect(prompts.find((p) => p.name === 'explore-a-view').arguments).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'view', required: true })]),
    );
    const p = await internal.client.getPrompt({ name: 'explore-a-view', arguments: { view: 'app.orders' } });
    expect(p.messages[0].content.text).toContain('`app.orders`');
    expect(p.messages[0].content.text).not.toContain('Concentrate on');
  });

  if (transport === 'stdio') {
    it('writes logs and audit records to stderr, never stdout', async () => {
      const auditRecords = () =>
        internal
          .stderr()
          .split('\n')
          .filter((l) => l.startsWith('{"audit"'))
          .map((l) => JSON.parse(l).audit);
      // A filter no other call of this file sends: records are written in batches, so an earlier
      // call's record may reach stderr after this one was made.
      const args = { view: 'crm.customers', fields: ['customer_id'], filter: 'customer_id >= 0', limit: 1 };
      await internal.client.callTool({ name: 'query_view', arguments: args });
      const record = await waitFor(() => auditRecords().find((a: any) => a.action === 'query_view' && a.args?.filter === args.filter), {
        what: 'the audit record of the query_view call on stderr',
      });
      expect(record).toMatchObject({ surface: 'mcp', subject: 'key:internal-tools', view: 'crm.customers', rowCount: 1, args });
    });
  }
});

// Three processes one after the other: a generous deadline for a loaded machine.
describe('viewgate mcp (stdio) start-up', { timeout: 120_000 }, () => {
  async function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [BIN, 'mcp', '--config', REFERENCE_CONFIG], {
      env: { ...(process.env as Record<string, string>), ...stores.env, VIEWGATE_API_KEY: '', VIEWGATE_TOKEN: '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    // It keeps serving the reason over MCP (mcp-failed-start.test.ts) until its client goes away.
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stdout).toBe('');
    return { code, stderr };
  }

  it('exits non-zero with a clear message on stderr for a bad credential or none, once stdin closes', async () => {
    const bad = await run({ VIEWGATE_API_KEY: 'wrong' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('VIEWGATE_API_KEY was refused: the API key is not valid');
    const badToken = await run({ VIEWGATE_TOKEN: 'not.a.jwt' });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain('VIEWGATE_TOKEN was refused: the token is malformed');
    const none = await run({});
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('set VIEWGATE_API_KEY');
  });
});
