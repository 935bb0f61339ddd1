// The CLI's first-run edges, as a user meets them: the built bin in real processes, real stores.
// Per-command --help, choosing the port (--port, VIEWGATE_PORT) and host, and a port already taken.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceStores, KEYS, REFERENCE_CONFIG, referenceConfig, type ReferenceStores } from '../support/reference.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;

async function viewgate(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err: any) {
    return { code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string };
  }
}

/** A port nobody listens on right now (the OS picks it). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Polls until the URL answers (generous deadline), or the process exits. */
async function waitFor(url: string, child: ChildProcess): Promise<Response> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    try {
      return await fetch(url);
    } catch {
      if (exited) throw new Error(`viewgate exited before ${url} answered`);
      if (Date.now() > deadline) throw new Error(`${url} did not answer within 60s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

let stores: ReferenceStores;
beforeAll(async () => {
  stores = await createReferenceStores('cliedge');
});
afterAll(async () => {
  await stores?.drop();
});

describe('viewgate <command> --help', () => {
  it.each(['serve', 'mcp', 'check', 'token', 'explain', 'hub', 'demo'])('%s --help prints its usage and exits 0', async (command) => {
    const r = await viewgate([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: viewgate ${command}\\b`));
    expect(r.stdout).toContain('--config FILE');
    expect(r.stderr).toBe('');
  });

  it('-h works too, also after other flags and for hub subcommands', async () => {
    expect((await viewgate(['token', '--role', 'x', '-h'])).stdout).toContain('--claim k=v');
    expect((await viewgate(['hub', 'plan', '--help'])).code).toBe(0);
  });

  it('the general help lists --port and --host', async () => {
    const r = await viewgate(['--help']);
    expect(r.stdout).toContain('viewgate serve   --config FILE [--port N] [--host H]');
    expect(r.stdout).toContain('viewgate demo    --config FILE [--port N] [--host H]');
    expect((await viewgate(['serve', '--help'])).stdout).toContain('--port N');
  });
});

describe('choosing where to listen', () => {
  it('the reference config reads VIEWGATE_PORT (a number from an environment variable)', () => {
    expect(referenceConfig(stores.env).server.port).toBe(8080);
    expect(referenceConfig({ ...stores.env, VIEWGATE_PORT: '9123' }).server.port).toBe(9123);
    expect(() => referenceConfig({ ...stores.env, VIEWGATE_PORT: 'eighty' })).toThrow(/server\.port/);
    // publicUrl is left to the request's URL unless VIEWGATE_PUBLIC_URL says otherwise.
    expect(referenceConfig(stores.env).server.publicUrl).toBeUndefined();
    expect(referenceConfig({ ...stores.env, VIEWGATE_PUBLIC_URL: 'https://vg.example' }).server.publicUrl).toBe('https://vg.example');
  });

  it('serve --port N --host H listens there', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve', '--config', REFERENCE_CONFIG, '--port', String(port), '--host', '127.0.0.1'], {
      env: { ...process.env, ...stores.env, VIEWGATE_PORT: '1' },
      stdio: 'ignore',
    });
    try {
      const r = await waitFor(`http://127.0.0.1:${port}/healthz`, child);
      expect(r.status).toBe(200);
      // The OpenAPI document points clients at the port actually served.
      const doc = (await (
        await fetch(`http://127.0.0.1:${port}/api/v2/openapi.json`, { headers: { 'X-API-Key': KEYS.internal } })
      ).json()) as { servers: unknown };
      expect(doc.servers).toEqual([{ url: `http://127.0.0.1:${port}` }]);
    } finally {
      await stop(child);
    }
  });

  it('VIEWGATE_PORT chooses the port of the reference config', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve', '--config', REFERENCE_CONFIG], {
      env: { ...process.env, ...stores.env, VIEWGATE_PORT: String(port) },
      stdio: 'ignore',
    });
    try {
      expect((await waitFor(`http://127.0.0.1:${port}/healthz`, child)).status).toBe(200);
    } finally {
      await stop(child);
    }
  });

  it('a bad --port is a usage error (exit 2)', async () => {
    const r = await viewgate(['serve', '--config', REFERENCE_CONFIG, '--port', 'http'], stores.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port "http" is not a port number');
  });

  describe('a port already taken', () => {
    let holder: Server;
    let port: number;
    beforeAll(async () => {
      holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      port = (holder.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    });

    it.each([
      ['serve', []],
      ['demo', ['--port']],
    ])('%s names host:port and how to change it, exits 1 without a stack trace', async (command, how) => {
      const args = how.length ? ['--port', String(port)] : [];
      const env = how.length ? stores.env : { ...stores.env, VIEWGATE_PORT: String(port) };
      const r = await viewgate([command, '--config', REFERENCE_CONFIG, ...args], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the address is already in use`);
      expect(r.stderr).toContain('--port N');
      expect(r.stderr).toContain('VIEWGATE_PORT');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });
  });
});
