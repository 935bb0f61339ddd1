// Graceful shutdown without a dropped request: a slow request (PostgreSQL behind a TCP proxy that
// holds its answer back until the test releases it) is in flight when shutdown starts; it completes with 200 and its audit record,
// new connections are refused, and only then are the pools closed. Once in process (shutdown()),
// once as a user runs it: the built `viewgate serve` process receiving SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceStores, KEYS, REFERENCE_CONFIG, referenceConfig, type ReferenceStores } from '../support/reference.js';
import { TcpProxy } from '../integration/ops-tcp-proxy.js';
import { shutdown } from '../../src/shutdown.js';
import { startWith } from './ops-helpers.js';
import { waitFor } from '../support/wait.js';

const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;
const DIST_SHUTDOWN = new URL('../../dist/shutdown.js', import.meta.url).pathname;
const ORDERS = '/api/v2/app/_table/orders?order=order_id&limit=3';
const internal = { 'X-API-Key': KEYS.internal };
const refused = (url: string) =>
  fetch(url).then(
    () => false,
    () => true,
  );
const answerHeld = () => waitFor(() => proxy.heldChunks > 0, { what: "PostgreSQL's answer to the slow query (held by the proxy)" });

let stores: ReferenceStores;
let proxy: TcpProxy;

beforeAll(async () => {
  stores = await createReferenceStores('opsshutdown');
  proxy = TcpProxy.forUrl(stores.env.APP_PG_URL!);
  await proxy.start();
});

afterAll(async () => {
  await proxy?.stop();
  await stores?.drop();
});

describe('graceful shutdown', () => {
  it('in process: the in-flight request completes and is audited; new connections are refused', async () => {
    proxy.release(); // nothing held back from an earlier test
    const srv = await startWith(referenceConfig({ ...stores.env, APP_PG_URL: proxy.urlFor(stores.env.APP_PG_URL!) }));
    expect((await fetch(srv.url + ORDERS, { headers: internal })).status).toBe(200);
    proxy.hold();
    const slow = fetch(srv.url + ORDERS, { headers: { ...internal, 'X-Request-Id': 'slow-one' } }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as any,
    }));
    await answerHeld();
    let finished = false;
    let released = 0;
    // When shutdown resolves, the slow request must already be answered and audited.
    const closing = shutdown(srv.app, srv.rt).then(() => {
      finished = true;
      return { ms: performance.now() - released, audited: srv.audit.records.some((a) => a.requestId === 'slow-one') };
    });
    await waitFor(() => refused(srv.url + '/healthz'), { what: 'the closing server to refuse new connections' });
    // The answer is still held back, so shutdown is still waiting for the request.
    expect(finished).toBe(false);
    released = performance.now();
    proxy.release();
    const r = await slow;
    const closed = await closing;
    expect(r.status).toBe(200);
    expect(r.body.resource).toHaveLength(3);
    expect(closed.audited).toBe(true);
    // ... and once it is answered, shutdown does not wait for kept-alive connections to time out.
    expect(closed.ms).toBeLessThan(5_000);
    expect(srv.audit.records.find((a) => a.requestId === 'slow-one')).toMatchObject({ status: 200, rowCount: 3, view: 'app.orders' });
  });

  it('viewgate serve: SIGTERM finishes the in-flight request, writes its audit record, exits 0', async () => {
    expect(existsSync(DIST_SHUTDOWN), 'this test runs the built CLI, which test/global-setup.ts builds').toBe(true);
    const child = spawn(process.execPath, [BIN, 'serve', '--config', REFERENCE_CONFIG, '--port', '0'], {
      env: { ...process.env, ...stores.env, APP_PG_URL: proxy.urlFor(stores.env.APP_PG_URL!) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const address = await waitFor(() => /"address":"(http:\/\/[^"]+)"/.exec(stdout)?.[1], {
        timeout: 30_000,
        what: 'the listening line of viewgate serve',
      }).catch((err: Error) => {
        throw new Error(`${err.message}; stderr: ${stderr}`);
      });
      expect((await fetch(address + ORDERS, { headers: internal })).status).toBe(200);

      proxy.hold();
      const slow = fetch(address + ORDERS, { headers: { ...internal, 'X-Request-Id': 'slow-cli' } }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as any,
      }));
      await answerHeld();
      child.kill('SIGTERM');
      await waitFor(() => stdout.includes('shutting down: finishing in-flight requests'), {
        what: 'viewgate serve to start shutting down',
      });
      proxy.release();
      const r = await slow;
      expect(r.status).toBe(200);
      expect(r.body.resource).toHaveLength(3);
      expect(await exited).toBe(0);
      const audit = stdout
        .split('\n')
        .filter((l) => l.startsWith('{"audit"'))
        .map((l) => JSON.parse(l).audit);
      expect(audit.find((a: any) => a.requestId === 'slow-cli')).toMatchObject({ status: 200, rowCount: 3 });
      expect(stdout).toContain('shutting down: finishing in-flight requests');
      expect(stdout).toContain('shutdown complete');
    } finally {
      proxy.release();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
