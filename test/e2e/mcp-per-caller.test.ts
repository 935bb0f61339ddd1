// What an MCP client is told, per caller, through a real SDK client over HTTP: the tool input
// schemas' bounds, describe_view's example call (built from a row the caller may read, so it
// returns rows), and prompts that mention only columns the caller may read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { SignJWT } from 'jose';
import {
  createReferenceStores,
  KEYS,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';

let stores: ReferenceStores;
let srv: RunningServer;

// One more role, granted only crm.customers, for the prompt that names another view.
const CRM_ONLY_ROLE = `
  crm_only:
    grants:
      crm.customers: { read: true }
`;

beforeAll(async () => {
  stores = await createReferenceStores('mcpcaller');
  srv = await startServer(referenceConfig(stores.env, (yaml) => `${yaml.trimEnd()}\n${CRM_ONLY_ROLE}`));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

async function connect(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'viewgate-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers } }));
  return client;
}

async function bearer(claims: Record<string, unknown>): Promise<Record<string, string>> {
  const jwt = srv.rt.config.auth.jwt!;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('mcp-per-caller')
    .setIssuer(jwt.issuer!)
    .setAudience(jwt.audience as string)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(jwt.secret!));
  return { authorization: `Bearer ${token}` };
}

async function withClient<T>(headers: Record<string, string>, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await connect(headers);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

const text = (r: any): string => r.content.map((c: any) => c.text).join('\n');

describe('tool input schemas', () => {
  it('query_view says limit is an integer of at least 1 and offset an integer of at least 0', async () => {
    await withClient({ 'x-api-key': KEYS.internal }, async (c) => {
      const { tools } = await c.listTools();
      const props = tools.find((t) => t.name === 'query_view')!.inputSchema.properties as Record<string, any>;
      expect(props.limit).toMatchObject({ type: 'integer', minimum: 1 });
      expect(props.offset).toMatchObject({ type: 'integer', minimum: 0 });

      const zero = await c.callTool({ name: 'query_view', arguments: { view: 'crm.customers', limit: 0 } });
      expect(zero.isError).toBe(true);
      expect(text(zero)).toContain('limit is 1 or more');
      const negative = await c.callTool({ name: 'query_view', arguments: { view: 'crm.customers', offset: -1 } });
      expect(negative.isError).toBe(true);
      expect(text(negative)).toContain('offset is 0 or more');
    });
  });
});

describe("describe_view's example call", () => {
  const callers: [string, () => Promise<Record<string, string>>][] = [
    ['internal', async () => ({ 'x-api-key': KEYS.internal })],
    ['partner (masked email, tenant t2)', async () => ({ 'x-api-key': KEYS.partner })],
    ['llm (restricted fields, tenant t1)', async () => ({ 'x-api-key': KEYS.llm })],
  ];

  it.each(callers)('uses a value the %s caller can read, so running it returns rows', async (_name, headers) => {
    await withClient(await headers(), async (c) => {
      const { tools } = await c.listTools();
      expect(tools.length).toBeGreaterThan(0);
      const views = (await c.callTool({ name: 'list_views', arguments: {} })).structuredContent as any;
      expect(views.views.length).toBeGreaterThan(0);
      for (const { name } of views.views) {
        const d = (await c.callTool({ name: 'describe_view', arguments: { view: name } })).structuredContent as any;
        const args = d.example.arguments;
        expect(typeof args.filter, `${name}: ${JSON.stringify(args)}`).toBe('string');
        const column = /^"?([A-Za-z_][\w]*)"?\s*=/.exec(args.filter)![1]!;
        const described = d.columns.find((col: any) => col.name === column);
        expect(described, `${name}: the example filters on a column of the caller's schema`).toMatchObject({
          masked: false,
          filterable: true,
        });
        const r = await c.callTool({ name: 'query_view', arguments: args });
        expect(r.isError, text(r)).toBeFalsy();
        expect((r.structuredContent as any).rows.length, `${name}: ${JSON.stringify(args)}`).toBeGreaterThan(0);
      }
    });
  });

  it('has no filter when the caller can read no row of the view', async () => {
    await withClient(await bearer({ roles: ['llm'], tenant_id: 'no-such-tenant' }), async (c) => {
      const d = (await c.callTool({ name: 'describe_view', arguments: { view: 'crm.customers' } })).structuredContent as any;
      expect(d.example.arguments).not.toHaveProperty('filter');
      const r = await c.callTool({ name: 'query_view', arguments: d.example.arguments });
      expect(r.isError, text(r)).toBeFalsy();
    });
  });

  it('is the same in the view resource', async () => {
    await withClient({ 'x-api-key': KEYS.llm }, async (c) => {
      const res = await c.readResource({ uri: 'viewgate://views/crm.customers' });
      const schema = JSON.parse((res.contents[0] as any).text);
      const r = await c.callTool({ name: 'query_view', arguments: schema.example.arguments });
      expect(schema.example.arguments.filter).toEqual(expect.any(String));
      expect((r.structuredContent as any).rows.length).toBeGreaterThan(0);
    });
  });
});

describe('prompts are rendered per caller', () => {
  // Columns of federation.unified_customer_activity the llm role may not read (its grant lists fields).
  const HIDDEN_FROM_LLM = /\b(event_id|email|tenant_id)\b/;

  it('customer-activity-summary never mentions a column the llm role cannot read', async () => {
    const llm = await withClient({ 'x-api-key': KEYS.llm }, async (c) => {
      const d = (await c.callTool({ name: 'describe_view', arguments: { view: 'federation.unified_customer_activity' } }))
        .structuredContent as any;
      expect(d.columns.map((col: any) => col.name)).not.toContain('event_id');
      return (await c.getPrompt({ name: 'customer-activity-summary', arguments: { customer_id: '4', since: '2024-01-01' } })).messages[0]!
        .content as any;
    });
    expect(llm.text).not.toMatch(HIDDEN_FROM_LLM);
    expect(llm.text).toContain('distinct `order_id`');
    expect(llm.text).toContain("event_ts >= '2024-01-01'");
    expect(llm.text).toContain('`[customer_id, order_id]`');
  });

  it('the internal role, which reads every column, gets the full text', async () => {
    const internal = await withClient(
      { 'x-api-key': KEYS.internal },
      async (c) => (await c.getPrompt({ name: 'customer-activity-summary', arguments: { customer_id: '4' } })).messages[0]!.content as any,
    );
    expect(internal.text).toContain('distinct\n  `event_id` values');
    expect(internal.text).toContain('`[customer_id, order_id, event_id]`');
    expect(internal.text).not.toContain('{{');
  });

  it('a prompt about a view the caller cannot read is not offered', async () => {
    await withClient(await bearer({ roles: ['crm_only'] }), async (c) => {
      const { prompts } = await c.listPrompts();
      expect(prompts.map((p) => p.name)).not.toContain('customer-activity-summary');
      expect(prompts.map((p) => p.name)).toContain('explore-a-view');
      await expect(c.getPrompt({ name: 'customer-activity-summary', arguments: { customer_id: '4' } })).rejects.toThrow();
    });
  });
});

describe('callers with different grants, served side by side by one process', () => {
  // The tool, prompt and resource definitions share schemas built once per process; what each
  // caller is offered must still be its own, whichever caller came first.
  it('each sees its own views, resources and prompts, and the same tool schemas', async () => {
    const internal = await connect({ 'x-api-key': KEYS.internal });
    const crmOnly = await connect(await bearer({ roles: ['crm_only'] }));
    try {
      const seen = async (c: Client) => ({
        tools: (await c.listTools()).tools,
        views: ((await c.callTool({ name: 'list_views', arguments: {} })).structuredContent as any).views.map((v: any) => v.name),
        resources: (await c.listResources()).resources.map((r) => r.uri),
        prompts: (await c.listPrompts()).prompts.map((p) => p.name),
      });
      // Interleaved, twice: the second round must see what the first did.
      const rounds = [];
      for (let i = 0; i < 2; i++) rounds.push(await Promise.all([seen(crmOnly), seen(internal)]));
      const [[crm1, int1], [crm2, int2]] = rounds as [[any, any], [any, any]];
      expect(crm2).toEqual(crm1);
      expect(int2).toEqual(int1);

      expect(crm1.views).toEqual(['crm.customers']);
      expect(crm1.resources).toEqual(['viewgate://views/crm.customers']);
      expect(int1.views).toEqual(expect.arrayContaining(['crm.customers', 'federation.unified_customer_activity']));
      expect(int1.resources).toEqual(int1.views.map((v: string) => `viewgate://views/${v}`));
      expect(crm1.prompts).not.toContain('customer-activity-summary');
      expect(int1.prompts).toContain('customer-activity-summary');
      // The tools both are offered have the same schemas; internal's grants offer it more tools.
      for (const t of crm1.tools) {
        const same = int1.tools.find((u: any) => u.name === t.name);
        expect(same, t.name).toBeDefined();
        expect({ input: same.inputSchema, output: same.outputSchema }, t.name).toEqual({ input: t.inputSchema, output: t.outputSchema });
      }
      expect(crm1.tools.length).toBeGreaterThan(0);

      const refused = await crmOnly.callTool({ name: 'query_view', arguments: { view: 'federation.unified_customer_activity', limit: 1 } });
      expect(refused.isError).toBe(true);
      const allowed = await internal.callTool({
        name: 'query_view',
        arguments: { view: 'federation.unified_customer_activity', limit: 1 },
      });
      expect(allowed.isError, text(allowed)).toBeFalsy();
      await expect(crmOnly.readResource({ uri: 'viewgate://views/federation.unified_customer_activity' })).rejects.toThrow();
      expect((await internal.readResource({ uri: 'viewgate://views/federation.unified_customer_activity' })).contents).toHaveLength(1);
    } finally {
      await Promise.all([internal.close(), crmOnly.close()]);
    }
  });
});
