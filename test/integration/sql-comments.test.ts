// Database comments become descriptions: PostgreSQL COMMENT ON TABLE/COLUMN and MySQL/MariaDB
// table and column COMMENTs appear in REST _schema and MCP describe_view, unless the config
// describes the view or column itself.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { parseConfig } from '../../src/config/load.js';
import { get, startServer, type RunningServer } from '../support/reference.js';
import { createMysqlDatabase, createPgDatabase } from '../support/stores.js';

const KEY = 'vg_test_comments_key';
let pgDb: Awaited<ReturnType<typeof createPgDatabase>>;
let myDb: Awaited<ReturnType<typeof createMysqlDatabase>>;
let srv: RunningServer;

beforeAll(async () => {
  pgDb = await createPgDatabase('comments');
  myDb = await createMysqlDatabase('comments');
  const p = new pg.Client({ connectionString: pgDb.url });
  await p.connect();
  try {
    await p.query('CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, plan text)');
    await p.query("COMMENT ON TABLE accounts IS 'Customer accounts, one per legal entity'");
    await p.query("COMMENT ON COLUMN accounts.name IS 'Legal name as registered'");
    await p.query("COMMENT ON COLUMN accounts.plan IS '  '"); // blank: no description
    await p.query("INSERT INTO accounts VALUES (1, 'Acme', 'gold')");
  } finally {
    await p.end();
  }
  const m = await mysql.createConnection(myDb.url);
  try {
    await m.query(
      "CREATE TABLE widgets (id INT PRIMARY KEY COMMENT 'Widget number', account_id INT, sku VARCHAR(20) COMMENT 'Stock keeping unit') COMMENT 'Things we sell'",
    );
    await m.query("INSERT INTO widgets VALUES (10, 1, 'W-1')");
  } finally {
    await m.end();
  }
  const yaml = `
sources:
  app: { kind: postgres, url: "${pgDb.url}" }
  shop: { kind: mysql, url: "${myDb.url}" }
services:
  app: { source: app, tables: [accounts] }
  shop: { source: shop, tables: [widgets] }
  described:
    description: Service words
    source: app
    tables: [{ name: accounts, description: Accounts as the config describes them }]
  fed:
    views:
      account_widgets:
        key: [widget_id]
        sql: SELECT w.id AS widget_id, a.name, w.sku, a.plan FROM shop.widgets w JOIN app.accounts a ON a.id = w.account_id
        columns:
          name: { description: The name from the config }
auth:
  apiKeys:
    - { name: all, sha256: ${createHash('sha256').update(KEY).digest('hex')}, role: reader }
roles:
  reader: { grants: { "*": { read: true } } }
`;
  srv = await startServer(parseConfig(yaml));
});

afterAll(async () => {
  await srv?.close();
  await pgDb?.drop();
  await myDb?.drop();
});

async function schema(service: string, view: string): Promise<any> {
  const r = await get(`${srv.url}/api/v2/${service}/_schema/${view}`, { 'X-API-Key': KEY });
  expect(r.status).toBe(200);
  return r.body;
}

const descriptions = (fields: { name: string; description: string }[]) => Object.fromEntries(fields.map((f) => [f.name, f.description]));

describe('database comments as descriptions', () => {
  it('PostgreSQL: COMMENT ON TABLE and COMMENT ON COLUMN in _schema', async () => {
    const s = await schema('app', 'accounts');
    expect(s.description).toBe('Customer accounts, one per legal entity');
    expect(descriptions(s.fields)).toEqual({ id: '', name: 'Legal name as registered', plan: '' });
  });

  it('MySQL/MariaDB: table and column COMMENTs in _schema', async () => {
    const s = await schema('shop', 'widgets');
    expect(s.description).toBe('Things we sell');
    expect(descriptions(s.fields)).toEqual({ id: 'Widget number', account_id: '', sku: 'Stock keeping unit' });
  });

  it("the config's description wins over the table comment", async () => {
    const s = await schema('described', 'accounts');
    expect(s.description).toBe('Accounts as the config describes them');
    expect(descriptions(s.fields).name).toBe('Legal name as registered');
  });

  it("a federated view's unchanged columns keep their comments; the config's column description wins", async () => {
    const s = await schema('fed', 'account_widgets');
    expect(descriptions(s.fields)).toEqual({
      widget_id: 'Widget number',
      name: 'The name from the config',
      sku: 'Stock keeping unit',
      plan: '',
    });
  });

  it('describe_view over MCP gives the same descriptions', async () => {
    const client = new Client({ name: 'viewgate-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': KEY } } }));
    try {
      const views = (await client.callTool({ name: 'list_views', arguments: {} })).structuredContent as any;
      expect(views.views).toEqual(expect.arrayContaining([{ name: 'shop.widgets', description: 'Things we sell' }]));
      for (const [view, column, description] of [
        ['app.accounts', 'name', 'Legal name as registered'],
        ['shop.widgets', 'sku', 'Stock keeping unit'],
      ] as const) {
        const d = (await client.callTool({ name: 'describe_view', arguments: { view } })).structuredContent as any;
        expect(d.columns.find((c: any) => c.name === column).description).toBe(description);
      }
    } finally {
      await client.close();
    }
  });
});
