#!/usr/bin/env node
// What the grant timeout's wrapper costs per request (src/gateway/cost-guard.ts withTimeout):
// 200 000 calls, one after the other, each with a caller signal, a listener on the signal it hands
// the work, and a tiny result, as a request under a grant with `timeout: 5s` makes them. Reported:
// CPU microseconds per call and how far the old generation grew (peak, MiB): what outlives the
// young generation's collections stays until a full one. Run `npm run build` first;
//   node bench/grant-timeout.mjs [--root DIR]   (DIR: another built checkout, to compare)
import v8 from 'node:v8';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const { values } = parseArgs({ options: { root: { type: 'string', default: new URL('..', import.meta.url).pathname } } });
const root = resolve(values.root);
const { withTimeout } = await import(pathToFileURL(`${root}/dist/gateway/cost-guard.js`).href);
const CALLS = 200_000;
const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_used_size;
const guard = { timeoutMs: 5000 };
const start = oldSpace();
let peak = 0;
const cpu = process.cpuUsage();
for (let i = 0; i < CALLS; i++) {
  const caller = new AbortController();
  await withTimeout(guard, caller.signal, async (signal) => {
    signal?.addEventListener('abort', () => {});
    await null;
    return { rows: [i] };
  });
  if (i % 10_000 === 0) peak = Math.max(peak, oldSpace() - start);
}
const used = process.cpuUsage(cpu);
peak = Math.max(peak, oldSpace() - start);
console.log(
  `${root}: ${((used.user + used.system) / CALLS).toFixed(2)} us CPU per call, old generation grew by up to ${(peak / 2 ** 20).toFixed(1)} MiB over ${CALLS} calls (Node ${process.version})`,
);
