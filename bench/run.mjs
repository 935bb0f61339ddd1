#!/usr/bin/env node
// Load and latency benchmarks (issue 7). Run `npm run build`, then `node bench/run.mjs`.
//   (a) cached REST hits                            (and the same query uncached, for the ratio)
//   (b) uncached single-store point queries vs the direct driver loop at the same concurrency
//       (PostgreSQL: app.orders by key; MariaDB: crm.customers by key)
//   (c) the federated one-customer query (three stores) through REST
//   (d) MCP query_view over HTTP vs REST for the same query
//   (g) aggregates, revenue per status: app.orders (PostgreSQL, one GROUP BY in the store), the same
//       shape on crm.customers (MariaDB, grouped by a bool column, which stays in the gateway),
//       a federated aggregate over federation.unified_customer_activity (embedded engine), and MCP
//       aggregate_view for the PostgreSQL query; the internal role gets `aggregate: true` for it
//   (h) the HTTP floor: GET /healthz (no auth, no audit, no store), to read the others against
// Options: --duration S (default 15), --connections N (default 10), --only h,a,b,c,d,g (default h,a,b,c,d),
//          --audit file|off (default file: one audit record per request appended to a file),
//          --rounds N (default 3: (h) and (a) run in N rounds of --duration / N seconds, their order
//          rotating, and their ratios are the medians of the rounds' ratios).
// Results go to stdout as markdown and to bench/results/run-<date>.json; bench/RESULTS.md records them.
// Load goes to 127.0.0.1 only and every run is bounded by --duration.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import mysql from 'mysql2/promise';
import {
  auditOff,
  auditToFile,
  setGrant,
  KEYS,
  load,
  loop,
  machine,
  pooled,
  MCP_HEADERS,
  mcpCall,
  median,
  prepareStores,
  ROOT,
  startViewgate,
  writeConfig,
} from './lib/setup.mjs';
import { federatedScenario } from './federated.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '10' },
    only: { type: 'string', default: 'h,a,b,c,d' },
    audit: { type: 'string', default: 'file' },
    rounds: { type: 'string', default: '3' },
  },
});
const duration = Math.min(120, Number(values.duration));
const connections = Math.min(64, Number(values.connections));
const only = new Set(values.only.split(','));
const rounds = Math.max(1, Math.min(10, Number(values.rounds) || 1));
const WARMUP = 3;

const env = await prepareStores('vg_bench');
const auditDir = mkdtempSync(join(tmpdir(), 'vg-bench-audit-'));
// Audit goes to a file, as in production (or off, to see what it costs); the external role's grant
// is cached for (a); for (g) only, the internal role may aggregate.
const { path: configPath } = writeConfig((y) => {
  const granted = only.has('g') ? setGrant(y, 'internal', { aggregate: true }, '*') : y;
  const edited = auditToFile(setGrant(granted, 'external', { cacheTtl: '60s' }), join(auditDir, 'audit.log'));
  return values.audit === 'off' ? auditOff(edited) : edited;
});
const vg = await startViewgate(configPath, env);
const results = {
  machine: machine(),
  settings: { duration, connections, rounds, warmupSeconds: WARMUP, audit: values.audit },
  scenarios: {},
};

async function http(name, opts) {
  await load({ ...opts, connections, duration: WARMUP });
  const r = await load({ ...opts, connections, duration });
  results.scenarios[name] = r;
  console.error(
    `${name}: ${r.rps} req/s p50 ${r.p50} p95 ${r.p95} p99 ${r.p99} ms${r.unexpected ? ` UNEXPECTED ${JSON.stringify(r.unexpected)}` : ''}`,
  );
  return r;
}

/**
 * Scenarios compared with each other (goal 2: a cached hit against /healthz and against the same
 * query uncached), in --rounds rounds of --duration / --rounds seconds each, their order rotating
 * from round to round, so that whatever else the machine does weighs on all of them alike. Each
 * scenario's row pools its rounds (latencies, errors, unexpected statuses); `roundRps` keeps every
 * round's rate for the paired ratios.
 */
async function rotatedRounds(scenarios) {
  const seconds = Math.max(3, Math.round(duration / rounds));
  for (const [, opts] of scenarios) await load({ ...opts, connections, duration: WARMUP });
  const runs = scenarios.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < scenarios.length; k++) {
      const i = (k + round) % scenarios.length;
      runs[i].push(await load({ ...scenarios[i][1], connections, duration: seconds, keepLatencies: true }));
    }
  }
  scenarios.forEach(([name], i) => {
    const r = pooled(runs[i], rounds * seconds);
    results.scenarios[name] = r;
    console.error(
      `${name}: ${r.rps} req/s p50 ${r.p50} p95 ${r.p95} p99 ${r.p99} ms, rounds ${r.roundRps.join(' ')}${r.unexpected ? ` UNEXPECTED ${JSON.stringify(r.unexpected)}` : ''}`,
    );
  });
}

async function direct(name, fn) {
  await loop({ fn, concurrency: connections, duration: WARMUP });
  const r = await loop({ fn, concurrency: connections, duration });
  results.scenarios[name] = r;
  console.error(`${name}: ${r.rps} req/s p50 ${r.p50} p95 ${r.p95} p99 ${r.p99} ms errors ${r.errors}`);
  return r;
}

try {
  const healthz = ['h_http_floor_healthz', { url: `${vg.url}/healthz` }];
  const q = `${vg.url}/api/v2/crm/_table/customers?filter=${encodeURIComponent('customer_id = 1')}`;
  const cached = ['a_rest_cached_hit', { url: q, headers: { 'X-API-Key': KEYS.partner } }];
  // The same query for a role without cacheTtl: what the cache saves.
  const uncached = ['a_rest_same_query_uncached', { url: q, headers: { 'X-API-Key': KEYS.internal } }];
  if (only.has('h') && only.has('a')) await rotatedRounds([healthz, cached, uncached]);
  else if (only.has('h')) await http(...healthz);
  else if (only.has('a')) await rotatedRounds([cached, uncached]);
  if (only.has('b')) {
    await http('b_rest_pg_point', { url: `${vg.url}/api/v2/app/_table/orders/1001`, headers: { 'X-API-Key': KEYS.internal } });
    const pool = new pg.Pool({ connectionString: env.APP_PG_URL, max: 10 });
    await direct('b_direct_pg_point', () =>
      pool.query('SELECT order_id, customer_id, total_amount, status, created_at FROM orders WHERE order_id = $1', ['1001']),
    );
    await pool.end();
    await http('b_rest_mariadb_point', { url: `${vg.url}/api/v2/crm/_table/customers/3`, headers: { 'X-API-Key': KEYS.internal } });
    const mpool = mysql.createPool({ uri: env.CRM_MYSQL_URL, connectionLimit: 10 });
    await direct('b_direct_mariadb_point', () =>
      mpool.execute('SELECT customer_id, tenant_id, email, full_name, is_active, created_at FROM customers WHERE customer_id = ?', [3]),
    );
    await mpool.end();
  }
  if (only.has('c')) {
    await federatedScenario({ url: vg.url, http });
  }
  if (only.has('d')) {
    const fields = ['customer_id', 'full_name', 'is_active'];
    await http('d_rest_llm_query', {
      url: `${vg.url}/api/v2/crm/_table/customers?filter=${encodeURIComponent('customer_id = 3')}&fields=${fields.join(',')}`,
      headers: { 'X-API-Key': KEYS.llm },
    });
    await http('d_mcp_query_view', {
      url: `${vg.url}/mcp`,
      method: 'POST',
      headers: { ...MCP_HEADERS, 'X-API-Key': KEYS.llm },
      body: mcpCall('query_view', { view: 'crm.customers', filter: 'customer_id = 3', fields }),
    });
  }
  if (only.has('g')) {
    const headers = { 'X-API-Key': KEYS.internal };
    const groups = (path, params) => `${vg.url}/api/v2${path}?${new URLSearchParams(params).toString()}`;
    await http('g_rest_pg_group_pushed', {
      url: groups('/app/_table/orders', { fields: 'status,count(*),sum(total_amount) as revenue', group: 'status' }),
      headers,
    });
    await http('g_rest_mariadb_group', {
      url: groups('/crm/_table/customers', {
        fields: 'tenant_id,is_active,count(*),count(distinct email) as emails',
        group: 'tenant_id,is_active',
      }),
      headers,
    });
    await http('g_rest_federated_group', {
      url: groups('/federation/_table/unified_customer_activity', {
        fields: 'event_type,count(distinct order_id) as orders,sum(total_amount) as revenue',
        group: 'event_type',
        order: 'revenue desc',
      }),
      headers,
    });
    await http('g_mcp_aggregate_view_pg', {
      url: `${vg.url}/mcp`,
      method: 'POST',
      headers: { ...MCP_HEADERS, ...headers },
      body: mcpCall('aggregate_view', {
        view: 'app.orders',
        group_by: ['status'],
        metrics: [{ fn: 'count' }, { fn: 'sum', field: 'total_amount', as: 'revenue' }],
      }),
    });
  }
} finally {
  const code = await vg.stop();
  if (code !== 0) console.error(`viewgate exited with ${code}: ${vg.output().err}`);
}

const s = results.scenarios;
const ratio = (x, y) => (s[x] && s[y] && s[y].rps ? Math.round((s[x].rps / s[y].rps) * 100) / 100 : undefined);
// Scenarios measured in rotated rounds: the median of the rounds' ratios (each round's rate of x over y's).
const pairedRatio = (x, y) => {
  const [a, b] = [s[x]?.roundRps, s[y]?.roundRps];
  if (!a || !b || a.length !== b.length) return ratio(x, y);
  return Math.round(median(a.map((v, i) => v / b[i])) * 100) / 100;
};
results.ratios = {
  cached_vs_uncached_rps: pairedRatio('a_rest_cached_hit', 'a_rest_same_query_uncached'),
  cached_vs_healthz_rps: pairedRatio('a_rest_cached_hit', 'h_http_floor_healthz'),
  rest_vs_direct_pg_rps: ratio('b_rest_pg_point', 'b_direct_pg_point'),
  rest_vs_direct_mariadb_rps: ratio('b_rest_mariadb_point', 'b_direct_mariadb_point'),
  mcp_vs_rest_rps: ratio('d_mcp_query_view', 'd_rest_llm_query'),
  federated_vs_single_store_point_rps: ratio('c_rest_federated_one_customer', 'b_rest_mariadb_point'),
  aggregate_in_process_vs_pushed_rps: ratio('g_rest_mariadb_group', 'g_rest_pg_group_pushed'),
  mcp_vs_rest_aggregate_rps: ratio('g_mcp_aggregate_view_pg', 'g_rest_pg_group_pushed'),
};

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const file = join(ROOT, 'bench/results', `run-${results.machine.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');

const rows = Object.entries(s)
  .filter(([, r]) => r && r.rps !== undefined)
  .map(([name, r]) => `| ${name} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.requests} |`);
console.log(
  `machine: ${JSON.stringify(results.machine)}\nsettings: ${connections} connections, ${duration} s per scenario after ${WARMUP} s warm-up, audit ${values.audit}\n`,
);
console.log('| scenario | req/s | p50 ms | p95 ms | p99 ms | requests |\n|---|---|---|---|---|---|\n' + rows.join('\n'));
console.log(`\nratios: ${JSON.stringify(results.ratios)}\nwritten: ${file}`);
