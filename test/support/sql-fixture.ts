// Stores and config for governed SQL tests (docs/sql.md): accounts in PostgreSQL, notes in
// MariaDB, two tenants. Tenant t2's rows hold values that make casts and divisions fail, so a
// statement that evaluates an expression on a row before its row filter would be caught.
import { createHash } from 'node:crypto';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startServer, type RunningServer } from './reference.js';
import { createMysqlDatabase, createPgDatabase, mysqlExec, pgExec } from './stores.js';

const sha = (k: string) => createHash('sha256').update(k).digest('hex');

export const ACCOUNTS_DDL = `CREATE TABLE sql_accounts (id INT PRIMARY KEY, tenant TEXT NOT NULL, name TEXT NOT NULL, email TEXT,
  score TEXT, amount NUMERIC(10,2), divisor INT NOT NULL)`;
export const ACCOUNTS: unknown[][] = [
  [1, 't1', 'Ann', 'ann@x.io', '10', '12.50', 2],
  [2, 't1', 'Bob', 'bob@x.io', '20', '7.25', 5],
  [3, 't1', 'Cid', null, '5', null, 1],
  [4, 't1', 'Dee', 'dee@x.io', '0', '100.00', 4],
  [5, 't2', 'Eve', 'eve@y.io', 'oops', '3.00', 0],
  [6, 't2', 'Fay', 'fay@y.io', 'x1', '9.99', 0],
  [7, 't2', 'Gus', 'gus@y.io', '7', '1.00', 0],
];
export const NOTES_DDL = (q: string) =>
  `CREATE TABLE ${q}sql_notes${q} (id INT PRIMARY KEY, account_id INT NOT NULL, tenant VARCHAR(8) NOT NULL, body VARCHAR(64) NOT NULL, secret VARCHAR(32) NOT NULL)`;
export const NOTES: unknown[][] = [
  [1, 1, 't1', 'hello', 's1'],
  [2, 1, 't1', 'again', 's2'],
  [3, 2, 't1', 'note b', 's3'],
  [4, 5, 't2', 'eve note', 's4'],
  [5, 6, 't2', 'fay', 's5'],
  [6, 99, 't1', 'orphan', 's6'],
];

const KEYS = {
  admin: { role: 'admin' },
  t1: { role: 'tenant', claims: { tenant: 't1' } },
  t2: { role: 'tenant', claims: { tenant: 't2' } },
  noclaim: { role: 'tenant' },
  nosql: { role: 'nosql' },
  aggonly: { role: 'aggonly' },
  notesonly: { role: 'notesonly', claims: { tenant: 't1' } },
  kanon: { role: 'kanon' },
  rowsk: { role: 'rowsk' },
} as const;
export type Who = keyof typeof KEYS;

export interface SqlStores {
  pgUrl: string;
  myUrl: string;
  drop(): Promise<void>;
}

export async function createSqlStores(label: string): Promise<SqlStores> {
  const p = await createPgDatabase(`${label}_pg`);
  const m = await createMysqlDatabase(`${label}_my`);
  await pgExec(p.url, ACCOUNTS_DDL);
  await pgExec(
    p.url,
    `INSERT INTO sql_accounts VALUES ${ACCOUNTS.map((_, i) => `(${[1, 2, 3, 4, 5, 6, 7].map((j) => `$${i * 7 + j}`).join(',')})`).join(',')}`,
    ACCOUNTS.flat(),
  );
  await mysqlExec(m.url, NOTES_DDL('`'));
  await mysqlExec(m.url, `INSERT INTO sql_notes VALUES ${NOTES.map(() => '(?,?,?,?,?)').join(',')}`, NOTES.flat());
  return { pgUrl: p.url, myUrl: m.url, drop: async () => void (await Promise.all([p.drop(), m.drop()])) };
}

const tenantAccounts = {
  read: true,
  sql: true,
  fields: ['id', 'tenant', 'name', 'email', 'score', 'amount', 'divisor'],
  masks: { email: 'email' },
  rowFilter: 'tenant = {claims.tenant}',
  maxLimit: 50,
};
const tenantNotes = {
  read: true,
  sql: true,
  fields: ['id', 'account_id', 'tenant', 'body'],
  rowFilter: 'tenant = {claims.tenant}',
  maxLimit: 4,
};

/** `edit` changes the configuration before it is parsed (more services, roles or settings). */
export function sqlConfig(s: SqlStores, edit?: (raw: Record<string, any>) => void): Config {
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    audit: { sink: 'off' },
    logging: { level: 'silent' },
    masking: { hashSecret: 'sql-test-hash-secret' },
    sources: { pgsrc: { kind: 'postgres', url: s.pgUrl }, mysrc: { kind: 'mysql', url: s.myUrl } },
    services: { pg: { source: 'pgsrc', tables: ['sql_accounts'] }, my: { source: 'mysrc', tables: ['sql_notes'] } },
    auth: {
      apiKeys: Object.entries(KEYS).map(([name, k]) => ({
        name,
        sha256: sha(`key-${name}`),
        role: k.role,
        ...('claims' in k ? { claims: k.claims } : {}),
      })),
    },
    roles: {
      admin: { grants: { '*': { read: true, sql: true, explain: true } } },
      tenant: { grants: { 'pg.sql_accounts': tenantAccounts, 'my.sql_notes': tenantNotes } },
      nosql: { grants: { '*': { read: true } } },
      aggonly: { grants: { 'pg.sql_accounts': { read: false, aggregate: true, sql: true } } },
      notesonly: { grants: { 'my.sql_notes': tenantNotes } },
      // Aggregate-only, groups of at least 3 distinct names (a column the role cannot see).
      kanon: {
        grants: {
          'pg.sql_accounts': {
            read: false,
            aggregate: true,
            sql: true,
            fields: ['id', 'tenant', 'email', 'amount', 'divisor'],
            masks: { email: 'email' },
            minGroupSize: { k: 3, distinctOn: 'name' },
          },
        },
      },
      // Rows may be read; groups need 2 rows.
      rowsk: { grants: { 'pg.sql_accounts': { read: true, sql: true, minGroupSize: 2 }, 'my.sql_notes': { read: true, sql: true } } },
    },
  };
  // A copy: the grants above are shared by every call.
  const raw = structuredClone(config) as Record<string, any>;
  edit?.(raw);
  return parseConfig(JSON.stringify(raw), 'sql-test.yaml', {});
}

/** POST /api/v2/_sql as `who` over real HTTP; the body parsed. */
export async function postSql(url: string, who: Who, body: Record<string, unknown>): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${url}/api/v2/_sql`, {
    method: 'POST',
    headers: { 'X-API-Key': `key-${who}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

export interface SqlServer {
  stores: SqlStores;
  srv: RunningServer;
  close(): Promise<void>;
}

/** Stores named after `label` and a server over them (sqlConfig with `edit`); close stops it and drops them. */
export async function startSqlServer(label: string, edit?: (raw: Record<string, any>) => void): Promise<SqlServer> {
  const stores = await createSqlStores(label);
  const srv = await startServer(sqlConfig(stores, edit));
  return {
    stores,
    srv,
    async close() {
      await srv.close();
      await stores.drop();
    },
  };
}
