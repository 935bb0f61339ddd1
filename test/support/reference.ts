// The reference scenario on fresh vg_test_ databases: the example config with its URLs pointed at
// them and the demo data loaded by the same loader `viewgate demo` uses.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { loadDemoData } from '../../src/demo.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.js';
import { buildServer } from '../../src/server.js';
import type { AuditRecord, AuditSink } from '../../src/ops/audit.js';
import { createLogger } from '../../src/ops/logger.js';
import { MONGO_URL, MYSQL_URL, PG_URL, testDbName, withDatabase } from './stores.js';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { MongoClient } from 'mongodb';

export const REFERENCE_CONFIG = fileURLToPath(new URL('../../examples/reference/viewgate.yaml', import.meta.url));

export interface ReferenceStores {
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** Creates the three databases, loads the demo data, returns the env that points the config at them. */
export async function createReferenceStores(label: string): Promise<ReferenceStores> {
  const mysqlDb = testDbName(`${label}_crm`);
  const pgDb = testDbName(`${label}_app`);
  const mongoDb = testDbName(`${label}_events`);
  const env = {
    CRM_MYSQL_URL: withDatabase(MYSQL_URL, mysqlDb),
    APP_PG_URL: withDatabase(PG_URL, pgDb),
    EVENTS_MONGO_URL: MONGO_URL,
    EVENTS_MONGO_DB: mongoDb,
  };
  await loadDemoData(parseConfig(readFileSync(REFERENCE_CONFIG, 'utf8'), REFERENCE_CONFIG, env), () => {});
  return {
    env,
    async drop() {
      const m = await mysql.createConnection(MYSQL_URL);
      await m.query(`DROP DATABASE IF EXISTS \`${mysqlDb}\``).finally(() => m.end());
      const p = new pg.Client({ connectionString: PG_URL });
      await p.connect();
      await p.query(`DROP DATABASE IF EXISTS "${pgDb}" WITH (FORCE)`).finally(() => p.end());
      const c = new MongoClient(MONGO_URL);
      await c.connect();
      await c
        .db(mongoDb)
        .dropDatabase()
        .finally(() => c.close());
    },
  };
}

export function referenceConfig(env: Record<string, string>, edit?: (yaml: string) => string): Config {
  const text = readFileSync(REFERENCE_CONFIG, 'utf8');
  return parseConfig(edit ? edit(text) : text, REFERENCE_CONFIG, { ...process.env, ...env });
}

export class MemoryAuditSink implements AuditSink {
  records: AuditRecord[] = [];
  fail = false;
  async write(records: AuditRecord[]): Promise<void> {
    if (this.fail) throw new Error('audit sink down');
    this.records.push(...records);
  }
  async close(): Promise<void> {}
}

export interface RunningServer {
  url: string;
  rt: Runtime;
  app: FastifyInstance;
  audit: MemoryAuditSink;
  close(): Promise<void>;
}

/**
 * `host`: '::' listens on IPv6 and IPv4 alike (tests of client addresses); `url` stays 127.0.0.1's.
 * `port`: a port chosen before the config was written (the console's redirect URL names it); any free one by default.
 */
export async function startServer(config: Config, opts: RuntimeOptions = {}, host = '127.0.0.1', port = 0): Promise<RunningServer> {
  const audit = new MemoryAuditSink();
  const rt = await createRuntime(config, { logger: createLogger('silent'), auditSink: audit, ...opts });
  const app = await buildServer(rt);
  try {
    await app.listen({ host, port });
  } catch (err) {
    // A port taken meanwhile (EADDRINUSE): release what was opened, so the caller may try another.
    await app.close();
    await rt.close();
    throw err;
  }
  const scheme = config.server.tls ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    url,
    rt,
    app,
    audit,
    async close() {
      await app.close();
      await rt.close();
    },
  };
}

export const KEYS = { internal: 'vg_demo_internal_key', partner: 'vg_demo_partner_t2_key', llm: 'vg_demo_llm_t1_key' };

/** The MCP tools the reference scenario's internal role is offered (built-in and curated), sorted. */
export const INTERNAL_TOOLS = [
  'activity_by_event_type',
  'aggregate_view',
  'customer_activity_by_email',
  'describe_view',
  'export_view',
  'list_views',
  'query_sql',
  'query_view',
  'recent_events',
];

export async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers, text };
}

/**
 * YAML lines under `roles:` for `stats`, an aggregate-only role on app.orders (groups from at least
 * 3 customers) with the given masks (a YAML map) and group cap.
 */
export function aggregateOnlyOrdersRole(masks: string, maxLimit: number): string {
  return `
  stats:
    grants:
      app.orders:
        read: false
        aggregate: true
        fields: [order_id, status, total_amount, created_at]
        masks: ${masks}
        minGroupSize: { k: 3, distinctOn: customer_id }
        maxLimit: ${maxLimit}
`;
}
