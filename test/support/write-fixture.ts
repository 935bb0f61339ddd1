// Stores and config for the write tests (docs/writes.md): the same tables in PostgreSQL and in
// MariaDB (customers with a unique e-mail, a check and a trigger; orders with a foreign key; items
// with a composite key; a table without a key), two tenants, and roles that may write, only read,
// see part of a table, or see nothing.
import { createHash } from 'node:crypto';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createMysqlDatabase, createPgDatabase, mysqlExec, pgExec } from './stores.js';

const sha = (k: string) => createHash('sha256').update(k).digest('hex');

export type StoreKind = 'postgres' | 'mysql';

const PG_DDL = [
  `CREATE TABLE w_customers (customer_id SERIAL PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, email TEXT UNIQUE,
     score INT CHECK (score >= 0), created_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
  `CREATE TABLE w_orders (order_id SERIAL PRIMARY KEY, tenant_id TEXT NOT NULL, customer_id INT REFERENCES w_customers (customer_id),
     amount NUMERIC(10,2) NOT NULL, note TEXT)`,
  `CREATE TABLE w_items (sku TEXT, region TEXT, qty INT NOT NULL, PRIMARY KEY (sku, region))`,
  `CREATE TABLE w_nokey (a INT, b TEXT)`,
  // A name of 'evil' moves the row to tenant zz as it is stored.
  `CREATE FUNCTION w_evil() RETURNS trigger AS $$ BEGIN IF NEW.name = 'evil' THEN NEW.tenant_id := 'zz'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
  `CREATE TRIGGER w_evil BEFORE INSERT OR UPDATE ON w_customers FOR EACH ROW EXECUTE FUNCTION w_evil()`,
];

const MYSQL_DDL = [
  `CREATE TABLE w_customers (customer_id INT AUTO_INCREMENT PRIMARY KEY, tenant_id VARCHAR(16) NOT NULL, name VARCHAR(64) NOT NULL,
     email VARCHAR(64) UNIQUE, score INT CHECK (score >= 0), created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB`,
  `CREATE TABLE w_orders (order_id INT AUTO_INCREMENT PRIMARY KEY, tenant_id VARCHAR(16) NOT NULL, customer_id INT,
     amount DECIMAL(10,2) NOT NULL, note VARCHAR(200), FOREIGN KEY (customer_id) REFERENCES w_customers (customer_id)) ENGINE=InnoDB`,
  `CREATE TABLE w_items (sku VARCHAR(16), region VARCHAR(16), qty INT NOT NULL, PRIMARY KEY (sku, region)) ENGINE=InnoDB`,
  `CREATE TABLE w_nokey (a INT, b TEXT)`,
  `CREATE TRIGGER w_evil_i BEFORE INSERT ON w_customers FOR EACH ROW BEGIN IF NEW.name = 'evil' THEN SET NEW.tenant_id = 'zz'; END IF; END`,
  `CREATE TRIGGER w_evil_u BEFORE UPDATE ON w_customers FOR EACH ROW BEGIN IF NEW.name = 'evil' THEN SET NEW.tenant_id = 'zz'; END IF; END`,
];

const SEED = [
  `INSERT INTO w_customers (customer_id, tenant_id, name, email, score) VALUES
     (1, 't1', 'Ann', 'ann@x.io', 5), (2, 't1', 'Bob', 'bob@x.io', 3), (3, 't2', 'Cid', 'cid@y.io', 1), (4, 't2', 'Dee', NULL, 0)`,
  `INSERT INTO w_orders (order_id, tenant_id, customer_id, amount) VALUES (1, 't1', 1, 10.00), (2, 't2', 3, 20.00)`,
  `INSERT INTO w_items VALUES ('a', 'eu', 1), ('a', 'us', 2), ('b', 'eu', 3)`,
];

export interface WriteStore {
  kind: StoreKind;
  url: string;
  /** Rows of a table, ordered by its first column, values as the driver gives them (text where it must). */
  rows(sql: string): Promise<Record<string, unknown>[]>;
  exec(sql: string): Promise<void>;
  drop(): Promise<void>;
}

export async function createWriteStore(kind: StoreKind, label: string): Promise<WriteStore> {
  if (kind === 'postgres') {
    const db = await createPgDatabase(`${label}_pg`);
    for (const s of [...PG_DDL, ...SEED]) await pgExec(db.url, s);
    for (const [t, c] of [
      ['w_customers', 'customer_id'],
      ['w_orders', 'order_id'],
    ])
      await pgExec(db.url, `SELECT setval(pg_get_serial_sequence('${t}', '${c}'), 100)`);
    return {
      kind,
      url: db.url,
      rows: async (sql) => (await pgExec(db.url, sql)).rows as Record<string, unknown>[],
      exec: async (sql) => void (await pgExec(db.url, sql)),
      drop: db.drop,
    };
  }
  const db = await createMysqlDatabase(`${label}_my`);
  for (const s of [...MYSQL_DDL, ...SEED]) await mysqlExec(db.url, s);
  await mysqlExec(db.url, 'ALTER TABLE w_customers AUTO_INCREMENT = 101');
  await mysqlExec(db.url, 'ALTER TABLE w_orders AUTO_INCREMENT = 101');
  return {
    kind,
    url: db.url,
    rows: async (sql) => (await mysqlExec(db.url, sql)) as unknown as Record<string, unknown>[],
    exec: async (sql) => void (await mysqlExec(db.url, sql)),
    drop: db.drop,
  };
}

const WRITE_KEYS = {
  admin: { role: 'admin' },
  t1: { role: 'tenant', claims: { tenant_id: 't1' } },
  t2: { role: 'tenant', claims: { tenant_id: 't2' } },
  reader: { role: 'reader' },
  partial: { role: 'partial' },
  outsider: { role: 'outsider' },
  cached: { role: 'cached' },
} as const;
export type Writer = keyof typeof WRITE_KEYS;

/** `extra.services` and `extra.roles` are added to (and replace by name) the fixture's; any other key replaces the fixture's. */
export function writeConfig(store: WriteStore, extra: Record<string, unknown> = {}): Config {
  const { services: moreServices = {}, roles: moreRoles = {}, ...rest } = extra as { services?: object; roles?: object };
  const tenantRow = 'tenant_id = {claims.tenant_id}';
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    audit: { sink: 'off' },
    logging: { level: 'silent' },
    sources: { src: { kind: store.kind, url: store.url } },
    services: {
      s: { source: 'src', tables: ['w_customers', 'w_orders', 'w_items', 'w_nokey'] },
      fed: { views: { v: { key: ['customer_id'], sql: 'SELECT c.customer_id, c.name FROM src.w_customers c' } } },
      ...moreServices,
    },
    auth: {
      apiKeys: Object.entries(WRITE_KEYS).map(([name, k]) => ({
        name,
        sha256: sha(`key-${name}`),
        role: k.role,
        ...('claims' in k ? { claims: k.claims } : {}),
      })),
    },
    roles: {
      admin: { grants: { '*': { read: true, write: { insert: true, update: true, delete: true, bulk: true } } } },
      tenant: {
        grants: {
          's.w_customers': {
            read: true,
            masks: { email: 'email' },
            rowFilter: tenantRow,
            write: { insert: true, update: true, delete: true, bulk: true, maxBulkRows: 3 },
          },
          's.w_orders': {
            read: true,
            rowFilter: tenantRow,
            write: {
              insert: true,
              update: true,
              delete: true,
              fields: ['tenant_id', 'customer_id', 'amount', 'note'],
              references: { customer_id: 's.w_customers' },
            },
          },
          'fed.v': { read: true },
        },
      },
      reader: { grants: { '*': { read: true } } },
      partial: { grants: { 's.w_customers': { read: true, fields: ['customer_id', 'name', 'score'], write: { update: true } } } },
      outsider: { grants: { 'fed.*': { read: true } } },
      cached: { grants: { '*': { read: true, cacheTtl: '60s', write: { update: true } } } },
      ...moreRoles,
    },
    ...rest,
  };
  return parseConfig(JSON.stringify(config), 'write-test.yaml', {});
}
