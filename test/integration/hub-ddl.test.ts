// `hub plan` for a hub service over all three sources (docs/hub.md). mongo_fdw is not packaged on
// the test machines, so its DDL is never applied here: it is parsed with PostgreSQL's own parser
// (libpg-query) and compared with golden output (test/fixtures/hub/spec-hub.plan.sql; regenerate
// with UPDATE_GOLDEN=1 after an intended change, and review the diff).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'libpg-query';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { planHubs } from '../../src/hub/ddl.js';
import { renderPlan } from '../../src/hub/render.js';
import { hubCommand } from '../../src/commands/hub.js';
import { makeTestCa } from '../support/test-ca.js';

const CONFIG = fileURLToPath(new URL('../fixtures/hub/spec-hub.yaml', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../fixtures/hub/spec-hub.plan.sql', import.meta.url));
const SECRETS = ["crm-S3cret'pw", "crm-S3cret''pw", 'app-s3cret', 'ev@secret', 'ev%40secret', 'reader-secret'];

async function planText(): Promise<string> {
  let out = '';
  const code = await hubCommand(['plan', '--config', CONFIG], { out: (t) => (out += t), err: (t) => (out += t), env: {} });
  expect(code).toBe(0);
  return out;
}

/** psql substitutes :'name' with the quoted value; so does this, for the parser. */
const substituted = (sql: string) => sql.replace(/:'([A-Za-z_][A-Za-z0-9_]*)'/g, (_m, v: string) => `'<${v}>'`);

type Stmt = Record<string, any>;

async function statements(sql: string): Promise<Stmt[]> {
  const r = await parse(substituted(sql));
  return (r.stmts ?? []).map((s) => s.stmt as Stmt);
}

const kind = (s: Stmt) => Object.keys(s)[0]!;
const options = (list: any[] | undefined) => Object.fromEntries((list ?? []).map((o) => [o.DefElem.defname, o.DefElem.arg?.String?.sval]));

describe('hub plan: the hub example with all three sources', () => {
  it('matches the golden DDL', async () => {
    const text = await planText();
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('never prints a password; each becomes a psql variable', async () => {
    const text = await planText();
    for (const s of SECRETS) expect(text).not.toContain(s);
    expect(text).toContain("password :'crm_password'");
    expect(text).toContain("password :'app_password'");
    expect(text).toContain("password :'analytics_password'");
    expect(text).toContain('-v crm_password=... -v app_password=... -v analytics_password=...');
  });

  it('parses with the PostgreSQL parser, statement by statement in the expected order', async () => {
    const stmts = await statements(await planText());
    const kinds = stmts.map(kind);
    expect(kinds.slice(0, 5)).toEqual([
      'VariableSetStmt',
      'TransactionStmt',
      'CreateExtensionStmt',
      'CreateExtensionStmt',
      'CreateExtensionStmt',
    ]);
    expect(kinds.at(-1)).toBe('TransactionStmt');
    expect(stmts.filter((s) => kind(s) === 'CreateExtensionStmt').map((s) => s.CreateExtensionStmt.extname)).toEqual([
      'mysql_fdw',
      'postgres_fdw',
      'mongo_fdw',
    ]);
    expect(kinds.filter((k) => k === 'ImportForeignSchemaStmt')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'CreateTableAsStmt')).toHaveLength(1); // the materialized view
    expect(kinds.filter((k) => k === 'ViewStmt')).toHaveLength(3);
    const barrier = stmts.filter((s) => kind(s) === 'ViewStmt' && s.ViewStmt.view.schemaname === 'federation');
    expect(barrier.map((s) => s.ViewStmt.view.relname)).toEqual(['customer_orders', 'customer_events']);
    for (const v of barrier) expect(options(v.ViewStmt.options)).toEqual({ security_barrier: undefined });
  });

  it('maps the MongoDB collection with mongo_fdw: server, user mapping, and a foreign table from the declared columns', async () => {
    const stmts = await statements(await planText());
    const server = stmts.find((s) => kind(s) === 'CreateForeignServerStmt' && s.CreateForeignServerStmt.fdwname === 'mongo_fdw')!;
    expect(server.CreateForeignServerStmt.servername).toBe('viewgate_analytics');
    expect(options(server.CreateForeignServerStmt.options)).toEqual({
      address: 'mongo.example',
      port: '27017',
      authentication_database: 'admin',
    });
    const mapping = stmts.find((s) => kind(s) === 'CreateUserMappingStmt' && s.CreateUserMappingStmt.servername === 'viewgate_analytics')!;
    expect(mapping.CreateUserMappingStmt.user.roletype).toBe('ROLESPEC_PUBLIC');
    expect(options(mapping.CreateUserMappingStmt.options)).toEqual({ username: 'events_reader', password: '<analytics_password>' });
    const table = stmts.find((s) => kind(s) === 'CreateForeignTableStmt')!.CreateForeignTableStmt;
    expect(table.servername).toBe('viewgate_analytics');
    expect(table.base.relation).toMatchObject({ schemaname: 'mongo_map', relname: 'events' });
    expect(options(table.options)).toEqual({ database: 'analytics', collection: 'events' });
    const cols = table.base.tableElts.map((e: any) => [
      e.ColumnDef.colname,
      e.ColumnDef.typeName.names.map((n: any) => n.String.sval).join('.'),
    ]);
    expect(cols).toEqual([
      ['_id', 'name'],
      ['user_id', 'text'],
      ['event_type', 'text'],
      ['ts', 'timestamptz'],
      ['payload.sku', 'text'],
      ['payload', 'pg_catalog.json'],
    ]);
  });

  it('maps the SQL sources with IMPORT FOREIGN SCHEMA ... LIMIT TO into their foreign schemas', async () => {
    const stmts = await statements(await planText());
    const imports = stmts.filter((s) => kind(s) === 'ImportForeignSchemaStmt').map((s) => s.ImportForeignSchemaStmt);
    expect(
      imports.map((i) => [i.remote_schema, i.server_name, i.local_schema, i.list_type, i.table_list.map((t: any) => t.RangeVar.relname)]),
    ).toEqual([
      ['crm', 'viewgate_crm', 'mysql_map', 'FDW_IMPORT_SCHEMA_LIMIT_TO', ['customers']],
      ['public', 'viewgate_app', 'app_map', 'FDW_IMPORT_SCHEMA_LIMIT_TO', ['orders']],
    ]);
    const pgServer = stmts.find((s) => kind(s) === 'CreateForeignServerStmt' && s.CreateForeignServerStmt.fdwname === 'postgres_fdw')!;
    expect(options(pgServer.CreateForeignServerStmt.options)).toEqual({ host: 'app.example', port: '5433', dbname: 'app' });
  });

  it('is deterministic and plans only the named services', async () => {
    const { config } = loadConfigFile(CONFIG, {});
    const [a] = await planHubs(config, ['federation']);
    const [b] = await planHubs(config);
    expect(renderPlan(a!)).toBe(renderPlan(b!));
    await expect(planHubs(config, ['nope'])).rejects.toThrow(/no hub service "nope"/);
  });
});

describe('hub plan: config problems', () => {
  const base = readFileSync(CONFIG, 'utf8');
  async function problem(edit: (y: string) => string): Promise<string> {
    try {
      await planHubs(parseConfig(edit(base), 'x.yaml', {}));
    } catch (err) {
      return (err as Error).message;
    }
    return 'no error';
  }

  it('refuses view SQL that is not one SELECT, naming the view', async () => {
    expect(
      await problem((y) =>
        y.replace(
          'FROM mysql_map.customers c LEFT JOIN',
          'FROM mysql_map.customers c; DROP TABLE x; SELECT 1 FROM mysql_map.customers c LEFT JOIN',
        ),
      ),
    ).toMatch(/^services\.federation\.views\.customer_orders\.sql: the hub SQL must be exactly one SELECT statement/);
    expect(
      await problem((y) =>
        y.replace('SELECT c.customer_id, c.tenant_id, c.email, o.order_id', 'SELEC c.customer_id, c.tenant_id, c.email, o.order_id'),
      ),
    ).toMatch(/^services\.federation\.views\.customer_orders\.sql: the hub SQL does not parse: syntax error/);
  });

  it('refuses collections for SQL sources, tables for MongoDB, and undeclared collections', async () => {
    expect(
      await problem((y) => y.replace('{ schema: mysql_map, tables: [customers] }', '{ schema: mysql_map, collections: [customers] }')),
    ).toContain('services.federation.foreign.crm.collections: source "crm" is mysql');
    expect(await problem((y) => y.replace('collections: [events] }', 'tables: [events] }'))).toContain(
      'services.federation.foreign.analytics.tables',
    );
    expect(await problem((y) => y.replace('collections: [events] }', 'collections: [clicks] }'))).toContain(
      'declares no collection "clicks"',
    );
  });

  it('refuses a tls block the foreign data wrapper cannot carry, naming the key', async () => {
    const ca = makeTestCa();
    try {
      const crm = `crm:       { kind: mysql,    url: "mysql://crm_reader:crm-S3cret'pw@mysql.example:3306/crm" }`;
      expect(await problem((y) => y.replace(crm, crm.replace(' }', `, tls: { ca: "${ca.caFile}" } }`)))).toMatch(
        /^sources\.crm\.tls: the hub's mysql_fdw cannot be given this source's tls block/,
      );
      const app = `app:       { kind: postgres, url: "postgres://app_reader:app-s3cret@app.example:5433/app" }`;
      expect(await problem((y) => y.replace(app, app.replace(' }', `, tls: { ca: "${ca.caFile}", servername: "db.internal" } }`)))).toMatch(
        /^sources\.app\.tls\.servername: the hub connects with libpq/,
      );
    } finally {
      ca.remove();
    }
  });

  it('refuses a refresh schedule that is not a cron expression', async () => {
    expect(await problem((y) => y.replace('refresh: "*/5 * * * *"', 'refresh: "every 5 minutes"'))).toMatch(
      /^services\.federation\.views\.customer_orders\.materialize\.refresh: "every 5 minutes" has 3 fields/,
    );
  });

  it('refuses a rowSecurity that compares with null or does not parse', async () => {
    expect(await problem((y) => y.replace('"tenant_id = {claims.tenant_id}"', '"tenant_id = null"'))).toContain("use 'is null'");
    expect(await problem((y) => y.replace('"tenant_id = {claims.tenant_id}"', '"tenant_id = = 1"'))).toContain(
      'rowSecurity does not parse',
    );
  });
});
