// A PostgreSQL database of its own (table exp_items) served by a small config: API keys per role,
// a JWT secret for tenant tokens, grants with and without `export: true`, a row budget of 8 and
// enough views for list_views to page. Shared by the format and export tests.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { RuntimeOptions } from '../../src/runtime.js';
import { createPgDatabase } from './stores.js';
import { signHs256 } from './jwt.js';
import { startServer, type RunningServer } from './reference.js';

const sha = (k: string) => createHash('sha256').update(k).digest('hex');

const JWT_SECRET = 'exp-test-secret-0123456789abcdef0123456789';
const ISSUER = 'exp-test';

/** API keys by name (the key's secret is `key-<name>`), with their role and tenant. */
const KEYS = {
  a: { role: 'exporter', tenant: 't1' },
  b: { role: 'exporter', tenant: 't1' },
  reader: { role: 'reader', tenant: 't1' },
  capped: { role: 'capped', tenant: 't1' },
  opaque: { role: 'opaque', tenant: 't1' },
  internal: { role: 'internal' },
} as const;

export type ExpKey = keyof typeof KEYS;

export const keyHeader = (k: ExpKey): Record<string, string> => ({ 'x-api-key': `key-${k}` });

/** Views in service `many`, so the internal role's list_views has more than one page. */
export const MANY_VIEWS = 55;

const ROWS = `
INSERT INTO exp_items VALUES
 (1, 't1', 'plain', 'ann@x.org', 's1', 10.50, 9007199254740993, true, '{"a":1}'),
 (2, 't1', 'has,comma', 'bob@x.org', 's2', NULL, -9223372036854775808, false, NULL),
 (3, 't1', 'say "hi"', NULL, 's3', 0.00, 0, NULL, '["x","y,z"]'),
 (4, 't1', E'two\\r\\nlines', 'cy@x.org', 's4', -1.25, 1, true, '"str"'),
 (5, 't1', '', 'dd@x.org', 's5', 2.00, 2, true, NULL),
 (6, 't1', NULL, 'ee@x.org', 's6', 3.00, 3, false, NULL),
 (7, 't1', 'r7', 'f7@x.org', 's7', 7.00, 7, true, NULL),
 (8, 't1', 'r8', 'f8@x.org', 's8', 8.00, 8, true, NULL),
 (9, 't1', 'r9', 'f9@x.org', 's9', 9.00, 9, true, NULL),
 (10, 't1', 'r10', 'f10@x.org', 's10', 10.00, 10, true, NULL),
 (11, 't2', 'other11', 'o11@x.org', 's11', 11.00, 11, true, NULL),
 (12, 't2', 'other12', 'o12@x.org', 's12', 12.00, 12, true, NULL)`;

export interface ExpStore {
  url: string;
  drop(): Promise<void>;
}

export async function createExpStore(label: string): Promise<ExpStore> {
  const db = await createPgDatabase(label);
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query(`CREATE TABLE exp_items (
      id int8 PRIMARY KEY, tenant_id text NOT NULL, label text, email text, secret text,
      amount numeric(12,2), big int8, flag boolean, meta jsonb)`);
    await c.query(ROWS);
  } finally {
    await c.end();
  }
  return db;
}

const VISIBLE = '[id, label, email, amount, big, flag, meta]';
const TENANT = 'rowFilter: "tenant_id = {claims.tenant_id}"';

function expConfig(url: string): Config {
  const keys = Object.entries(KEYS)
    .map(([name, k]) => {
      const claims = 'tenant' in k ? `, claims: { tenant_id: ${k.tenant} }` : '';
      return `    - { name: ${name}, sha256: ${sha(`key-${name}`)}, role: ${k.role}${claims} }`;
    })
    .join('\n');
  const many = Array.from(
    { length: MANY_VIEWS },
    (_, i) => `      v${String(i).padStart(2, '0')}: { sql: "SELECT id FROM db.exp_items" }`,
  ).join('\n');
  const yaml = `
server: { mcp: { maxChars: 2000 } }
engine: { rowBudget: 8 }
audit: { sink: off }
masking: { hashSecret: exp-hash-secret }
sources:
  db: { kind: postgres, url: "${url}" }
services:
  exp:
    source: db
    tables: [exp_items]
  many:
    engine: embedded
    views:
${many}
auth:
  apiKeys:
${keys}
  jwt: { issuer: ${ISSUER}, audience: viewgate, secret: ${JWT_SECRET} }
roles:
  exporter:
    grants:
      exp.exp_items: { read: true, export: true, fields: ${VISIBLE}, masks: { email: email }, ${TENANT}, maxLimit: 100 }
  reader:
    grants:
      exp.exp_items: { read: true, fields: ${VISIBLE}, masks: { email: email }, ${TENANT} }
  capped:
    grants:
      exp.exp_items: { read: true, export: true, maxExportRows: 3, fields: ${VISIBLE}, ${TENANT} }
  opaque:
    grants:
      exp.exp_items: { read: true, export: true, fields: [label, amount], ${TENANT} }
  internal:
    grants: { "*": { read: true } }
`;
  return parseConfig(yaml, 'exp-test.yaml', {});
}

export function startExpServer(store: ExpStore, opts: RuntimeOptions = {}): Promise<RunningServer> {
  return startServer(expConfig(store.url), opts);
}

/** A token of role exporter for a tenant, without a subject: its identity key comes from its claims. */
export function tenantToken(tenant: string): Promise<string> {
  return signHs256(JWT_SECRET, { roles: ['exporter'], tenant_id: tenant }, { iss: ISSUER, sub: null });
}

export async function mcpClient(url: string, headers: Record<string, string>): Promise<Client> {
  const c = new Client({ name: 'exp-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  return c;
}
