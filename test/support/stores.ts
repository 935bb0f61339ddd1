// Connections to the real test stores (docs/testing.md) and per-test databases with the vg_test_
// prefix.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { MongoClient } from 'mongodb';

export const PG_URL = process.env.VG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.VG_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const MONGO_URL = process.env.VG_TEST_MONGO_URL ?? 'mongodb://127.0.0.1:27017/';
export const REDIS_URL = process.env.VG_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique database name for one test file: vg_test_<label>_<random>. */
export function testDbName(label: string): string {
  return `vg_test_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * Creates a PostgreSQL database (C collation, so text order is code-point order like the oracle
 * of docs/testing.md) and returns its URL and a drop function.
 */
export async function createPgDatabase(label: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = testDbName(label);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(PG_URL, name),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function createMysqlDatabase(label: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = testDbName(label);
  const admin = await mysql.createConnection(MYSQL_URL);
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(MYSQL_URL, name),
    drop: async () => {
      const c = await mysql.createConnection(MYSQL_URL);
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}

/** A MongoDB database name unique to the caller; drop() removes it. */
export async function createMongoDatabase(
  label: string,
): Promise<{ url: string; name: string; client: MongoClient; drop: () => Promise<void> }> {
  const name = testDbName(label);
  const client = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  return {
    name,
    url: MONGO_URL,
    client,
    drop: async () => {
      try {
        await client.db(name).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

/** Runs SQL statements on a PostgreSQL URL. */
export async function pgExec(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

export async function mysqlExec(url: string, sql: string, params: unknown[] = []): Promise<unknown> {
  const c = await mysql.createConnection({ uri: url, multipleStatements: true });
  try {
    const [rows] = await c.query(sql, params);
    return rows;
  } finally {
    await c.end();
  }
}
