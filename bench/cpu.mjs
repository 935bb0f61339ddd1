#!/usr/bin/env node
// Server CPU time per request (issue 14). Run `npm run build`, then
//   node bench/cpu.mjs [--requests N] [--concurrency C] [--only healthz,rest_pg,rest_cached,mcp_raw,mcp_sdk]
//                      [--audit file|off]   (off: what the audit file costs, by difference)
// Wall-clock throughput is noisy when other processes share the cores; the CPU the server process
// spends per request is not. For each scenario this starts nothing new: one `viewgate serve` (the
// reference scenario, audit to a file, logs at warn, the external role's grant cached), a warm-up,
// then N requests at C concurrent, reading the server's utime+stime from /proc/PID/stat before and
// after. The result is CPU microseconds per request (user and system), not throughput.
// Set VIEWGATE_BENCH_CPU_PROF=DIR to also get a V8 CPU profile of the server (written when it stops).
// Results: markdown on stdout, JSON in bench/results/cpu-<date>.json; bench/RESULTS.md records them.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'node:http';
import {
  auditOff,
  auditToFile,
  KEYS,
  machine,
  MCP_HEADERS,
  mcpCall,
  prepareStores,
  ROOT,
  setGrant,
  startViewgate,
  writeConfig,
} from './lib/setup.mjs';
import { callOk, connectMcp } from './lib/mcp-load.mjs';

const SCENARIOS = ['healthz', 'rest_pg', 'rest_cached', 'mcp_raw', 'mcp_sdk'];
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '4' },
    only: { type: 'string', default: SCENARIOS.join(',') },
    audit: { type: 'string', default: 'file' },
  },
});
const requests = Math.max(100, Math.min(100_000, Number(values.requests)));
const concurrency = Math.max(1, Math.min(64, Number(values.concurrency)));
const only = values.only.split(',').filter(Boolean);
const unknown = only.filter((s) => !SCENARIOS.includes(s));
if (!Number.isFinite(requests) || !Number.isFinite(concurrency) || unknown.length > 0 || !['file', 'off'].includes(values.audit)) {
  console.error(`usage: node bench/cpu.mjs [--requests N] [--concurrency C] [--only ${SCENARIOS.join(',')}] [--audit file|off]`);
  process.exit(2);
}
const WARMUP = Math.min(1_000, requests / 2);
const TICKS_PER_SECOND = 100; // Linux USER_HZ, the unit of /proc/PID/stat's utime and stime

/** utime and stime of a process, in microseconds. */
function cpuOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
  const toUs = (ticks) => (Number(ticks) * 1e6) / TICKS_PER_SECOND;
  return { user: toUs(fields[11]), system: toUs(fields[12]) };
}

const env = await prepareStores('vg_bench');
const auditDir = mkdtempSync(join(tmpdir(), 'vg-bench-cpu-audit-'));
const { path: configPath } = writeConfig((y) => {
  const edited = auditToFile(setGrant(y, 'external', { cacheTtl: '60s' }), join(auditDir, 'audit.log'));
  return values.audit === 'off' ? auditOff(edited) : edited;
});
const vg = await startViewgate(configPath, env);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

/** An HTTP call (keep-alive) that must answer 200; the body is read in full. */
function httpCall({ path, method = 'GET', headers = {}, body, check }) {
  const { hostname, port } = new URL(vg.url);
  return () =>
    new Promise((resolve, reject) => {
      const req = request({ hostname, port, path, method, headers, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('error', reject);
        res.on('end', () => {
          try {
            if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${text.slice(0, 200)}`);
            check?.(text);
            resolve();
          } catch (e) {
            reject(e);
          }
        });
      });
      req.on('error', reject);
      req.end(body);
    });
}

const cachedQuery = `/api/v2/crm/_table/customers?filter=${encodeURIComponent('customer_id = 1')}`;
const mcpArgs = { view: 'app.orders', filter: 'order_id = 1001' };
const scenarios = {
  healthz: async () => [httpCall({ path: '/healthz' })],
  rest_pg: async () => [httpCall({ path: '/api/v2/app/_table/orders/1001', headers: { 'X-API-Key': KEYS.internal } })],
  rest_cached: async () => [httpCall({ path: cachedQuery, headers: { 'X-API-Key': KEYS.partner } })],
  mcp_raw: async () => [
    httpCall({
      path: '/mcp',
      method: 'POST',
      headers: { ...MCP_HEADERS, 'X-API-Key': KEYS.internal },
      body: mcpCall('query_view', mcpArgs),
      check: (text) => {
        if (!text.includes('1001') || text.includes('"isError":true')) throw new Error(`query_view: ${text.slice(0, 200)}`);
      },
    }),
  ],
  // One connected SDK client per worker, as an agent would hold one.
  mcp_sdk: async () =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        const client = await connectMcp(`${vg.url}/mcp`, { 'X-API-Key': KEYS.internal });
        return () => callOk(client, 'query_view', mcpArgs);
      }),
    ),
};

/** `count` calls spread over the workers, back to back. */
async function drive(calls, count) {
  let left = count;
  await Promise.all(
    calls.map(async (call) => {
      while (left > 0) {
        left--;
        await call();
      }
    }),
  );
}

const results = {
  machine: { ...machine(), loadAverageBefore: loadavg().map((v) => Math.round(v * 100) / 100) },
  settings: { requests, concurrency, warmup: WARMUP, audit: values.audit, logging: 'warn' },
  scenarios: {},
};
try {
  for (const name of only) {
    const workers = await scenarios[name]();
    const calls = workers.length === 1 ? Array(concurrency).fill(workers[0]) : workers;
    await drive(calls, WARMUP);
    const before = cpuOf(vg.child.pid);
    const start = performance.now();
    await drive(calls, requests);
    const seconds = (performance.now() - start) / 1000;
    const after = cpuOf(vg.child.pid);
    const user = (after.user - before.user) / requests;
    const system = (after.system - before.system) / requests;
    results.scenarios[name] = {
      cpuUsPerRequest: Math.round(user + system),
      userUs: Math.round(user),
      systemUs: Math.round(system),
      wallSeconds: Math.round(seconds * 100) / 100,
    };
    console.error(`${name}: ${Math.round(user + system)} us CPU per request (user ${Math.round(user)}, system ${Math.round(system)})`);
  }
} finally {
  agent.destroy();
  await vg.stop();
}

const lines = [
  `Server CPU per request, ${requests} requests at ${concurrency} concurrent after ${WARMUP} warm-up (${results.machine.date}, commit ${results.machine.commit}, ${results.machine.nproc} x ${results.machine.cpu}, Node ${results.machine.node}, load average ${results.machine.loadAverageBefore.join(' ')})`,
  '',
  '| scenario | CPU us / request | user | system |',
  '|---|---|---|---|',
  ...Object.entries(results.scenarios).map(([n, r]) => `| ${n} | ${r.cpuUsPerRequest} | ${r.userUs} | ${r.systemUs} |`),
];
console.log(lines.join('\n'));
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, `bench/results/cpu-${results.machine.date.replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2));
