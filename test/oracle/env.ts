// Loads one fixture into the four stores and into the oracle PostgreSQL database, and builds the
// embedded views over the stores.
//
//   MariaDB  vg_test_oracle_<fixture>_crm_*      utf8mb4_general_ci (case-insensitive, PAD SPACE)
//   Postgres vg_test_oracle_<fixture>_app_*      ICU en-US collation (linguistic order)
//   MongoDB  vg_test_oracle_<fixture>_an_*       (FerretDB here)
//   SQLite   <tmpdir>/vg-oracle-<fixture>-*/lite.db   written by better-sqlite3, served read-only
//   Postgres vg_test_oracle_<fixture>_oracle_*   TEMPLATE template0, LC_COLLATE/LC_CTYPE 'C'
//
// The store databases deliberately do not use code-point collations: the engine (and its sources)
// must give PostgreSQL "C" semantics anyway (docs/query.md, "Values"). The oracle database has the
// schemas crm, app, analytics and lite, so the view SQL runs there unchanged. Its crm tables are
// copied from what MariaDB actually holds (read back with mysql2), its analytics tables from what
// MongoDB actually holds (read back with the driver and flattened to the declared columns by this
// file's own code: a missing field and null are both NULL, a value that does not fit a column
// declared `onTypeMismatch: null` is NULL), its lite tables from what SQLite actually holds (read
// back with better-sqlite3, integers as bigint, typed by each column's declared type: a NUMERIC
// value is whatever INTEGER or REAL SQLite made of it); app runs the same SQL as the app source.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import Database from 'better-sqlite3';
import { afterAll, beforeAll } from 'vitest';
import mysql from 'mysql2/promise';
import { Binary, MongoClient, ObjectId, type Document } from 'mongodb';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { Sources } from '../../src/sources/index.js';
import { buildEmbeddedView, type SqlViewSpec } from '../../src/engine/embedded/index.js';
import type { View } from '../../src/engine/view.js';
import { MONGO_URL, MYSQL_URL, PG_URL, testDbName, withDatabase } from '../support/stores.js';
import { fixture, MONGO_COLLECTIONS, type Fixture, type FixtureName, type MongoColumnDecl } from './fixtures.js';
import { viewsFor, type OracleView } from './views.js';

export const SERVICE = 'fed';
/** The API key (role internal: reads everything) of the oracle config, for REST checks. */
export const ORACLE_KEY = 'vg_oracle_internal_key';
const ORACLE_KEY_SHA256 = '63b635e139cc27bc82ce755262dbf29a7e58d96811a5699c2ecefe5f91f7bae4';

/** The value categories the oracle distinguishes, from PostgreSQL's result types. */
export type OracleType = 'int' | 'numeric' | 'float' | 'text' | 'bool' | 'timestamptz' | 'date' | 'jsonb' | 'bytea';

const OID_TYPES: Record<number, OracleType> = {
  16: 'bool',
  17: 'bytea',
  19: 'text',
  20: 'int',
  21: 'int',
  23: 'int',
  25: 'text',
  114: 'jsonb',
  700: 'float',
  701: 'float',
  1042: 'text',
  1043: 'text',
  1082: 'date',
  1114: 'timestamptz',
  1184: 'timestamptz',
  1700: 'numeric',
  3802: 'jsonb',
};

export interface OracleResult {
  rows: Record<string, unknown>[];
  types: Record<string, OracleType>;
  /** Column names in select-list order. */
  columns: string[];
}

export interface OracleEnv {
  fixture: Fixture;
  config: Config;
  sources: Sources;
  /** Database names and URLs of the stores, for tests that read them directly (`sqlite`: the file, when the fixture has one). */
  urls: { mysql: string; app: string; mongo: string; mongoDb: string; oracle: string; sqlite?: string };
  views: OracleView[];
  /** The embedded view (built once per pushdown and batch-size setting). */
  view(name: string, opts?: { pushdown?: boolean; batchSize?: number }): Promise<View>;
  /** Runs SQL on the oracle database; values decoded into the value model by result type. */
  oracle(sql: string, params?: unknown[]): Promise<OracleResult>;
  close(): Promise<void>;
}

type BuildWithOptions = (spec: SqlViewSpec, options?: { pushdown?: boolean }) => Promise<View>;

export async function createOracleEnv(fixture: Fixture, views: OracleView[]): Promise<OracleEnv> {
  const label = `oracle_${fixture.name.slice(0, 3)}`;
  const names = {
    mysql: testDbName(`${label}_crm`),
    app: testDbName(`${label}_app`),
    mongo: testDbName(`${label}_an`),
    oracle: testDbName(`${label}_oracle`),
  };
  const drops: (() => Promise<void>)[] = [];
  const urls: OracleEnv['urls'] = {
    mysql: withDatabase(MYSQL_URL, names.mysql),
    app: withDatabase(PG_URL, names.app),
    mongo: MONGO_URL,
    mongoDb: names.mongo,
    oracle: withDatabase(PG_URL, names.oracle),
    ...(fixture.sqlite ? { sqlite: sqliteFile(fixture.name, drops) } : {}),
  };
  const cleanup = async (): Promise<void> => {
    for (const drop of drops.reverse()) await drop().catch(() => undefined);
  };
  let pool: pg.Pool | undefined;
  let sources: Sources | undefined;
  try {
    await loadMysql(names.mysql, fixture, drops);
    await loadApp(names.app, fixture, drops);
    await loadMongo(names.mongo, fixture, drops);
    if (fixture.sqlite && urls.sqlite) loadSqlite(urls.sqlite, fixture.sqlite);
    await createOracleDb(names.oracle, drops);
    pool = new pg.Pool({
      connectionString: urls.oracle,
      max: 4,
      options: '-c TimeZone=UTC -c extra_float_digits=1',
      types: { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig,
    });
    // pool.end() resolves before the sockets close, so the DROP ... WITH (FORCE) in cleanup can
    // terminate a closing backend; its FATAL must not be an unhandled 'error' event.
    pool.on('error', () => {});
    await fillOracle(pool, urls, fixture);

    const config = oracleConfig(urls, views);
    sources = new Sources(config);
    await sources.connect();
    const cfg = config;
    const src = sources;
    const built = new Map<string, Promise<View>>();
    const p = pool;
    return {
      fixture,
      config,
      sources,
      urls,
      views,
      view(name, opts) {
        const pushdown = opts?.pushdown ?? true;
        const batchSize = opts?.batchSize ?? cfg.engine.batchSize;
        const k = `${name}/${pushdown}/${batchSize}`;
        let v = built.get(k);
        if (!v) {
          const svc = cfg.services[SERVICE];
          if (!svc || !('views' in svc) || !svc.views[name]) throw new Error(`no oracle view ${name}`);
          // Another batch size: the same sources, a config copy with engine.batchSize changed.
          const config = batchSize === cfg.engine.batchSize ? cfg : { ...cfg, engine: { ...cfg.engine, batchSize } };
          const spec: SqlViewSpec = { service: SERVICE, name, view: svc.views[name]!, config, sources: src };
          v = (buildEmbeddedView as BuildWithOptions)(spec, pushdown ? undefined : { pushdown: false });
          built.set(k, v);
          v.catch(() => built.delete(k));
        }
        return v;
      },
      oracle: (sql, params = []) => oracleQuery(p, sql, params),
      async close() {
        await src.close();
        await p.end();
        await cleanup();
      },
    };
  } catch (err) {
    await sources?.close();
    await pool?.end();
    await cleanup();
    throw err;
  }
}

/**
 * Registers beforeAll/afterAll hooks that create a fixture's oracle environment (stores, oracle
 * database, sources) for the enclosing describe block and close it afterwards.
 */
export function useOracleEnv(name: FixtureName, set: (env: OracleEnv) => void): void {
  let env: OracleEnv | undefined;
  beforeAll(async () => {
    env = await createOracleEnv(fixture(name), viewsFor(name));
    set(env);
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });
}

/** The viewgate config for the fixture's stores: sources crm/app/analytics (and lite, with a SQLite file) and service `fed`. */
export function oracleConfig(urls: OracleEnv['urls'], views: OracleView[], extra: Record<string, unknown> = {}): Config {
  const cfg = {
    server: { host: '127.0.0.1', port: 0 },
    engine: { rowBudget: 100_000, batchSize: 500 },
    audit: { sink: 'off' },
    logging: { level: 'silent' },
    sources: {
      crm: { kind: 'mysql', url: urls.mysql, timeout: '10s', pool: 4 },
      app: { kind: 'postgres', url: urls.app, timeout: '10s', pool: 4 },
      analytics: { kind: 'mongodb', url: urls.mongo, database: urls.mongoDb, timeout: '10s', pool: 4, collections: MONGO_COLLECTIONS },
      ...(urls.sqlite ? { lite: { kind: 'sqlite', path: urls.sqlite } } : {}),
    },
    services: {
      [SERVICE]: {
        engine: 'embedded',
        views: Object.fromEntries(views.map((v) => [v.name, { key: v.key, sql: v.sql, description: v.description }])),
      },
    },
    auth: {
      apiKeys: [{ name: 'oracle', sha256: ORACLE_KEY_SHA256, role: 'internal' }],
    },
    roles: { internal: { grants: { '*': { read: true, explain: true } } } },
    ...extra,
  };
  // JSON is YAML; no string here contains `${`, so nothing is substituted.
  return parseConfig(JSON.stringify(cfg), 'oracle.yaml', {});
}

// ---- loading the stores -----------------------------------------------------------------------

async function loadMysql(db: string, fixture: Fixture, drops: (() => Promise<void>)[]): Promise<void> {
  const admin = await mysql.createConnection({ uri: MYSQL_URL, multipleStatements: true });
  try {
    await admin.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
    drops.push(async () => {
      const c = await mysql.createConnection(MYSQL_URL);
      await c.query(`DROP DATABASE IF EXISTS \`${db}\``).finally(() => c.end());
    });
    await admin.query(`USE \`${db}\``);
    await admin.query(fixture.mysql.ddl);
    for (const [table, { columns, values }] of Object.entries(fixture.mysql.rows)) {
      if (values.length === 0) continue;
      const cols = columns.map((c) => `\`${c}\``).join(', ');
      const marks = values.map((r) => `(${r.map(() => '?').join(', ')})`).join(', ');
      await admin.query(`INSERT INTO \`${table}\` (${cols}) VALUES ${marks}`, values.flat());
    }
  } finally {
    await admin.end();
  }
}

async function loadApp(db: string, fixture: Fixture, drops: (() => Promise<void>)[]): Promise<void> {
  // An ICU linguistic collation: the PostgreSQL source must still order and compare by code point.
  await pgAdmin(
    `CREATE DATABASE "${db}" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`,
  );
  drops.push(() => pgAdmin(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`));
  const c = new pg.Client({ connectionString: withDatabase(PG_URL, db) });
  await c.connect();
  try {
    await c.query(fixture.postgres);
  } finally {
    await c.end();
  }
}

async function loadMongo(db: string, fixture: Fixture, drops: (() => Promise<void>)[]): Promise<void> {
  const client = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  drops.push(async () => {
    const c = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5000 });
    await c.connect();
    await c
      .db(db)
      .dropDatabase()
      .finally(() => c.close());
  });
  try {
    for (const [coll, docs] of Object.entries(fixture.mongo)) {
      if (docs.length > 0)
        await client
          .db(db)
          .collection(coll)
          .insertMany(docs.map((d) => ({ ...d })));
    }
  } finally {
    await client.close();
  }
}

/** A fresh temp folder for the fixture's SQLite file; the file's path (the loader writes it). */
function sqliteFile(fixtureName: string, drops: (() => Promise<void>)[]): string {
  const dir = mkdtempSync(join(tmpdir(), `vg-oracle-${fixtureName.slice(0, 3)}-`));
  drops.push(async () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'lite.db');
}

/** Writes the fixture's SQLite tables into a new file (write mode here; viewgate opens it read-only). */
function loadSqlite(path: string, data: NonNullable<Fixture['sqlite']>): void {
  const db = new Database(path);
  try {
    db.exec(data.ddl);
    db.transaction(() => {
      for (const [table, { columns, values }] of Object.entries(data.rows)) {
        const insert = db.prepare(
          `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
        );
        for (const row of values) insert.run(...row);
      }
    })();
  } finally {
    db.close();
  }
}

async function createOracleDb(db: string, drops: (() => Promise<void>)[]): Promise<void> {
  await pgAdmin(`CREATE DATABASE "${db}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  drops.push(() => pgAdmin(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`));
}

async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

// ---- filling the oracle -----------------------------------------------------------------------

async function fillOracle(pool: pg.Pool, urls: OracleEnv['urls'], fixture: Fixture): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('CREATE SCHEMA crm; CREATE SCHEMA app; CREATE SCHEMA analytics');
    await c.query(`SET search_path = app; ${fixture.postgres}; RESET search_path`);
    await copyMysql(c, urls.mysql);
    await copyMongo(c, urls.mongoDb);
    if (urls.sqlite) await copySqlite(c, urls.sqlite);
    await c.query('ANALYZE');
  } finally {
    c.release();
  }
}

/** PostgreSQL type for a MariaDB column (DATETIME is read as UTC). */
function pgTypeForMysql(dataType: string, columnType: string): string {
  const unsigned = columnType.includes('unsigned');
  switch (dataType) {
    case 'tinyint':
      return /^tinyint\(1\)/.test(columnType) ? 'boolean' : 'int2';
    case 'smallint':
      return unsigned ? 'int4' : 'int2';
    case 'mediumint':
    case 'int':
      return unsigned ? 'int8' : 'int4';
    case 'bigint':
      return unsigned ? 'numeric(20,0)' : 'int8';
    case 'decimal': {
      const m = /decimal\((\d+),(\d+)\)/.exec(columnType);
      return m ? `numeric(${m[1]},${m[2]})` : 'numeric';
    }
    case 'float':
      return 'float4';
    case 'double':
      return 'float8';
    case 'date':
      return 'date';
    case 'datetime':
    case 'timestamp':
      return 'timestamptz';
    case 'char':
    case 'varchar':
    case 'text':
    case 'tinytext':
    case 'mediumtext':
    case 'longtext':
      return 'text';
    default:
      throw new Error(`oracle loader: no PostgreSQL type for MariaDB ${columnType}`);
  }
}

async function copyMysql(c: pg.PoolClient, url: string): Promise<void> {
  const m = await mysql.createConnection({
    uri: url,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    timezone: 'Z',
  });
  try {
    const [cols] = (await m.query(
      `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    )) as unknown as [{ TABLE_NAME: string; COLUMN_NAME: string; DATA_TYPE: string; COLUMN_TYPE: string; IS_NULLABLE: string }[]];
    const tables = new Map<string, { name: string; pgType: string; notNull: boolean }[]>();
    for (const r of cols) {
      const list = tables.get(r.TABLE_NAME) ?? [];
      list.push({
        name: r.COLUMN_NAME,
        pgType: pgTypeForMysql(r.DATA_TYPE.toLowerCase(), r.COLUMN_TYPE.toLowerCase()),
        notNull: r.IS_NULLABLE === 'NO',
      });
      tables.set(r.TABLE_NAME, list);
    }
    for (const [table, columns] of tables) {
      const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;
      await c.query(
        `CREATE TABLE crm.${q(table)} (${columns.map((col) => `${q(col.name)} ${col.pgType}${col.notNull ? ' NOT NULL' : ''}`).join(', ')})`,
      );
      const [rows] = (await m.query({
        sql: `SELECT ${columns.map((col) => `\`${col.name}\``).join(', ')} FROM \`${table}\``,
        rowsAsArray: true,
      })) as unknown as [unknown[][]];
      for (const row of rows) {
        const values = row.map((v, i) => mysqlValueText(v, columns[i]!.pgType));
        await c.query(`INSERT INTO crm.${q(table)} VALUES (${columns.map((col, i) => `$${i + 1}::${col.pgType}`).join(', ')})`, values);
      }
    }
  } finally {
    await m.end();
  }
}

function mysqlValueText(v: unknown, pgType: string): string | null {
  if (v === null || v === undefined) return null;
  if (pgType === 'boolean') return Number(v) !== 0 ? 'true' : 'false';
  if (pgType === 'timestamptz') return `${String(v)}+00`;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  return String(v);
}

/** PostgreSQL type for a SQLite column's declared type (the types the fixtures declare). */
function pgTypeForSqlite(declared: string): string {
  const t = declared.toUpperCase();
  const types: Record<string, string> = {
    INTEGER: 'int8',
    REAL: 'float8',
    NUMERIC: 'numeric',
    TEXT: 'text',
    BOOLEAN: 'boolean',
    DATE: 'date',
    DATETIME: 'timestamptz',
  };
  const pgType = types[t];
  if (!pgType) throw new Error(`oracle loader: no PostgreSQL type for SQLite ${declared}`);
  return pgType;
}

async function copySqlite(c: pg.PoolClient, path: string): Promise<void> {
  const db = new Database(path, { readonly: true });
  try {
    await c.query('CREATE SCHEMA lite');
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;
    for (const table of tables) {
      const info = db.prepare(`PRAGMA table_info(${q(table)})`).all() as { name: string; type: string; notnull: number }[];
      const columns = info.map((col) => ({ name: col.name, pgType: pgTypeForSqlite(col.type), notNull: col.notnull === 1 }));
      await c.query(
        `CREATE TABLE lite.${q(table)} (${columns.map((col) => `${q(col.name)} ${col.pgType}${col.notNull ? ' NOT NULL' : ''}`).join(', ')})`,
      );
      const rows = db
        .prepare(`SELECT ${columns.map((col) => q(col.name)).join(', ')} FROM ${q(table)}`)
        .safeIntegers(true)
        .raw(true)
        .all() as unknown[][];
      for (const row of rows) {
        const values = row.map((v, i) => sqliteValueText(v, columns[i]!.pgType, `${table}.${columns[i]!.name}`));
        await c.query(`INSERT INTO lite.${q(table)} VALUES (${columns.map((col, i) => `$${i + 1}::${col.pgType}`).join(', ')})`, values);
      }
    }
  } finally {
    db.close();
  }
}

/** A value as SQLite holds it (its storage class: bigint, number, string, null) as PostgreSQL input text. */
function sqliteValueText(v: unknown, pgType: string, where: string): string | null {
  if (v === null) return null;
  const misfit = (): never => {
    throw new Error(`oracle loader: SQLite ${where} holds ${typeof v} ${String(v)}, not a ${pgType} (not in the fixture's design)`);
  };
  switch (pgType) {
    case 'int8':
      return typeof v === 'bigint' ? v.toString() : misfit();
    case 'float8':
    case 'numeric':
      return typeof v === 'bigint' || typeof v === 'number' ? String(v) : misfit();
    case 'boolean':
      return typeof v === 'bigint' && (v === 0n || v === 1n) ? String(v === 1n) : misfit();
    case 'timestamptz':
      // ISO text, UTC unless it carries 'Z' or an offset; an INTEGER is Unix seconds.
      if (typeof v === 'bigint') return new Date(Number(v) * 1000).toISOString();
      return typeof v === 'string' ? (/(Z|[+-]\d\d:\d\d)$/.test(v) ? v : `${v}+00`) : misfit();
    default:
      return typeof v === 'string' ? v : misfit();
  }
}

const DECL_PG: Record<MongoColumnDecl['type'], string> = {
  text: 'text',
  int: 'int8',
  float: 'float8',
  numeric: 'numeric',
  bool: 'boolean',
  timestamptz: 'timestamptz',
  date: 'date',
  jsonb: 'jsonb',
};

async function copyMongo(c: pg.PoolClient, db: string): Promise<void> {
  const client = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5000, useBigInt64: true });
  await client.connect();
  try {
    for (const [coll, { columns }] of Object.entries(MONGO_COLLECTIONS)) {
      const names = Object.keys(columns);
      await c.query(`CREATE TABLE analytics.${coll} (${names.map((n) => `"${n}" ${DECL_PG[columns[n]!.type]}`).join(', ')})`);
      const docs = await client.db(db).collection(coll).find({}).toArray();
      for (const doc of docs) {
        const values = names.map((n) => flatten(doc, columns[n]!, coll, n));
        await c.query(
          `INSERT INTO analytics.${coll} VALUES (${names.map((n, i) => `$${i + 1}::${DECL_PG[columns[n]!.type]}`).join(', ')})`,
          values,
        );
      }
    }
  } finally {
    await client.close();
  }
}

const plainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof ObjectId) && !('_bsontype' in v);

/** A document's value for a declared column, as PostgreSQL input text (null for NULL). */
function flatten(doc: Document, decl: MongoColumnDecl, coll: string, column: string): string | null {
  const path = decl.path ?? column;
  let cur: unknown = doc;
  for (const seg of path.split('.')) {
    if (Array.isArray(cur))
      throw new Error(`oracle loader: ${coll}.${column}: an array on the declared path ${path} (not in the fixture's design)`);
    if (!plainObject(cur)) return null; // a scalar where an object should be: the field is missing
    cur = cur[seg];
  }
  if (cur === undefined || cur === null) return null;
  const misfit = (): null => {
    if (decl.onTypeMismatch === 'null') return null;
    throw new Error(`oracle loader: ${coll}.${column} of ${String(doc._id)}: ${String(cur)} does not fit ${decl.type}`);
  };
  switch (decl.type) {
    case 'text':
      return typeof cur === 'string' ? cur : cur instanceof ObjectId ? cur.toHexString() : misfit();
    case 'int':
      if (typeof cur === 'bigint') return cur.toString();
      return typeof cur === 'number' && Number.isSafeInteger(cur) ? String(cur) : misfit();
    case 'float':
      return typeof cur === 'number' ? String(cur) : misfit();
    case 'bool':
      return typeof cur === 'boolean' ? String(cur) : misfit();
    case 'timestamptz':
      return cur instanceof Date ? cur.toISOString() : misfit();
    case 'jsonb':
      return JSON.stringify(jsonOf(cur));
    default:
      return misfit();
  }
}

/** A BSON value as JSON: ObjectId as hex, dates as canonical timestamps, int64 beyond 2^53 as digits. */
function jsonOf(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Date) return `${v.toISOString().slice(0, 23)}000Z`;
  if (v instanceof ObjectId) return v.toHexString();
  if (v instanceof Binary) return Buffer.from(v.buffer).toString('base64');
  if (Array.isArray(v)) return v.map(jsonOf);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonOf(x)]));
  return v;
}

// ---- querying the oracle ----------------------------------------------------------------------

/** Runs SQL on a pool whose type parsers return raw text (see createOracleEnv), decoding by result type. */
export async function oracleQuery(pool: pg.Pool, sql: string, params: unknown[]): Promise<OracleResult> {
  const res = await pool.query({ text: sql, values: params });
  const types: Record<string, OracleType> = {};
  const columns = res.fields.map((f) => f.name);
  for (const f of res.fields) {
    const t = OID_TYPES[f.dataTypeID];
    if (!t) throw new Error(`oracle: no value-model type for column ${f.name} (PostgreSQL type oid ${f.dataTypeID})`);
    types[f.name] = t;
  }
  const rows = (res.rows as Record<string, string | null>[]).map((r) => {
    const out: Record<string, unknown> = {};
    for (const name of columns) out[name] = decodeOracle(types[name]!, r[name] ?? null);
    return out;
  });
  return { rows, types, columns };
}

/** PostgreSQL's text output -> the value model, independently of the sources' decoders. */
export function decodeOracle(type: OracleType, s: string | null): unknown {
  if (s === null) return null;
  switch (type) {
    case 'bool':
      return s === 't';
    case 'int':
      return BigInt(s);
    case 'float':
      return Number(s);
    case 'numeric':
    case 'text':
    case 'date':
      return s;
    case 'timestamptz': {
      // "2024-03-31 00:59:59.999999+00" (session TimeZone UTC) -> "2024-03-31T00:59:59.999999Z"
      const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/.exec(s);
      if (!m) throw new Error(`oracle: unexpected timestamptz text ${s}`);
      return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}Z`;
    }
    case 'jsonb':
      return JSON.parse(s);
    case 'bytea':
      return Buffer.from(s.slice(2), 'hex').toString('base64');
  }
}
