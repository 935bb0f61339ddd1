// Loads the reference scenario's demo data (examples/reference/data) into the configured stores,
// creating the databases when they are missing. The same files seed docker-compose.yml's stores.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { BSON, MongoClient, type Document } from 'mongodb';
import type { Config } from './config/schema.js';
import { isMongoConfig } from './sources/mongodb/index.js';
import { isMysqlConfig } from './sources/mysql/index.js';
import { isPostgresConfig } from './sources/postgres/index.js';

const DATA = fileURLToPath(new URL('../examples/reference/data/', import.meta.url));

/** The demo API keys whose hashes examples/reference/viewgate.yaml carries. */
export const DEMO_KEYS = { internal: 'vg_demo_internal_key', partner: 'vg_demo_partner_t2_key', llm: 'vg_demo_llm_t1_key' };

type Say = (msg: string) => void;

export async function loadDemoData(config: Config, say: Say): Promise<void> {
  const crm = config.sources.crm;
  const app = config.sources.app;
  const analytics = config.sources.analytics;
  if (!crm || !isMysqlConfig(crm) || !app || !isPostgresConfig(app) || !analytics || !isMongoConfig(analytics)) {
    throw new Error('the demo loader expects the reference config: sources crm (mysql), app (postgres), analytics (mongodb)');
  }
  await loadMysql(crm.url, readFileSync(DATA + 'crm.sql', 'utf8'), say);
  await loadPostgres(app.url, readFileSync(DATA + 'app.sql', 'utf8'), say);
  await loadMongo(analytics.url, analytics.database, readFileSync(DATA + 'events.json', 'utf8'), say);
}

async function loadMysql(url: string, sql: string, say: Say): Promise<void> {
  const u = new URL(url);
  const db = u.pathname.slice(1);
  u.pathname = '/';
  const admin = await mysql.createConnection({ uri: u.toString(), multipleStatements: true });
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${db.replace(/`/g, '')}\` CHARACTER SET utf8mb4`);
    await admin.query(`USE \`${db.replace(/`/g, '')}\``);
    await admin.query(sql);
  } finally {
    await admin.end();
  }
  say(`demo: loaded customers into MySQL database ${db}`);
}

async function loadPostgres(url: string, sql: string, say: Say): Promise<void> {
  const db = new URL(url).pathname.slice(1);
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${db.replace(/"/g, '')}"`);
  } finally {
    await admin.end();
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
  say(`demo: loaded orders into PostgreSQL database ${db}`);
}

async function loadMongo(url: string, database: string, json: string, say: Say): Promise<void> {
  const docs = BSON.EJSON.parse(json) as Document[];
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  try {
    const events = client.db(database).collection('events');
    await events.deleteMany({});
    await events.insertMany(docs);
  } finally {
    await client.close();
  }
  say(`demo: loaded ${docs.length} events into MongoDB database ${database}`);
}
