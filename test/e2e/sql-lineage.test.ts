// Lineage of view columns (docs/sql.md, "Lineage in describe_view and _schema") over real HTTP and
// the real MCP SDK client: an embedded view's columns name the source columns they derive from; a
// mask declared on a view column covers every SQL expression over it; POST /api/v2/_sql appears in
// the OpenAPI document only for callers with an sql grant.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../support/reference.js';
import { postSql, startSqlServer, type SqlServer } from '../support/sql-fixture.js';

let env: SqlServer;

const LINEAGE_SQL = `SELECT a.id, upper(a.name) AS name, a.email, n.id AS note, concat(n.body, a.tenant) AS label, a.divisor
  FROM pgsrc.sql_accounts a LEFT JOIN mysrc.sql_notes n ON n.account_id = a.id`;

beforeAll(async () => {
  env = await startSqlServer('sql_lineage', (raw) => {
    raw.services.fed = { engine: 'embedded', views: { account_notes: { key: ['id', 'note'], sql: LINEAGE_SQL } } };
    raw.roles.tenant.grants['fed.account_notes'] = { read: true, sql: true, masks: { email: 'email' }, rowFilter: 'divisor > 0' };
  });
}, 60_000);

afterAll(() => env?.close());

const LINEAGE = {
  id: ['pgsrc.sql_accounts.id'],
  name: ['pgsrc.sql_accounts.name'],
  email: ['pgsrc.sql_accounts.email'],
  note: ['mysrc.sql_notes.id'],
  label: ['mysrc.sql_notes.body', 'pgsrc.sql_accounts.tenant'],
  divisor: ['pgsrc.sql_accounts.divisor'],
};

describe('lineage', () => {
  it('REST _schema gives each column of an embedded view its source columns', async () => {
    const r = await get(`${env.srv.url}/api/v2/fed/_schema/account_notes`, { 'X-API-Key': 'key-t1' });
    expect(r.status, r.text).toBe(200);
    expect(Object.fromEntries(r.body.fields.map((f: { name: string; lineage: string[] }) => [f.name, f.lineage]))).toEqual(LINEAGE);
    // A table served directly has no lineage to show.
    const table = await get(`${env.srv.url}/api/v2/pg/_schema/sql_accounts`, { 'X-API-Key': 'key-t1' });
    expect(table.body.fields.every((f: { lineage?: unknown }) => f.lineage === undefined)).toBe(true);
  });

  it('MCP describe_view gives the same lineage', async () => {
    const client = new Client({ name: 'sql-lineage', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${env.srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': 'key-t1' } } }),
    );
    const d = await client.callTool({ name: 'describe_view', arguments: { view: 'fed.account_notes' } });
    expect(d.isError, JSON.stringify(d.content)).toBeFalsy();
    const columns = (d.structuredContent as { columns: { name: string; lineage?: string[] }[] }).columns;
    expect(Object.fromEntries(columns.map((c) => [c.name, c.lineage]))).toEqual(LINEAGE);
    expect((d.content as { text: string }[])[0]!.text).toContain(
      'label (text, filterable) [from mysrc.sql_notes.body, pgsrc.sql_accounts.tenant]',
    );
    await client.close();
  });

  it('a mask on a view column covers every SQL expression derived from it', async () => {
    const post = (sql: string) => postSql(env.srv.url, 't1', { sql });
    for (const s of [
      'SELECT lower(f.email) AS e FROM fed.account_notes f',
      'SELECT concat(f.name, f.email) AS e FROM fed.account_notes f',
      'SELECT f.id FROM fed.account_notes f WHERE length(f.email) > 3',
    ]) {
      const r = await post(s);
      expect(r.status, s).toBe(400);
      expect(r.body.error.message).toMatch(/column f\.email is masked for your role/);
    }
    const ok = await post('SELECT f.id, f.email, f.name FROM fed.account_notes f WHERE f.note IS NULL ORDER BY f.id');
    expect(ok.status).toBe(200);
    expect(ok.body.resource).toEqual([
      { id: 3, email: null, name: 'CID' },
      { id: 4, email: 'd***@x.io', name: 'DEE' },
    ]);
  });

  it('OpenAPI describes POST /api/v2/_sql only for callers with an sql grant', async () => {
    const withSql = await get(`${env.srv.url}/api/v2/openapi.json`, { 'X-API-Key': 'key-t1' });
    const op = withSql.body.paths['/api/v2/_sql']?.post;
    expect(op?.operationId).toBe('query_sql');
    expect(op.requestBody.content['application/json'].schema.required).toEqual(['sql']);
    expect(Object.keys(op.requestBody.content['application/json'].schema.properties)).toEqual(['sql', 'limit', 'cursor', 'explain']);
    const result = op.responses['200'].content['application/json'].schema.oneOf[0];
    expect(Object.keys(result.properties.meta.properties)).toEqual(['fields', 'truncated', 'next_cursor', 'suppressed_groups']);
    const withoutSql = await get(`${env.srv.url}/api/v2/openapi.json`, { 'X-API-Key': 'key-nosql' });
    expect(withoutSql.status).toBe(200);
    expect(withoutSql.body.paths['/api/v2/_sql']).toBeUndefined();
  });
});
