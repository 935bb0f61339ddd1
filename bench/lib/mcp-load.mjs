// MCP tool calls as a client sees them: the official MCP SDK client (Streamable HTTP transport),
// one connected client per worker, each call timed from callTool to its result. Used by
// bench/peers.mjs to drive viewgate and its peers the same way.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { summarize } from './setup.mjs';

/**
 * A connected SDK client for `url` (the MCP endpoint) with extra request headers: the newest
 * protocol both sides speak ('auto' negotiation), or the plain 2025 `initialize` handshake if the
 * server refuses the probe outright (some 2025-era servers answer an unknown protocol version
 * header with 400).
 */
export async function connectMcp(url, headers = {}) {
  const connect = async (mode) => {
    const client = new Client({ name: 'viewgate-bench-peers', version: '1.0.0' }, { versionNegotiation: { mode } });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
    return client;
  };
  try {
    return await connect('auto');
  } catch {
    return await connect('legacy');
  }
}

/** One tools/call; a tool error (isError) throws, so the loops count it as an error. */
export async function callOk(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name} returned an error: ${textOf(r)}`);
  return r;
}

export function textOf(result) {
  return (result.content ?? []).map((c) => c.text ?? '').join('\n');
}

/** `requests` calls one after the other (after `warmup` untimed ones), stopping at `budgetMs`. */
export async function sequential({ call, requests, warmup = 20, budgetMs }) {
  for (let i = 0; i < warmup; i++) await call();
  const latencies = [];
  let errors = 0;
  let lastError;
  const start = performance.now();
  const end = start + budgetMs;
  for (let i = 0; i < requests && performance.now() < end; i++) {
    const t = performance.now();
    try {
      await call();
      latencies.push(performance.now() - t);
    } catch (e) {
      errors++;
      lastError = String(e?.message ?? e);
    }
  }
  return summarize(latencies, (performance.now() - start) / 1000, { errors, ...(lastError ? { lastError } : {}) });
}

/**
 * `calls.length` workers (one call function each, e.g. one client each) calling back to back
 * for `duration` seconds or until `maxCalls` calls in all, whichever comes first; a short
 * untimed warm-up first. Calls per second are over the measured time.
 */
export async function concurrent({ calls, duration, maxCalls, warmupSeconds = 2 }) {
  const run = async (seconds, record) => {
    const end = performance.now() + seconds * 1000;
    let started = 0;
    await Promise.all(
      calls.map(async (call) => {
        while (performance.now() < end && started < maxCalls) {
          started++;
          const t = performance.now();
          try {
            await call();
            record?.ok(performance.now() - t);
          } catch (e) {
            record?.fail(e);
          }
        }
      }),
    );
  };
  await run(warmupSeconds);
  const latencies = [];
  let errors = 0;
  let lastError;
  const start = performance.now();
  await run(duration, { ok: (ms) => latencies.push(ms), fail: (e) => (errors++, (lastError = String(e?.message ?? e))) });
  return summarize(latencies, (performance.now() - start) / 1000, {
    concurrency: calls.length,
    errors,
    ...(lastError ? { lastError } : {}),
  });
}
