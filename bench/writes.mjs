#!/usr/bin/env node
// Write benchmarks (docs/writes.md). Run `npm run build`, then `node bench/writes.mjs`.
//   (w1) single-row insert: POST /api/v2/app/_table/bench_writes with one record, against the pg
//        driver doing the same (one transaction: INSERT ... RETURNING the key, COMMIT)
//   (w2) a batch of 500 records in one POST (one transaction, all or nothing), against the driver
//        inserting the same 500 rows one statement each in one transaction
// Both on PostgreSQL (the reference scenario's app database), with the internal role allowed to
// insert into a bench table the script creates. Options: --duration S (default 15),
// --connections N (default 10), --audit file|off (default file).
// Results go to stdout as markdown and to bench/results/writes-<date>.json.
// Load goes to 127.0.0.1 only and every run is bounded by --duration.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { parseDocument } from 'yaml';
import { auditOff, auditToFile, KEYS, load, loop, machine, prepareStores, ROOT, startViewgate, writeConfig } from './lib/setup.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '10' },
    audit: { type: 'string', default: 'file' },
  },
});
const duration = Math.min(120, Number(values.duration));
const connections = Math.min(64, Number(values.connections));
const WARMUP = 3;
const BATCH = 500;

const env = await prepareStores('vg_bench');
const admin = new pg.Client({ connectionString: env.APP_PG_URL });
await admin.connect();
await admin.query(
  'CREATE TABLE IF NOT EXISTS bench_writes (id BIGSERIAL PRIMARY KEY, customer_id INT NOT NULL, amount NUMERIC(12,2) NOT NULL, note TEXT)',
);
await admin.query('TRUNCATE bench_writes');
await admin.end();

const auditDir = mkdtempSync(join(tmpdir(), 'vg-bench-audit-'));
const { path: configPath } = writeConfig((y) => {
  const doc = parseDocument(y);
  doc.setIn(['services', 'app', 'tables'], doc.createNode(['orders', 'bench_writes']));
  doc.setIn(['roles', 'internal', 'grants', 'app.bench_writes'], doc.createNode({ read: true, write: { insert: true } }));
  const edited = auditToFile(doc.toString(), join(auditDir, 'audit.log'));
  return values.audit === 'off' ? auditOff(edited) : edited;
});

const vg = await startViewgate(configPath, env);
const results = {
  machine: machine(),
  settings: { duration, connections, warmupSeconds: WARMUP, audit: values.audit, batch: BATCH },
  scenarios: {},
};
const url = `${vg.url}/api/v2/app/_table/bench_writes`;
const headers = { 'X-API-Key': KEYS.internal, 'content-type': 'application/json' };
const record = (i) => ({ customer_id: (i % 50) + 1, amount: '12.50', note: `bench ${i}` });

async function viewgate(name, body) {
  const opts = { url, method: 'POST', headers, body: JSON.stringify(body), expectStatus: 201 };
  await load({ ...opts, connections, duration: WARMUP });
  const r = await load({ ...opts, connections, duration });
  results.scenarios[name] = r;
  return r;
}

async function driver(name, rows) {
  const pool = new pg.Pool({ connectionString: env.APP_PG_URL, max: connections });
  const fn = async () => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      for (const r of rows) {
        await c.query('INSERT INTO bench_writes (customer_id, amount, note) VALUES ($1, $2, $3) RETURNING id', [
          r.customer_id,
          r.amount,
          r.note,
        ]);
      }
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  };
  try {
    await loop({ fn, concurrency: connections, duration: WARMUP });
    const r = await loop({ fn, concurrency: connections, duration });
    results.scenarios[name] = r;
    return r;
  } finally {
    await pool.end();
  }
}

try {
  await viewgate('w1_insert_one_viewgate', { resource: [record(1)] });
  await driver('w1_insert_one_driver', [record(1)]);
  const batch = Array.from({ length: BATCH }, (_, i) => record(i));
  await viewgate('w2_insert_500_viewgate', { resource: batch });
  await driver('w2_insert_500_driver', batch);
} finally {
  await vg.stop();
}

const s = results.scenarios;
const ratio = (a, b) => (s[a] && s[b] ? Math.round((s[a].p50 / s[b].p50) * 100) / 100 : undefined);
results.ratios = {
  w1_p50_viewgate_over_driver: ratio('w1_insert_one_viewgate', 'w1_insert_one_driver'),
  w2_p50_viewgate_over_driver: ratio('w2_insert_500_viewgate', 'w2_insert_500_driver'),
};
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const file = join(ROOT, 'bench/results', `writes-${results.machine.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
console.log('| scenario | requests/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|');
for (const [name, r] of Object.entries(s)) console.log(`| ${name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors ?? 0} |`);
console.log(`\nratios: ${JSON.stringify(results.ratios)}\nwritten: ${file}`);
