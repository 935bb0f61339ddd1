#!/usr/bin/env node
// Resident memory of one `viewgate serve` under full load (issue 14, goal 5). Run `npm run build`,
// then
//   node bench/memory.mjs [--rounds 3] [--seconds 8] [--connections 16]
// The reference scenario, audit to a file, logs at warn; after start-up, --rounds rounds of
// --seconds of uncached PostgreSQL point reads (GET /api/v2/app/_table/orders/1001) at
// --connections, reading the process's RSS (/proc) and its heap (/metrics) after each. The soak
// (bench/soak.mjs) is the same question at a steady rate over minutes; this is the worst case.
// VIEWGATE_BENCH_NODE_FLAGS sets Node options for the viewgate process (a V8 heap setting to
// compare; docs/operations.md, "Memory"). Results: markdown on stdout, JSON in
// bench/results/memory-<date>.json.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { auditToFile, KEYS, machine, prepareStores, ROOT, startViewgate, writeConfig } from './lib/setup.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '16' },
  },
});
const rounds = Math.max(1, Math.min(20, Number(values.rounds)));
const seconds = Math.max(1, Math.min(120, Number(values.seconds)));
const connections = Math.max(1, Math.min(64, Number(values.connections)));
if (![rounds, seconds, connections].every(Number.isFinite)) {
  console.error('usage: node bench/memory.mjs [--rounds 3] [--seconds 8] [--connections 16]');
  process.exit(2);
}

const env = await prepareStores('vg_bench');
const auditDir = mkdtempSync(join(tmpdir(), 'vg-bench-memory-'));
const { path: configPath } = writeConfig((y) => auditToFile(y, join(auditDir, 'audit.log')));
const vg = await startViewgate(configPath, env);
const results = { machine: machine(), settings: { rounds, seconds, connections }, samples: [] };

const MiB = 2 ** 20;
async function sample(label) {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${vg.child.pid}/status`, 'utf8'))[1]) * 1024;
  const text = await (await fetch(`${vg.url}/metrics`, { headers: { 'X-API-Key': KEYS.internal } })).text();
  const metric = (name) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1]);
  const s = {
    label,
    rssMiB: Math.round(rss / MiB),
    heapTotalMiB: Math.round(metric('nodejs_heap_size_total_bytes') / MiB),
    heapUsedMiB: Math.round(metric('nodejs_heap_size_used_bytes') / MiB),
  };
  results.samples.push(s);
  console.error(`${label}: RSS ${s.rssMiB} MiB, heap ${s.heapUsedMiB} of ${s.heapTotalMiB} MiB`);
}

try {
  await sample('after start-up');
  for (let r = 1; r <= rounds; r++) {
    const run = await autocannon({
      url: `${vg.url}/api/v2/app/_table/orders/1001`,
      headers: { 'X-API-Key': KEYS.internal },
      connections,
      duration: seconds,
    });
    if (run.non2xx > 0 || run.errors > 0) throw new Error(`load: ${run.non2xx} non-2xx answers, ${run.errors} errors`);
    await sample(`after ${r * seconds} s of load (${Math.round(run.requests.average)} req/s)`);
  }
} finally {
  await vg.stop();
}

const flags = results.machine.viewgateNodeFlags ?? "Node's defaults";
console.log(
  [
    `RSS of viewgate serve under ${connections} connections of point reads (${results.machine.date}, commit ${results.machine.commit}, Node ${results.machine.node}, ${flags})`,
    '',
    '| when | RSS MiB | heap used MiB | heap total MiB |',
    '|---|---|---|---|',
    ...results.samples.map((s) => `| ${s.label} | ${s.rssMiB} | ${s.heapUsedMiB} | ${s.heapTotalMiB} |`),
  ].join('\n'),
);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, `bench/results/memory-${results.machine.date.replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2));
