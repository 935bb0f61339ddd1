// Shared by the bench scripts: the reference scenario on dedicated vg_bench_* databases, a config
// file, a `viewgate serve` child process (the built CLI; run `npm run build` first), load
// generation with per-request latencies (autocannon), a direct-driver loop, and machine facts.
// Everything talks to 127.0.0.1 only, and every run is bounded in time.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { parseDocument } from 'yaml';

export const ROOT = new URL('../../', import.meta.url).pathname;
const REFERENCE_CONFIG = join(ROOT, 'examples/reference/viewgate.yaml');
export const KEYS = { internal: 'vg_demo_internal_key', partner: 'vg_demo_partner_t2_key', llm: 'vg_demo_llm_t1_key' };

const PG = process.env.VG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL = process.env.VG_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const MONGO = process.env.VG_TEST_MONGO_URL ?? 'mongodb://127.0.0.1:27017/';

function requireBuild() {
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('bench: run `npm run build` first (the bench runs the built CLI)');
}

function withDb(url, db) {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Env pointing the reference config at bench databases, with the demo data loaded. */
export async function prepareStores(label = 'vg_bench', overrides = {}) {
  requireBuild();
  const env = {
    CRM_MYSQL_URL: withDb(MYSQL, `${label}_crm`),
    APP_PG_URL: withDb(PG, `${label}_app`),
    EVENTS_MONGO_URL: MONGO,
    EVENTS_MONGO_DB: `${label}_events`,
    ...overrides,
  };
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [`${label}_app`]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${label}_app"`);
  await admin.end();
  await import(join(ROOT, 'dist/sources/registry.js')); // registers the store kinds with the config loader
  await import(join(ROOT, 'dist/query/tool-query.js')); // and the curated tools' checks
  const { parseConfig } = await import(join(ROOT, 'dist/config/load.js'));
  const { loadDemoData } = await import(join(ROOT, 'dist/demo.js'));
  await loadDemoData(parseConfig(readFileSync(REFERENCE_CONFIG, 'utf8'), REFERENCE_CONFIG, { ...process.env, ...env }), () => {});
  return env;
}

/** The reference config with edits, written to a temporary file. */
export function writeConfig(edit = (y) => y) {
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-'));
  const path = join(dir, 'viewgate.yaml');
  writeFileSync(path, edit(readFileSync(REFERENCE_CONFIG, 'utf8')));
  return { path, dir };
}

/** Sets keys on a role's grant on `view` (default crm.customers; "*" for a role's wildcard grant) in the config text. */
export function setGrant(yaml, role, values, view = 'crm.customers') {
  const doc = parseDocument(yaml);
  const path = ['roles', role, 'grants', view];
  if (!doc.hasIn(path)) throw new Error(`bench: the reference config has no ${path.join('.')}`);
  for (const [k, v] of Object.entries(values)) doc.setIn([...path, k], v);
  return doc.toString();
}

/** Audit to a file (as in production) and logs at warn. */
export function auditToFile(yaml, path) {
  const doc = parseDocument(yaml);
  doc.setIn(['audit'], doc.createNode({ sink: 'file', path }));
  doc.setIn(['logging', 'level'], 'warn');
  return doc.toString();
}

export function auditOff(yaml) {
  const doc = parseDocument(yaml);
  doc.setIn(['audit'], doc.createNode({ sink: 'off' }));
  return doc.toString();
}

export async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `viewgate serve` on a free port; resolves once /healthz answers. */
/**
 * VIEWGATE_BENCH_NODE_FLAGS: Node options for this checkout's viewgate process only (not for a build
 * started from another root, bench/cpu.mjs --against), e.g. a V8 heap setting to compare.
 */
function nodeFlags() {
  return (process.env.VIEWGATE_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
}

export async function startViewgate(configPath, env, opts = {}) {
  requireBuild();
  const port = opts.port ?? (await freePort());
  // VIEWGATE_BENCH_CPU_PROF=DIR: the server writes a V8 CPU profile into DIR when it stops.
  const profile = process.env.VIEWGATE_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.VIEWGATE_BENCH_CPU_PROF}`] : [];
  const child = spawn(
    process.execPath,
    [
      ...profile,
      ...(opts.root ? [] : nodeFlags()),
      join(opts.root ?? ROOT, 'bin/viewgate.js'),
      'serve',
      '--config',
      configPath,
      '--port',
      String(port),
    ],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const started = Date.now();
  let url;
  while (!url) {
    if (child.exitCode !== null) throw new Error(`viewgate exited: ${err || out}`);
    if (Date.now() - started > 30_000) {
      child.kill('SIGKILL');
      throw new Error(`viewgate did not start: ${err || out}`);
    }
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) url = `http://127.0.0.1:${port}`;
    } catch {}
    if (!url) await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => ({ out, err }),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarize(latenciesMs, seconds, extra = {}) {
  const s = Float64Array.from(latenciesMs).sort();
  return {
    requests: s.length,
    rps: Math.round(s.length / seconds),
    p50: round(percentile(s, 50)),
    p95: round(percentile(s, 95)),
    p99: round(percentile(s, 99)),
    ...extra,
  };
}

const round = (v) => Math.round(v * 100) / 100;

/**
 * One row from several load() runs of the same target kept with `keepLatencies`: every response's
 * latency pooled over `seconds` in all, errors, timeouts and unexpected statuses summed, and each
 * run's rate (`roundRps`).
 */
export function pooled(runs, seconds) {
  const sum = (key) => runs.reduce((n, r) => n + (r[key] ?? 0), 0);
  const unexpected = {};
  for (const run of runs)
    for (const [status, n] of Object.entries(run.unexpected ?? {})) unexpected[status] = (unexpected[status] ?? 0) + n;
  return {
    ...summarize(
      runs.flatMap((r) => r.latencies),
      seconds,
    ),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    ...(Object.keys(unexpected).length > 0 ? { unexpected } : {}),
    roundRps: runs.map((r) => r.rps),
  };
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * autocannon against one request shape, keeping every response's latency (autocannon has no p95).
 * With `amount`, that many requests whatever the time they take (a warm-up), instead of `duration`.
 * With `keepLatencies`, the result also holds every response's latency (to pool several runs).
 */
export async function load({
  url,
  method = 'GET',
  headers = {},
  body,
  connections = 10,
  duration = 15,
  amount,
  overallRate,
  expectStatus = 200,
  keepLatencies = false,
}) {
  const latencies = [];
  const statuses = {};
  const instance = autocannon({
    url,
    method,
    headers,
    body,
    connections,
    ...(amount ? { amount } : { duration }),
    ...(overallRate ? { overallRate } : {}),
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    latencies.push(ms);
  });
  const result = await new Promise((resolve, reject) => {
    instance.on('done', resolve);
    instance.on('error', reject);
  });
  const wrong = Object.entries(statuses).filter(([s]) => Number(s) !== expectStatus);
  return {
    ...summarize(latencies, duration),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    unexpected: wrong.length > 0 ? Object.fromEntries(wrong) : undefined,
    ...(keepLatencies ? { latencies } : {}),
  };
}

/** `concurrency` workers calling `fn` back to back for `duration` seconds. */
export async function loop({ fn, concurrency = 10, duration = 15 }) {
  const latencies = [];
  const end = performance.now() + duration * 1000;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await fn();
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { ...summarize(latencies, duration), errors };
}

export function machine() {
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT }).toString().trim() !== '';
  } catch {}
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    commit: dirty ? `${commit} (with uncommitted changes in src/)` : commit,
    ...(nodeFlags().length > 0 ? { viewgateNodeFlags: nodeFlags().join(' ') } : {}),
  };
}

/** An MCP tools/call as one stateless Streamable HTTP POST. */
export function mcpCall(name, args, id = 1) {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};
