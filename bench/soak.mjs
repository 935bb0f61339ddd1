#!/usr/bin/env node
// Bounded soak run: mixed REST and MCP traffic at a fixed rate against one `viewgate serve`
// process for --minutes (default 10), sampling its memory from /metrics every 30 s. At the end it
// stops viewgate with SIGTERM (graceful shutdown) and checks that every response the load generator
// received has its audit record (matched by the X-Request-Id viewgate echoes). Requests cut off by
// the end of the run may be audited without their response being counted; they are reported apart.
// Writes bench/results/soak-<date>.json.
// Run `npm run build` first. Load goes to 127.0.0.1 only, bounded by --minutes and --rate.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  auditToFile,
  setGrant,
  KEYS,
  machine,
  MCP_HEADERS,
  mcpCall,
  prepareStores,
  ROOT,
  startViewgate,
  writeConfig,
} from './lib/setup.mjs';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, rate: { type: 'string', default: '150' } } });
const minutes = Math.min(30, Number(values.minutes));
const rate = Math.min(2000, Number(values.rate));

const env = await prepareStores('vg_soak');
const auditDir = mkdtempSync(join(tmpdir(), 'vg-soak-'));
const auditFile = join(auditDir, 'audit.log');
const { path: configPath } = writeConfig((y) => auditToFile(setGrant(y, 'external', { cacheTtl: '30s' }), auditFile));
const vg = await startViewgate(configPath, env);
const pid = vg.child.pid;

const q = (s) => encodeURIComponent(s);
const requests = [
  { method: 'GET', path: `/api/v2/crm/_table/customers?filter=${q('customer_id = 1')}`, headers: { 'X-API-Key': KEYS.partner } },
  {
    method: 'GET',
    path: '/api/v2/crm/_table/customers?order=full_name&limit=5&include_count=true',
    headers: { 'X-API-Key': KEYS.partner },
  },
  { method: 'GET', path: '/api/v2/app/_table/orders?order=total_amount%20desc&limit=10', headers: { 'X-API-Key': KEYS.internal } },
  { method: 'GET', path: '/api/v2/app/_table/orders/1001', headers: { 'X-API-Key': KEYS.internal } },
  {
    method: 'GET',
    path: `/api/v2/analytics/_table/events?filter=${q("event_type = 'view'")}&limit=5`,
    headers: { 'X-API-Key': KEYS.internal },
  },
  { method: 'GET', path: '/api/v2/crm/_table/customers/999', headers: { 'X-API-Key': KEYS.internal } },
  {
    method: 'POST',
    path: '/mcp',
    headers: { ...MCP_HEADERS, 'X-API-Key': KEYS.llm },
    body: mcpCall('query_view', { view: 'crm.customers', filter: 'customer_id > 2', limit: 5 }),
  },
];
const received = new Set();
for (const r of requests) {
  r.onResponse = (_status, _body, _ctx, headers) => {
    const id = headers['x-request-id'] ?? headers['X-Request-Id'];
    if (id) received.add(id);
  };
}

const samples = [];
async function sample() {
  try {
    const text = await (await fetch(`${vg.url}/metrics`, { headers: { 'X-API-Key': KEYS.internal } })).text();
    const num = (name) => Number(new RegExp(`^${name} ([\\d.e+]+)`, 'm').exec(text)?.[1]);
    samples.push({
      t: Math.round((Date.now() - started) / 1000),
      rssMiB: Math.round(num('process_resident_memory_bytes') / 2 ** 20),
      heapUsedMiB: Math.round((num('nodejs_heap_size_used_bytes') / 2 ** 20) * 10) / 10,
      externalMiB: Math.round((num('nodejs_external_memory_bytes') / 2 ** 20) * 10) / 10,
    });
    console.error(JSON.stringify(samples.at(-1)));
  } catch (err) {
    console.error(`sample failed: ${err.message}`);
  }
}

const started = Date.now();
await sample();
const timer = setInterval(sample, 30_000);
const statuses = {};
let responses = 0;
const instance = autocannon({ url: vg.url, requests, connections: 8, overallRate: rate, duration: minutes * 60 });
instance.on('response', (_c, status) => {
  statuses[status] = (statuses[status] ?? 0) + 1;
  responses++;
});
const result = await new Promise((resolve, reject) => {
  instance.on('done', resolve);
  instance.on('error', reject);
});
clearInterval(timer);
await sample();

const exitCode = await vg.stop();
const auditIds = new Set(
  readFileSync(auditFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).requestId),
);
const audited = auditIds.size;
const lost = [...received].filter((id) => !auditIds.has(id));

// Memory is flat when the second half's heap does not trend above the first half's.
const half = samples.filter((s) => s.t > 0);
const mid = Math.floor(half.length / 2);
const avg = (xs) => xs.reduce((a, s) => a + s.heapUsedMiB, 0) / Math.max(1, xs.length);
const report = {
  machine: machine(),
  settings: { minutes, rate, connections: 8, mix: requests.map((r) => `${r.method} ${r.path.split('?')[0]}`) },
  viewgatePid: pid,
  viewgateExitCode: exitCode,
  responses,
  statuses,
  errors: result.errors,
  timeouts: result.timeouts,
  responsesWithRequestId: received.size,
  audited,
  lostAuditRecords: lost.length,
  lostExamples: lost.slice(0, 5),
  auditedWithoutCountedResponse: [...auditIds].filter((id) => !received.has(id)).length,
  memory: {
    samples,
    heapFirstHalfAvgMiB: Math.round(avg(half.slice(0, mid)) * 10) / 10,
    heapSecondHalfAvgMiB: Math.round(avg(half.slice(mid)) * 10) / 10,
    rssFirstMiB: samples[1]?.rssMiB,
    rssLastMiB: samples.at(-1)?.rssMiB,
  },
};
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const file = join(ROOT, 'bench/results', `soak-${report.machine.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify({ ...report, memory: { ...report.memory, samples: report.memory.samples.length } }, null, 2));
console.log(`written: ${file}`);
process.exitCode = report.lostAuditRecords === 0 && exitCode === 0 ? 0 : 1;
