#!/usr/bin/env node
// Server CPU time per request (issue 14). Run `npm run build`, then
//   node bench/cpu.mjs [--requests N] [--concurrency C] [--rounds R]
//                      [--only floor,floor_mariadb,floor_fastify,floor_fastify_mariadb,healthz,rest_pg,rest_mariadb,
//                              rest_cached,mcp_raw,mcp_sdk]
//                      [--audit file|off]   (off: what the audit file costs, by difference)
//                      [--against DIR]      (a built checkout of another commit, served beside this one)
// Wall-clock throughput is noisy when other processes share the cores; the CPU the server process
// spends per request much less so. One `viewgate serve` (the reference scenario, audit to a file,
// logs at warn, the external role's grant cached) serves every scenario: a warm-up, then --rounds
// rounds of N requests at C concurrent, each reading the server's utime+stime from /proc/PID/stat
// before and after. Reported: CPU microseconds per request (user and system) of the lowest round
// (other processes only add to a round's cost) and the median; not throughput. `floor` is the same
// measure of bench/peers/floor-server.mjs (node:http + pg, nothing else) answering the row
// rest_pg reads: what any Node gateway spends at least; `floor_mariadb` the same server answering
// the MariaDB row rest_mariadb reads (node:http + mysql2). `floor_fastify` and
// `floor_fastify_mariadb`: the same routes served by a bare Fastify app (floor-server.mjs --fastify),
// so that what viewgate spends above the floor splits into the framework's part and its own.
// With --against, both builds serve the same config at once and each round measures one, then the
// other: whatever else the machine does weighs on both alike, and the median of the paired ratios
// (this build / the other) is the figure to read when a change is smaller than the run-to-run noise.
// Set VIEWGATE_BENCH_CPU_PROF=DIR to also get a V8 CPU profile of the server (written when it stops).
// Results: markdown on stdout, JSON in bench/results/cpu-<date>.json; bench/RESULTS.md records them.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'node:http';
import {
  auditOff,
  freePort,
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
import { startProcess, stopAll } from './lib/process.mjs';

const SCENARIOS = [
  'floor',
  'floor_mariadb',
  'floor_fastify',
  'floor_fastify_mariadb',
  'healthz',
  'rest_pg',
  'rest_mariadb',
  'rest_cached',
  'mcp_raw',
  'mcp_sdk',
];
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '4' },
    only: { type: 'string', default: SCENARIOS.join(',') },
    rounds: { type: 'string', default: '3' },
    audit: { type: 'string', default: 'file' },
    against: { type: 'string' },
  },
});
const requests = Math.max(100, Math.min(100_000, Number(values.requests)));
const concurrency = Math.max(1, Math.min(64, Number(values.concurrency)));
const rounds = Math.max(1, Math.min(20, Number(values.rounds)));
const only = values.only.split(',').filter(Boolean);
const unknown = only.filter((s) => !SCENARIOS.includes(s));
if (
  !Number.isFinite(requests) ||
  !Number.isFinite(concurrency) ||
  !Number.isFinite(rounds) ||
  unknown.length > 0 ||
  !['file', 'off'].includes(values.audit)
) {
  console.error(
    `usage: node bench/cpu.mjs [--requests N] [--concurrency C] [--rounds R] [--only ${SCENARIOS.join(',')}] [--audit file|off] [--against DIR]`,
  );
  process.exit(2);
}
// Rounds of 4 000 requests after 1 000 of warm-up (the defaults until 2026-12-03) measured the floor
// at 143 us a request where rounds of 20 000 measured 107 (bench/RESULTS.md, tenth round).
const WARMUP = Math.min(5_000, requests / 2);
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
const other = values.against ? await startViewgate(configPath, env, { root: values.against }) : undefined;
/** The floor server (node:http, or Fastify with `--fastify`), when a scenario reads it. */
async function floorServer(wanted, flags) {
  if (!only.some(wanted)) return undefined;
  const port = await freePort();
  const server = await startProcess({
    name: `floor server${flags.length ? ` ${flags.join(' ')}` : ''}`,
    command: process.execPath,
    args: [join(ROOT, 'bench/peers/floor-server.mjs'), ...flags, String(port), env.APP_PG_URL, env.CRM_MYSQL_URL],
    ready: async () => (await fetch(`http://127.0.0.1:${port}/orders/1001`)).ok,
  });
  return { ...server, base: `http://127.0.0.1:${port}` };
}
const floor = await floorServer((s) => s === 'floor' || s === 'floor_mariadb', []);
const fastifyFloor = await floorServer((s) => s.startsWith('floor_fastify'), ['--fastify']);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

/** An HTTP call (keep-alive) that must answer 200; the body is read in full. */
function httpCall({ path, method = 'GET', headers = {}, body, check, base = vg.url }) {
  const { hostname, port } = new URL(base);
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
  floor: async () => [httpCall({ path: '/orders/1001', base: floor.base })],
  floor_mariadb: async () => [httpCall({ path: '/customers/3', base: floor.base })],
  floor_fastify: async () => [httpCall({ path: '/orders/1001', base: fastifyFloor.base })],
  floor_fastify_mariadb: async () => [httpCall({ path: '/customers/3', base: fastifyFloor.base })],
  healthz: async (base) => [httpCall({ path: '/healthz', base })],
  rest_mariadb: async (base) => [httpCall({ path: '/api/v2/crm/_table/customers/3', headers: { 'X-API-Key': KEYS.internal }, base })],
  rest_pg: async (base) => [httpCall({ path: '/api/v2/app/_table/orders/1001', headers: { 'X-API-Key': KEYS.internal }, base })],
  rest_cached: async (base) => [httpCall({ path: cachedQuery, headers: { 'X-API-Key': KEYS.partner }, base })],
  mcp_raw: async (base) => [
    httpCall({
      base,
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
  mcp_sdk: async (base = vg.url) =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        const client = await connectMcp(`${base}/mcp`, { 'X-API-Key': KEYS.internal });
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
  settings: { requests, rounds, concurrency, warmup: WARMUP, audit: values.audit, logging: 'warn', against: values.against },
  scenarios: {},
};
/** `calls` spread `count` requests over; the server's CPU per request they cost, in microseconds. */
async function round(pid, calls, count) {
  const before = cpuOf(pid);
  await drive(calls, count);
  const after = cpuOf(pid);
  return { user: (after.user - before.user) / count, system: (after.system - before.system) / count };
}

const total = (m) => m.user + m.system;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Calls as the workers of one scenario make them (one per worker, or one shared call). */
async function callsOf(name, base) {
  const workers = await scenarios[name](base);
  return workers.length === 1 ? Array(concurrency).fill(workers[0]) : workers;
}

try {
  for (const name of only) {
    const calls = await callsOf(name);
    await drive(calls, WARMUP);
    const pid = (name.startsWith('floor_fastify') ? fastifyFloor : name.startsWith('floor') ? floor : vg).child.pid;
    const paired = other && !name.startsWith('floor') ? await callsOf(name, other.url) : undefined;
    if (paired) await drive(paired, WARMUP);
    // Other processes only ever add to a round's cost: the lowest round is the least disturbed.
    const measured = [];
    const against = [];
    for (let r = 0; r < rounds; r++) {
      measured.push(await round(pid, calls, requests));
      if (paired) against.push(await round(other.child.pid, paired, requests));
    }
    const best = measured.reduce((a, b) => (total(b) < total(a) ? b : a));
    results.scenarios[name] = {
      cpuUsPerRequest: Math.round(total(best)),
      userUs: Math.round(best.user),
      systemUs: Math.round(best.system),
      medianUs: Math.round(median(measured.map(total))),
      roundsUs: measured.map((m) => Math.round(total(m))),
      ...(paired
        ? {
            against: {
              cpuUsPerRequest: Math.round(Math.min(...against.map(total))),
              medianUs: Math.round(median(against.map(total))),
              roundsUs: against.map((m) => Math.round(total(m))),
              medianPairedRatio: Math.round(median(measured.map((m, i) => total(m) / total(against[i]))) * 1000) / 1000,
            },
          }
        : {}),
    };
    const r = results.scenarios[name];
    console.error(
      `${name}: ${r.cpuUsPerRequest} us CPU per request (user ${r.userUs}, system ${r.systemUs})` +
        (r.against ? `; the other build ${r.against.cpuUsPerRequest} us, median paired ratio ${r.against.medianPairedRatio}` : ''),
    );
  }
} finally {
  agent.destroy();
  await Promise.all([vg.stop(), other?.stop(), stopAll()]);
}

const lines = [
  `Server CPU per request, the lowest of ${rounds} rounds of ${requests} requests at ${concurrency} concurrent after ${WARMUP} warm-up (${results.machine.date}, commit ${results.machine.commit}, ${results.machine.nproc} x ${results.machine.cpu}, Node ${results.machine.node}, load average ${results.machine.loadAverageBefore.join(' ')})`,
  '',
  ...(other
    ? [
        `Paired with the build in ${values.against} (rounds alternate between the two servers).`,
        '',
        '| scenario | CPU us / request | median of rounds | the other build | its median | median paired ratio |',
        '|---|---|---|---|---|---|',
        ...Object.entries(results.scenarios).map(([n, r]) =>
          r.against
            ? `| ${n} | ${r.cpuUsPerRequest} | ${r.medianUs} | ${r.against.cpuUsPerRequest} | ${r.against.medianUs} | ${r.against.medianPairedRatio} |`
            : `| ${n} | ${r.cpuUsPerRequest} | ${r.medianUs} | | | |`,
        ),
      ]
    : [
        '| scenario | CPU us / request | user | system | median of rounds |',
        '|---|---|---|---|---|',
        ...Object.entries(results.scenarios).map(
          ([n, r]) => `| ${n} | ${r.cpuUsPerRequest} | ${r.userUs} | ${r.systemUs} | ${r.medianUs} |`,
        ),
      ]),
];
console.log(lines.join('\n'));
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, `bench/results/cpu-${results.machine.date.replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2));
