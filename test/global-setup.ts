// Makes sure every store the suite needs is up before any test runs (SPEC 11). A store that cannot
// be reached or started fails the whole run loudly, naming it: no test ever skips a store.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { MONGO_URL, MYSQL_URL, PG_URL, REDIS_URL } from './support/stores.js';

const root = fileURLToPath(new URL('..', import.meta.url));

async function check(name: string, url: string, probe: () => Promise<void>, hint: string): Promise<void> {
  try {
    await probe();
  } catch (err) {
    throw new Error(
      `test setup: ${name} is not reachable at ${redact(url)} (${(err as Error).message}). ${hint}`,
    );
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export default async function setup(): Promise<void> {
  await check(
    'PostgreSQL',
    PG_URL,
    async () => {
      const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
      await c.connect();
      await c.end();
    },
    'Start it (bash .ci/run does) or set VG_TEST_PG_URL.',
  );
  await check(
    'MariaDB/MySQL',
    MYSQL_URL,
    async () => {
      const c = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 5000 });
      await c.end();
    },
    'Start it (bash .ci/run does) or set VG_TEST_MYSQL_URL.',
  );
  if (!process.env.VG_TEST_MONGO_URL) {
    // Build and start FerretDB when nothing listens on 27017 yet.
    try {
      execFileSync('bash', [`${root}/scripts/ferretdb.sh`, 'start'], { stdio: 'inherit' });
    } catch {
      throw new Error('test setup: could not build or start FerretDB (MongoDB wire protocol) with scripts/ferretdb.sh');
    }
  }
  await check(
    'MongoDB (FerretDB)',
    MONGO_URL,
    async () => {
      const c = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5000 });
      await c.connect();
      await c.db('admin').command({ ping: 1 });
      await c.close();
    },
    'Run scripts/ferretdb.sh start, or set VG_TEST_MONGO_URL to a MongoDB.',
  );
  await check(
    'Redis',
    REDIS_URL,
    async () => {
      const c = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await c.connect();
        await c.ping();
      } finally {
        c.disconnect();
      }
    },
    'Start it (bash scripts/services.sh does) or set VG_TEST_REDIS_URL.',
  );
}
