// MCP context economy over real HTTP with the real SDK client, on a real PostgreSQL table:
// export_view writes the governed result to viewgate://exports/{id} for the caller's identity key
// alone (API keys and tenant tokens), with expiry and a bounded store; query_view's text does not
// repeat the rows; list_views pages; completion offers only readable views.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { type RunningServer } from '../support/reference.js';
import {
  createExpStore,
  keyHeader,
  MANY_VIEWS,
  mcpClient,
  startExpServer,
  tenantToken,
  type ExpKey,
  type ExpStore,
} from '../support/exports.js';

let store: ExpStore;
let srv: RunningServer;
let small: RunningServer;
let clock = Date.now();

beforeAll(async () => {
  store = await createExpStore('mcpexp');
  srv = await startExpServer(store, { exports: { now: () => clock } });
  small = await startExpServer(store, { exports: { maxEntries: 2 } });
});

afterAll(async () => {
  await srv?.close();
  await small?.close();
  await store?.drop();
});

const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

async function as(who: ExpKey | { token: string }, server = srv): Promise<Client> {
  const headers = typeof who === 'string' ? keyHeader(who) : { authorization: `Bearer ${who.token}` };
  const c = await mcpClient(server.url, headers);
  clients.push(c);
  return c;
}

const text = (r: any): string =>
  r.content
    .filter((c: any) => c.type === 'text')
    .map((c: any) => c.text)
    .join('\n');

async function exportRows(c: Client, args: Record<string, unknown>): Promise<any> {
  const r: any = await c.callTool({ name: 'export_view', arguments: { view: 'exp.exp_items', ...args } });
  expect(r.isError, text(r)).toBeFalsy();
  return r;
}

/** The error a read gives, with the id in it replaced, so reads of different ids compare. */
async function readError(c: Client, uri: string): Promise<string> {
  const err: any = await c.readResource({ uri }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `${uri} should not be readable`).toBeDefined();
  return `${err.code} ${String(err.message)
    .split(uri.slice(uri.lastIndexOf('/') + 1))
    .join('<id>')}`;
}

const freshUri = () => `viewgate://exports/${randomBytes(18).toString('base64url')}`;

describe('export_view', () => {
  it('returns a resource_link and one text line instead of the rows; the resource holds the governed CSV', async () => {
    const a = await as('a');
    const r = await exportRows(a, { format: 'csv', fields: 'id,label,email,big', filter: 'id <= 3' });
    const link = r.content.find((c: any) => c.type === 'resource_link');
    expect(link).toMatchObject({ mimeType: 'text/csv', name: 'exp.exp_items.csv' });
    expect(link.uri).toMatch(/^viewgate:\/\/exports\/[A-Za-z0-9_-]{24}$/);
    expect(text(r)).toMatch(/^Exported 3 rows of exp\.exp_items as CSV \(\d+ bytes\) to viewgate:\/\/exports\//);
    expect(text(r)).not.toContain('plain'); // no row in the context
    expect(r.structuredContent).toMatchObject({ uri: link.uri, rows: 3, truncated: false, max_rows: 8 });

    const read = await a.readResource({ uri: link.uri });
    expect(read.contents[0]).toMatchObject({ uri: link.uri, mimeType: 'text/csv' });
    expect((read.contents[0] as any).text).toBe(
      'id,label,email,big\r\n1,plain,a***@x.org,9007199254740993\r\n2,"has,comma",b***@x.org,-9223372036854775808\r\n3,"say ""hi""",,0\r\n',
    );
  });

  it('writes JSON Lines; the row budget caps it and says so', async () => {
    const a = await as('a');
    const r = await exportRows(a, { format: 'jsonl', fields: ['id'], order: 'id desc' });
    expect(r.structuredContent).toMatchObject({ rows: 8, truncated: true, max_rows: 8, mimeType: 'application/x-ndjson' });
    expect(text(r)).toContain('an export holds at most 8 rows');
    const read = await a.readResource({ uri: r.structuredContent.uri });
    expect((read.contents[0] as any).text).toBe([10, 9, 8, 7, 6, 5, 4, 3].map((id) => `{"id":${id}}\n`).join(''));
  });

  it("honours the grant's maxExportRows", async () => {
    const c = await as('capped');
    const r = await exportRows(c, { format: 'jsonl', fields: 'id' });
    expect(r.structuredContent).toMatchObject({ rows: 3, truncated: true, max_rows: 3 });
  });

  it('applies the policy: hidden fields are unknown, masked ones not filterable', async () => {
    const a = await as('a');
    const hidden: any = await a.callTool({ name: 'export_view', arguments: { view: 'exp.exp_items', format: 'csv', fields: 'secret' } });
    expect(hidden.isError).toBe(true);
    expect(text(hidden)).toContain('Error 400');
    const masked: any = await a.callTool({
      name: 'export_view',
      arguments: { view: 'exp.exp_items', format: 'csv', filter: "email = 'ann@x.org'" },
    });
    expect(masked.isError).toBe(true);
    expect(text(masked)).toContain('masked');
  });

  it('is neither listed nor callable without a grant with export: true', async () => {
    const reader = await as('reader');
    const { tools } = await reader.listTools();
    expect(tools.map((t) => t.name)).not.toContain('export_view');
    await expect(reader.callTool({ name: 'export_view', arguments: { view: 'exp.exp_items', format: 'csv' } })).rejects.toThrow(
      /export_view not found/,
    );
    const a = await as('a');
    expect((await a.listTools()).tools.map((t) => t.name)).toContain('export_view');
  });

  it('is audited like any request', async () => {
    const a = await as('a');
    const r = await exportRows(a, { format: 'csv', fields: 'id', filter: 'id = 2' });
    const rec = srv.audit.records.filter((x) => x.action === 'export_view').at(-1)!;
    expect(rec).toMatchObject({ surface: 'mcp', view: 'exp.exp_items', rowCount: 1, status: 200, identityKey: 'key:a' });
    await a.readResource({ uri: r.structuredContent.uri });
    const read = srv.audit.records.filter((x) => x.action === 'read_resource').at(-1)!;
    expect(read).toMatchObject({ status: 200, identityKey: 'key:a', view: 'exp.exp_items', rowCount: 1 });
  });
});

describe('export isolation', () => {
  it('another API key reads it exactly like an export that does not exist, and does not see it listed', async () => {
    const [a, b] = [await as('a'), await as('b')];
    const { uri } = (await exportRows(a, { format: 'csv', fields: 'id' })).structuredContent;
    const other = await readError(b, uri);
    expect(other).toBe(await readError(b, freshUri()));
    expect(other).toBe('-32602 no export "<id>" (exports last 10 minutes)');
    const listed = (await b.listResources()).resources.map((x) => x.uri);
    expect(listed).not.toContain(uri);
    expect((await a.listResources()).resources.map((x) => x.uri)).toContain(uri);
  });

  it('two tenants by JWT claims (no subject) are two identity keys', async () => {
    const [t1, t2] = [await as({ token: await tenantToken('t1') }), await as({ token: await tenantToken('t2') })];
    const mine = (await exportRows(t1, { format: 'jsonl', fields: 'id' })).structuredContent;
    const theirs = (await exportRows(t2, { format: 'jsonl', fields: 'id' })).structuredContent;
    expect((await t2.readResource({ uri: theirs.uri })).contents[0]).toMatchObject({ text: '{"id":11}\n{"id":12}\n' });
    expect(await readError(t2, mine.uri)).toBe(await readError(t2, freshUri()));
    expect(await readError(t1, theirs.uri)).toBe(await readError(t1, freshUri()));
    // Another token of the same claims is the same principal.
    const again = await as({ token: await tenantToken('t1') });
    expect((await again.readResource({ uri: mine.uri })).contents[0]).toMatchObject({ mimeType: 'application/x-ndjson' });
  });

  it('expires after 10 minutes and then reads like one that never existed', async () => {
    const a = await as('a');
    const { uri } = (await exportRows(a, { format: 'csv', fields: 'id' })).structuredContent;
    clock += 10 * 60_000 - 1;
    expect((await a.readResource({ uri })).contents).toHaveLength(1);
    clock += 1;
    expect(await readError(a, uri)).toBe(await readError(a, freshUri()));
  });
});

describe('the export store is bounded', () => {
  it('evicts the least recently used export beyond its count', async () => {
    const a = await as('a', small);
    const ids = async () => (await exportRows(a, { format: 'csv', fields: 'id' })).structuredContent.uri as string;
    const first = await ids();
    const second = await ids();
    await a.readResource({ uri: first }); // first is now the most recently used
    const third = await ids();
    expect(await readError(a, second)).toBe(await readError(a, freshUri()));
    expect((await a.readResource({ uri: first })).contents).toHaveLength(1);
    expect((await a.readResource({ uri: third })).contents).toHaveLength(1);
    expect(small.rt.gateway.exports.size).toBe(2);
  });
});

describe('query_view carries the rows once', () => {
  it('structuredContent has every row; the text summarises them with a short preview', async () => {
    const a = await as('a');
    const r: any = await a.callTool({ name: 'query_view', arguments: { view: 'exp.exp_items', fields: 'id,label', limit: 10 } });
    expect(r.structuredContent.rows.map((x: any) => x.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const t = text(r);
    expect(t).toContain('exp.exp_items: rows 1-10 (10 returned).');
    expect(t).toContain('All 10 rows are in structuredContent.rows; the first 3 are previewed below');
    const rowLines = t.split('\n').filter((l) => l.startsWith('{'));
    expect(rowLines).toEqual(['{"id":1,"label":"plain"}', '{"id":2,"label":"has,comma"}', '{"id":3,"label":"say \\"hi\\""}']);
    expect(t).not.toContain('r10');
    expect(t.length).toBeLessThanOrEqual(2000);
  });
});

describe('list_views pages', () => {
  it('50 views per page with an opaque nextCursor, then the rest', async () => {
    const c = await as('internal');
    const first: any = await c.callTool({ name: 'list_views', arguments: {} });
    expect(first.structuredContent.views).toHaveLength(50);
    expect(typeof first.structuredContent.nextCursor).toBe('string');
    expect(text(first)).toContain(`"cursor": "${first.structuredContent.nextCursor}"`);
    const second: any = await c.callTool({ name: 'list_views', arguments: { cursor: first.structuredContent.nextCursor } });
    expect(second.structuredContent.nextCursor).toBeUndefined();
    const names = [...first.structuredContent.views, ...second.structuredContent.views].map((v: any) => v.name);
    expect(names).toHaveLength(MANY_VIEWS + 1);
    expect(new Set(names).size).toBe(MANY_VIEWS + 1);
    expect(names).toContain('exp.exp_items');

    const bad: any = await c.callTool({ name: 'list_views', arguments: { cursor: 'nope' } });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toContain('cursor is not one list_views returned');
  });

  it('one page and no cursor when the views fit', async () => {
    const r: any = await (await as('reader')).callTool({ name: 'list_views', arguments: {} });
    expect(r.structuredContent).toEqual({ views: [{ name: 'exp.exp_items', description: expect.any(String) }] });
  });
});

describe('completion', () => {
  const viewRef = { type: 'ref/resource' as const, uri: 'viewgate://views/{view}' };
  const promptRef = { type: 'ref/prompt' as const, name: 'explore-a-view' };

  it('offers only the views the caller may read, for the view resource and for prompt arguments', async () => {
    const reader = await as('reader');
    const internal = await as('internal');
    const complete = async (c: Client, ref: typeof viewRef | typeof promptRef, value: string) =>
      (await c.complete({ ref, argument: { name: 'view', value } })).completion.values;

    expect(await complete(reader, viewRef, '')).toEqual(['exp.exp_items']);
    expect(await complete(reader, viewRef, 'many.')).toEqual([]);
    expect(await complete(reader, promptRef, 'e')).toEqual(['exp.exp_items']);
    expect(await complete(reader, promptRef, 'm')).toEqual([]);
    expect(await complete(internal, viewRef, 'many.v0')).toEqual(Array.from({ length: 10 }, (_, i) => `many.v0${i}`));
    expect(await complete(internal, promptRef, 'many.v5')).toEqual(['many.v50', 'many.v51', 'many.v52', 'many.v53', 'many.v54']);
  });
});
