#!/usr/bin/env node
// viewgate next to its peers (issue 14, the measuring part). Run `npm run build`, then
//   node bench/peers.mjs [--duration S] [--concurrency 16] [--requests N] [--rounds 4] [--skip toolbox,dbhub]
// One run, everything on 127.0.0.1, bounded in time, and everything it starts is stopped at the
// end (also on error or Ctrl-C):
//   - viewgate (`viewgate serve`, the built CLI; audit to a file, logs at warn) on the reference
//     scenario's demo data in the vg_bench_* databases;
//   - the REST floor: a bare node:http server with pg and mysql2 pools answering the same one-row
//     queries (bench/peers/floor-server.mjs);
//   - MCP Toolbox for Databases v0.16.0, built once from the Go module proxy into
//     ~/.cache/viewgate/bench, with one parameterised postgres-sql tool (bench/peers/toolbox.mjs);
//   - DBHub 1.4.0 from npm, installed into ~/.cache/viewgate/bench/dbhub, Streamable HTTP, its
//     execute_sql tool (bench/peers/dbhub.mjs).
// The query everywhere: order 1001 from the PostgreSQL orders table (viewgate: the app.orders view);
// REST also reads customer 3 from the MariaDB customers table (crm.customers) against the floor.
// MCP is driven with the official MCP SDK client (Streamable HTTP): after 5 000 untimed calls at
// --concurrency (10 s at most; every target warmed up alike, as the REST rows are), N sequential calls for
// p50/p95/p99, then --concurrency clients calling back to back for --duration seconds (at most
// 100 x N calls); then the same tools/call as stateless POSTs from autocannon (no SDK client in
// the way), at 1 connection and at --concurrency. REST (viewgate vs the floor) is driven with autocannon, as bench/run.mjs does:
// sequential for --duration / 2 seconds, then at --concurrency in --rounds rounds of --duration / 2
// seconds, the floor's and viewgate's alternating; the throughput ratio against the floor is the
// median of the rounds' ratios. On a shared machine one 10 s row per target moved that ratio from
// 0.40 to 0.68 between runs of one build (bench/RESULTS.md, 2026-12-03). viewgate's raw POST at one
// connection is timed in --rounds pairs of rounds beside the REST request for the same query
// (`?filter=order_id = 1001`, not the key read): goal 3's MCP-against-REST latency ratio is the
// median of those rounds' p50 ratios.
// A peer that cannot be built or started is reported as such and the others are still measured.
// Results: markdown on stdout, JSON in bench/results/peers-<date>.json; bench/RESULTS.md records them.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  auditToFile,
  freePort,
  KEYS,
  load,
  machine,
  MCP_HEADERS,
  mcpCall,
  median,
  prepareStores,
  ROOT,
  startViewgate,
  pooled,
  writeConfig,
} from './lib/setup.mjs';
import { startProcess, stopAll, stopOnSignals } from './lib/process.mjs';
import { callOk, concurrent, connectMcp, sequential, textOf } from './lib/mcp-load.mjs';
import { ensureToolbox, startToolbox, TOOLBOX_TOOL, TOOLBOX_VERSION } from './peers/toolbox.mjs';
import { DBHUB_TOOL, DBHUB_VERSION, ensureDbhub, nodeForDbhub, startDbhub } from './peers/dbhub.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    requests: { type: 'string', default: '300' },
    skip: { type: 'string', default: '' },
    rounds: { type: 'string', default: '4' },
  },
});
const duration = Math.max(1, Math.min(120, Number(values.duration)));
const concurrency = Math.max(1, Math.min(64, Number(values.concurrency)));
const requests = Math.max(10, Math.min(10_000, Number(values.requests)));
const skip = new Set(values.skip.split(',').filter(Boolean));
if (![duration, concurrency, requests, Number(values.rounds)].every(Number.isFinite)) {
  console.error('usage: node bench/peers.mjs [--duration S] [--concurrency 16] [--requests N] [--rounds 4] [--skip toolbox,dbhub]');
  process.exit(2);
}
// Every target is warmed with WARMUP_CALLS requests at full concurrency before it is timed (an MCP
// SDK target for at most WARMUP_MAX_SECONDS): V8 compiles a Node server's request path over
// thousands of requests, and on a slow machine a few seconds of load are fewer than that.
const WARMUP_CALLS = 5_000;
const WARMUP_MAX_SECONDS = 10;
// What the concurrent rows' own untimed start-up is (the loops in bench/lib/mcp-load.mjs).
const WARMUP_SECONDS = 2;
const MAX_CALLS = 100 * requests;
const SEQ_BUDGET_MS = Math.max(10, 2 * duration) * 1000;
const REST_SEQ_SECONDS = Math.max(2, Math.round(duration / 2));
// REST at --concurrency: REST_ROUNDS rounds of --duration / 2 seconds per target, the floor and
// viewgate alternating (which goes first alternates too).
const REST_ROUNDS = Math.max(1, Math.min(20, Number(values.rounds)));
const REST_ROUND_SECONDS = Math.max(2, Math.round(duration / 2));
const ORDER_ID = 1001;
const CUSTOMER_ID = 3;
// The REST request for the query viewgate's MCP target asks (query_view with the same filter).
const REST_SAME_QUERY = (base) => `${base}/api/v2/app/_table/orders?filter=${encodeURIComponent(`order_id = ${ORDER_ID}`)}`;
const ORDER_SQL = `SELECT order_id, customer_id, total_amount, status, created_at FROM orders WHERE order_id = ${ORDER_ID}`;

const say = (m) => console.error(m);
const results = {
  machine: { ...machine(), loadAverageBefore: loadavg().map(round2) },
  settings: {
    duration,
    concurrency,
    requests,
    maxConcurrentCalls: MAX_CALLS,
    warmupCalls: WARMUP_CALLS,
    warmupMaxSeconds: WARMUP_MAX_SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    restSequentialSeconds: REST_SEQ_SECONDS,
    restRounds: REST_ROUNDS,
    restRoundSeconds: REST_ROUND_SECONDS,
    audit: 'file',
    orderId: ORDER_ID,
  },
  peers: {},
  scenarios: {},
};

let vg;
stopOnSignals(async () => vg?.stop());

try {
  const env = await prepareStores('vg_bench');
  const auditDir = mkdtempSync(join(tmpdir(), 'vg-bench-peers-audit-'));
  const { path: configPath } = writeConfig((y) => auditToFile(y, join(auditDir, 'audit.log')));
  vg = await startViewgate(configPath, env);
  results.peers.viewgate = { status: 'running', url: vg.url };
  say(`viewgate: ${vg.url}`);

  const floorPort = await freePort();
  const floorUrl = `http://127.0.0.1:${floorPort}`;
  await startProcess({
    name: 'floor server',
    command: process.execPath,
    args: [join(ROOT, 'bench/peers/floor-server.mjs'), String(floorPort), env.APP_PG_URL, env.CRM_MYSQL_URL],
    ready: async () => (await fetch(`${floorUrl}/orders/${ORDER_ID}`)).ok,
  });
  results.peers.floor = { status: 'running', url: floorUrl };
  say(`floor server: ${floorUrl}`);

  const toolbox = await peer('toolbox', `MCP Toolbox ${TOOLBOX_VERSION}`, async () => {
    const { bin, version } = await ensureToolbox(say);
    const t = await startToolbox({ bin, port: await freePort(), pgUrl: env.APP_PG_URL });
    return { server: t, info: { version, bin } };
  });
  const dbhub = await peer('dbhub', `DBHub ${DBHUB_VERSION}`, async () => {
    const entry = ensureDbhub(say);
    const node = nodeForDbhub();
    if (!node.satisfies) say(`dbhub: no Node >= 22.5 found (set VG_BENCH_NODE); trying ${node.node} ${node.version}`);
    const d = await startDbhub({ entry, node: node.node, port: await freePort(), pgUrl: env.APP_PG_URL });
    return { server: d, info: { version: DBHUB_VERSION, node: `${node.node} ${node.version}` } };
  });

  // REST: viewgate's point query vs the floor, autocannon (1 connection, then --concurrency).
  const restTargets = [
    ['floor_rest', `${floorUrl}/orders/${ORDER_ID}`, {}],
    ['viewgate_rest', `${vg.url}/api/v2/app/_table/orders/${ORDER_ID}`, { 'X-API-Key': KEYS.internal }],
    ['floor_rest_mariadb', `${floorUrl}/customers/${CUSTOMER_ID}`, {}],
    ['viewgate_rest_mariadb', `${vg.url}/api/v2/crm/_table/customers/${CUSTOMER_ID}`, { 'X-API-Key': KEYS.internal }],
  ];
  for (const [name, url, headers] of restTargets) {
    await load({ url, headers, connections: concurrency, amount: WARMUP_CALLS });
    record(`${name}_sequential`, await load({ url, headers, connections: 1, duration: REST_SEQ_SECONDS }));
  }
  // The concurrent rows: the floor and viewgate in alternating rounds, so that whatever else the
  // machine does weighs on both alike.
  for (let i = 0; i < restTargets.length; i += 2) await pairedRounds(restTargets[i], restTargets[i + 1]);

  // MCP: the same order through each server's tool, with the MCP SDK client.
  const mcpTargets = [
    [
      'viewgate_mcp',
      `${vg.url}/mcp`,
      { 'X-API-Key': KEYS.internal },
      'query_view',
      { view: 'app.orders', filter: `order_id = ${ORDER_ID}` },
      'viewgate',
    ],
    toolbox && ['toolbox_mcp', toolbox.mcpUrl, {}, TOOLBOX_TOOL, { order_id: ORDER_ID }, 'toolbox'],
    dbhub && ['dbhub_mcp', dbhub.mcpUrl, {}, DBHUB_TOOL, { sql: ORDER_SQL }, 'dbhub'],
  ].filter(Boolean);
  for (const [name, url, headers, tool, args, peerName] of mcpTargets) {
    const clients = [];
    try {
      for (let i = 0; i < concurrency; i++) clients.push(await connectMcp(url, headers));
      const first = textOf(await callOk(clients[0], tool, args));
      if (!first.includes(String(ORDER_ID))) throw new Error(`${tool} did not return order ${ORDER_ID}: ${first.slice(0, 300)}`);
      results.peers[peerName].protocolVersion = clients[0].getNegotiatedProtocolVersion?.();
      results.peers[peerName].sampleResult = first.slice(0, 400);
      // Warmed up like the REST and raw-POST rows (WARMUP_CALLS at full concurrency), not by the
      // sequential loop's 20 calls alone: a JIT-compiled server's MCP path is still being compiled then.
      const calls = clients.map((c) => () => callOk(c, tool, args));
      await concurrent({ calls, duration: WARMUP_MAX_SECONDS, maxCalls: WARMUP_CALLS, warmupSeconds: 0 });
      record(`${name}_sequential`, await sequential({ call: () => callOk(clients[0], tool, args), requests, budgetMs: SEQ_BUDGET_MS }));
      record(
        `${name}_concurrent`,
        await concurrent({
          calls,
          duration,
          maxCalls: MAX_CALLS,
          warmupSeconds: WARMUP_SECONDS,
        }),
      );
      // viewgate's POST is timed beside REST's answer to the same query (goal 3's latency ratio).
      const same = peerName === 'viewgate' ? ['viewgate_rest_query_sequential', { url: REST_SAME_QUERY(vg.url), headers }] : undefined;
      await rawPost(name, url, headers, tool, args, same).catch((e) => say(`${name}: no raw-POST row: ${e?.message ?? e}`));
    } catch (e) {
      results.peers[peerName].status = 'failed while measuring';
      results.peers[peerName].reason = String(e?.message ?? e);
      say(`${name}: NOT MEASURED: ${results.peers[peerName].reason}`);
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
    }
  }
} catch (e) {
  results.error = String(e?.stack ?? e);
  say(`bench failed: ${results.error}`);
  process.exitCode = 1;
} finally {
  await stopAll();
  if (vg) {
    const code = await vg.stop();
    if (code !== 0) say(`viewgate exited with ${code}: ${vg.output().err}`);
  }
}

results.machine.loadAverageAfter = loadavg().map(round2);
const s = results.scenarios;
const rps = (x, y) => (s[x]?.rps && s[y]?.rps ? round2(s[x].rps / s[y].rps) : undefined);
// REST throughput against the floor: the median of the rounds' ratios (each round's viewgate rate
// over the floor's in the same pair of rounds), not the ratio of the pooled rows.
const pairedRps = (x) => (s[x]?.pairedRatios ? round2(median(s[x].pairedRatios)) : undefined);
const p50 = (x, y) => (s[x]?.p50 && s[y]?.p50 ? round2(s[x].p50 / s[y].p50) : undefined);
// Throughput ratios (> 1: viewgate serves more) at --concurrency; latency ratios (> 1: viewgate is
// slower) of the sequential p50s.
results.ratios = {
  viewgate_vs_floor_rest_rps: pairedRps('viewgate_rest_concurrent'),
  viewgate_vs_floor_rest_pooled_rps: rps('viewgate_rest_concurrent', 'floor_rest_concurrent'),
  viewgate_vs_floor_rest_p50: p50('viewgate_rest_sequential', 'floor_rest_sequential'),
  viewgate_vs_floor_rest_mariadb_rps: pairedRps('viewgate_rest_mariadb_concurrent'),
  viewgate_vs_floor_rest_mariadb_pooled_rps: rps('viewgate_rest_mariadb_concurrent', 'floor_rest_mariadb_concurrent'),
  viewgate_vs_floor_rest_mariadb_p50: p50('viewgate_rest_mariadb_sequential', 'floor_rest_mariadb_sequential'),
  viewgate_vs_toolbox_mcp_rps: rps('viewgate_mcp_concurrent', 'toolbox_mcp_concurrent'),
  viewgate_vs_toolbox_mcp_p50: p50('viewgate_mcp_sequential', 'toolbox_mcp_sequential'),
  viewgate_vs_dbhub_mcp_rps: rps('viewgate_mcp_concurrent', 'dbhub_mcp_concurrent'),
  viewgate_vs_dbhub_mcp_p50: p50('viewgate_mcp_sequential', 'dbhub_mcp_sequential'),
  viewgate_vs_toolbox_mcp_raw_rps: rps('viewgate_mcp_raw', 'toolbox_mcp_raw'),
  viewgate_vs_toolbox_mcp_raw_p50: p50('viewgate_mcp_rawseq', 'toolbox_mcp_rawseq'),
  viewgate_vs_dbhub_mcp_raw_rps: rps('viewgate_mcp_raw', 'dbhub_mcp_raw'),
  viewgate_vs_dbhub_mcp_raw_p50: p50('viewgate_mcp_rawseq', 'dbhub_mcp_rawseq'),
  viewgate_mcp_vs_rest_rps: rps('viewgate_mcp_concurrent', 'viewgate_rest_concurrent'),
  viewgate_mcp_raw_vs_rest_rps: rps('viewgate_mcp_raw', 'viewgate_rest_concurrent'),
  viewgate_mcp_raw_vs_rest_p50: p50('viewgate_mcp_rawseq', 'viewgate_rest_sequential'),
  viewgate_mcp_vs_rest_p50: p50('viewgate_mcp_sequential', 'viewgate_rest_sequential'),
  // Goal 3: the raw POST against REST for the same query, the median of the paired rounds' ratios.
  viewgate_mcp_raw_vs_rest_same_query_p50: s.viewgate_rest_query_sequential?.pairedP50Ratios
    ? round2(median(s.viewgate_rest_query_sequential.pairedP50Ratios))
    : undefined,
  viewgate_mcp_raw_vs_rest_same_query_pooled_p50: p50('viewgate_mcp_rawseq', 'viewgate_rest_query_sequential'),
};

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const file = join(ROOT, 'bench/results', `peers-${results.machine.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');

const LABELS = {
  floor_rest: 'floor: node:http + pg, `GET /orders/1001`',
  viewgate_rest: 'viewgate REST `GET /api/v2/app/_table/orders/1001`',
  viewgate_rest_query: 'viewgate REST `GET /api/v2/app/_table/orders?filter=order_id = 1001` (the MCP query)',
  floor_rest_mariadb: 'floor: node:http + mysql2, `GET /customers/3`',
  viewgate_rest_mariadb: 'viewgate REST `GET /api/v2/crm/_table/customers/3`',
  viewgate_mcp: 'viewgate MCP `query_view` (app.orders, `order_id = 1001`)',
  toolbox_mcp: `MCP Toolbox ${TOOLBOX_VERSION} \`${TOOLBOX_TOOL}\` (postgres-sql, \`$1\`)`,
  dbhub_mcp: `DBHub ${DBHUB_VERSION} \`${DBHUB_TOOL}\``,
};
const rows = Object.entries(s).map(([name, r]) => {
  const [, target, mode] = /^(.*)_(sequential|concurrent|rawseq|raw)$/.exec(name);
  const how = {
    sequential: '1 (sequential)',
    concurrent: String(r.concurrency ?? concurrency),
    rawseq: '1, raw POST (autocannon)',
    raw: `${r.concurrency ?? concurrency}, raw POST (autocannon)`,
  }[mode];
  return `| ${LABELS[target] ?? target} | ${how} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.requests} | ${(r.errors ?? 0) + (r.timeouts ?? 0) + sumValues(r.unexpected)} |`;
});
const down = Object.entries(results.peers).filter(([, p]) => p.status !== 'running');
console.log(`machine: ${JSON.stringify(results.machine)}`);
console.log(`settings: ${JSON.stringify(results.settings)}\n`);
console.log(
  '| target | concurrency | req/s or calls/s | p50 ms | p95 ms | p99 ms | calls | errors |\n|---|---|---|---|---|---|---|---|\n' +
    rows.join('\n'),
);
console.log(`\nratios: ${JSON.stringify(results.ratios)}`);
for (const [name, p] of down) console.log(`NOT MEASURED: ${name}: ${p.status}: ${p.reason}`);
console.log(`written: ${file}`);

/**
 * The same tools/call as one stateless POST per call, driven by autocannon (no SDK client, no
 * initialize): the server's side without the client's CPU, which shares the machine. Skipped
 * (and said so) if the server does not answer such a POST with the order.
 */
async function rawPost(name, url, headers, tool, args, same) {
  const req = { url, method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: mcpCall(tool, args) };
  const probe = await fetch(url, { method: 'POST', headers: req.headers, body: req.body });
  const text = await probe.text();
  if (!probe.ok || !text.includes(String(ORDER_ID)) || /"isError":\s*true|"error":\s*\{/.test(text)) {
    say(`${name}: no raw-POST row: a stateless tools/call POST answered ${probe.status}: ${text.slice(0, 300)}`);
    return;
  }
  await load({ ...req, connections: concurrency, amount: WARMUP_CALLS });
  if (same) await pairedSequential([`${name}_rawseq`, req], same);
  else record(`${name}_rawseq`, { ...(await load({ ...req, connections: 1, duration: REST_SEQ_SECONDS })), concurrency: 1 });
  record(`${name}_raw`, { ...(await load({ ...req, connections: concurrency, duration })), concurrency });
}

/**
 * Goal 3's latency ratio: the raw tools/call POST and the REST request for the same query, one
 * connection each, in REST_ROUNDS pairs of rounds, alternating which goes first, so that both
 * see the same moments of a shared machine. The REST target's row keeps each round's p50 ratio
 * (the POST's over its own); each row pools its rounds' latencies.
 */
async function pairedSequential([mcpName, mcpReq], [restName, restReq]) {
  await load({ ...restReq, connections: concurrency, amount: WARMUP_CALLS });
  const seconds = Math.max(2, Math.round(REST_SEQ_SECONDS / 2));
  const targets = [
    { name: mcpName, req: mcpReq, rounds: [] },
    { name: restName, req: restReq, rounds: [] },
  ];
  const ratios = [];
  for (let round = 0; round < REST_ROUNDS; round++) {
    for (const t of round % 2 === 0 ? targets : [...targets].reverse())
      t.rounds.push(await load({ ...t.req, connections: 1, duration: seconds, keepLatencies: true }));
    ratios.push(round2(targets[0].rounds[round].p50 / targets[1].rounds[round].p50));
  }
  for (const t of targets) {
    record(t.name, {
      ...pooled(t.rounds, REST_ROUNDS * seconds),
      concurrency: 1,
      roundP50s: t.rounds.map((r) => r.p50),
      ...(t.name === restName ? { pairedP50Ratios: ratios } : {}),
    });
  }
}

/**
 * The concurrent rows of a floor target and its viewgate target: REST_ROUNDS pairs of rounds at
 * --concurrency, alternating which goes first. Each row pools its rounds (every response's latency,
 * the total rate); the viewgate row also keeps each round's rate over the floor's in its pair.
 */
async function pairedRounds([floorName, floorUrl, floorHeaders], [vgName, vgUrl, vgHeaders]) {
  const targets = [
    { name: floorName, url: floorUrl, headers: floorHeaders, rounds: [] },
    { name: vgName, url: vgUrl, headers: vgHeaders, rounds: [] },
  ];
  const ratios = [];
  for (let round = 0; round < REST_ROUNDS; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      t.rounds.push(
        await load({ url: t.url, headers: t.headers, connections: concurrency, duration: REST_ROUND_SECONDS, keepLatencies: true }),
      );
    }
    ratios.push(round2(targets[1].rounds[round].rps / targets[0].rounds[round].rps));
  }
  for (const t of targets) {
    record(`${t.name}_concurrent`, {
      ...pooled(t.rounds, REST_ROUNDS * REST_ROUND_SECONDS),
      concurrency,
      ...(t === targets[1] ? { pairedRatios: ratios } : {}),
    });
  }
}

/** Builds/starts one peer; on failure records why and resolves to undefined (the run goes on). */
async function peer(name, label, start) {
  if (skip.has(name)) {
    results.peers[name] = { status: 'skipped', reason: '--skip' };
    return undefined;
  }
  try {
    const { server, info } = await start();
    results.peers[name] = { status: 'running', ...info, url: server.url };
    say(`${label}: ${server.url}`);
    return server;
  } catch (e) {
    results.peers[name] = { status: 'could not be built or started', reason: String(e?.message ?? e) };
    say(`${label}: NOT MEASURED, could not be built or started:\n${results.peers[name].reason}`);
    return undefined;
  }
}

function record(name, r) {
  results.scenarios[name] = r;
  const bad = (r.errors ?? 0) + (r.timeouts ?? 0) + sumValues(r.unexpected);
  say(
    `${name}: ${r.rps}/s p50 ${r.p50} p95 ${r.p95} p99 ${r.p99} ms (${r.requests} calls${bad ? `, ${bad} FAILED${r.lastError ? `: ${r.lastError}` : ''}${r.unexpected ? ` ${JSON.stringify(r.unexpected)}` : ''}` : ''})`,
  );
}

function sumValues(o) {
  return o ? Object.values(o).reduce((a, b) => a + b, 0) : 0;
}

function round2(v) {
  return Math.round(v * 100) / 100;
}
