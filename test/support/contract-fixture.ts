// Stores and a config of their own for the contract tests (docs/contracts.md): a PostgreSQL table,
// a MariaDB table, a MongoDB collection and a view joining the two SQL tables, each in a database
// made for the test file, so ALTER TABLE never touches what other tests read.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMongoDatabase, createMysqlDatabase, createPgDatabase, mysqlExec, pgExec, withDatabase, MYSQL_URL } from './stores.js';

export const INTERNAL_KEY = 'contract-internal-key-0123456789';
export const PARTNER_KEY = 'contract-partner-key-0123456789';
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

export interface ContractStores {
  pgUrl: string;
  mysqlUrl: string;
  mongoUrl: string;
  mongoDb: string;
  mongo: Awaited<ReturnType<typeof createMongoDatabase>>['client'];
  dir: string;
  drop(): Promise<void>;
}

export async function createContractStores(label: string): Promise<ContractStores> {
  const [pgDb, myDb, mgDb] = await Promise.all([createPgDatabase(label), createMysqlDatabase(label), createMongoDatabase(label)]);
  await pgExec(
    pgDb.url,
    `CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(12,2), qty int, note varchar(20), created_at timestamptz);
     INSERT INTO items VALUES (1, 'a@x.org', 1.50, 3, 'n1', '2026-01-01T00:00:00Z'), (2, 'b@y.org', 2.25, 4, 'n2', '2026-01-02T00:00:00Z')`,
  );
  const mysqlUrl = withDatabase(MYSQL_URL, myDb.name);
  await mysqlExec(
    mysqlUrl,
    `CREATE TABLE things (id int PRIMARY KEY, label varchar(50), amount decimal(10,2), n int, m int, flag tinyint(1));
     INSERT INTO things VALUES (1, 'one', 10.00, 1, 1, 1), (2, 'two', 20.00, 2, 2, 0);
     CREATE TABLE old_things (id int PRIMARY KEY, label varchar(50));
     INSERT INTO old_things VALUES (1, 'old')`,
  );
  await mgDb.client
    .db(mgDb.name)
    .collection('events')
    .insertMany([
      { _id: 'e1', kind: 'view', ts: new Date('2026-01-01T00:00:00Z') },
      { _id: 'e2', kind: 'buy', ts: new Date('2026-01-02T00:00:00Z') },
    ] as never[]);
  return {
    pgUrl: pgDb.url,
    mysqlUrl,
    mongoUrl: mgDb.url,
    mongoDb: mgDb.name,
    mongo: mgDb.client,
    dir: mkdtempSync(join(tmpdir(), `vg-${label}-`)),
    drop: async () => {
      await Promise.allSettled([pgDb.drop(), myDb.drop(), mgDb.drop()]);
    },
  };
}

export interface ContractConfigOptions {
  /** contract.checkInterval. */
  checkInterval?: string;
  /** The declared type of events.ts (default timestamptz). */
  tsType?: string;
  /** Extra YAML under services.mys's table entry for `things` (e.g. a deprecation). */
  thingsExtra?: string;
  /** Override the PostgreSQL URL (e.g. one nobody answers). */
  pgUrl?: string;
  /** server.publicUrl. */
  publicUrl?: string;
  /** Extra YAML under sources.mg.collections (more collections of the test's own). */
  moreCollections?: string;
  /** Extra YAML under services (more views of the test's own). */
  moreServices?: string;
}

/** Writes a config file for these stores and returns its path. */
export function writeContractConfig(s: ContractStores, name: string, o: ContractConfigOptions = {}): string {
  const yaml = `server:
  mcp: { allowedOrigins: [] }
${o.publicUrl ? `  publicUrl: ${o.publicUrl}\n` : ''}logging: { level: info }
audit: { sink: off }
contract: { checkInterval: ${o.checkInterval ?? '60s'} }
sources:
  pg: { kind: postgres, url: "${o.pgUrl ?? s.pgUrl}" }
  my: { kind: mysql, url: "${s.mysqlUrl}" }
  mg:
    kind: mongodb
    url: "${s.mongoUrl}"
    database: ${s.mongoDb}
    collections:
      events:
        columns:
          _id: { type: text }
          kind: { type: text }
          ts: { type: ${o.tsType ?? 'timestamptz'} }
${o.moreCollections ?? ''}services:
  pgs: { source: pg, tables: [items] }
  mys:
    source: my
    tables:
      - name: things
${o.thingsExtra ?? ''}      - name: old_things
        deprecated: { since: "2020-01-01", sunset: "2021-01-01", successor: mys.things }
  mgs: { source: mg, tables: [events] }
  fed:
    views:
      joined:
        key: [id]
        sql: SELECT i.id, i.price, t.label FROM pg.items i LEFT JOIN my.things t ON t.id = i.id
${o.moreServices ?? ''}auth:
  apiKeys:
    - { name: internal, sha256: "${sha(INTERNAL_KEY)}", role: internal }
    - { name: partner, sha256: "${sha(PARTNER_KEY)}", role: partner }
roles:
  internal:
    metrics: true
    grants: { "*": { read: true, aggregate: true } }
  partner:
    grants:
      pgs.items: { read: true, fields: [id, name, price], masks: { name: email }, maxLimit: 50 }
      mys.*: { read: true, maxLimit: 20 }
`;
  const file = join(s.dir, name);
  writeFileSync(file, yaml);
  return file;
}
