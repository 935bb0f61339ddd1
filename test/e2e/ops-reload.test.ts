// SIGHUP reloads the configuration of a running `viewgate serve` (docs/operations.md, "Reloading
// the configuration"): the built CLI as a child process over real HTTP and a real PostgreSQL. Under
// load, several reloads (a grant, a service, a source changed) drop no request; a grant change
// takes effect at once (a field hidden, a view granted) and ends the cursors made under the old
// grant; an unchanged source keeps its pool (the same PostgreSQL backend serves before and after),
// a changed one does not; a bad config is refused, the old one keeps serving, and the log says so.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, pgExec } from '../support/stores.js';
import { mcpClient } from '../support/exports.js';
import { waitFor } from '../support/wait.js';

const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;
const DIST_RELOAD = new URL('../../dist/reload.js', import.meta.url).pathname;
const KEY = 'vg_reload_reader_key';
const headers = { 'X-API-Key': KEY };

interface Variant {
  /** The grant on app.items (YAML flow mapping). */
  items?: string;
  /** Grant app.other too. */
  other?: boolean;
  /** The service's description (changing it rebuilds the service's views). */
  description?: string;
  /** The source's query timeout (changing it rebuilds the source and its pool). */
  timeout?: string;
  /** The listen address (needs a restart). */
  host?: string;
}

function configText(v: Variant = {}): string {
  return `server:
  metrics: { public: true }
${v.host !== undefined ? `  host: ${v.host}\n` : ''}sources:
  db:
    kind: postgres
    url: \${RELOAD_PG_URL}
    timeout: ${v.timeout ?? '30s'}
services:
  app:
    description: ${v.description ?? 'the shop'}
    source: db
    tables: [items, other]
auth:
  apiKeys:
    - name: reader
      sha256: ${createHash('sha256').update(KEY).digest('hex')}
      role: reader
roles:
  reader:
    grants:
      app.items: ${v.items ?? '{ read: true }'}
${v.other ? '      app.other: { read: true }\n' : ''}`;
}

let db: { url: string; name: string; drop: () => Promise<void> };
let dir: string;
let configFile: string;
let child: ChildProcess;
let address: string;
let stdout = '';

/** The JSON log lines of the server with this message. */
const logged = (msg: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Writes the config, sends SIGHUP and waits for the reload's outcome line; returns it. */
async function reloadWith(
  text: string,
  outcome: 'configuration reloaded' | 'configuration reload refused',
): Promise<Record<string, unknown>> {
  const before = logged(outcome).length;
  writeFileSync(configFile, text);
  child.kill('SIGHUP');
  return waitFor(() => logged(outcome)[before], { timeout: 20_000, what: `"${outcome}" in the log; stdout: ${stdout.slice(-2000)}` });
}

const get = async (path: string) => {
  const r = await fetch(address + path, { headers });
  return { status: r.status, body: (await r.json()) as any };
};

/** The PostgreSQL backends viewgate holds open on the test database. */
async function backends(): Promise<number[]> {
  const r = await pgExec(db.url, 'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() ORDER BY pid', [db.name]);
  return r.rows.map((row: { pid: number }) => row.pid);
}

beforeAll(async () => {
  expect(existsSync(DIST_RELOAD), 'this test runs the built CLI, which test/global-setup.ts builds').toBe(true);
  db = await createPgDatabase('opsreload');
  await pgExec(
    db.url,
    `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, secret text NOT NULL);
     INSERT INTO items SELECT i, 'item ' || i, 'secret ' || i FROM generate_series(1, 20) AS i;
     CREATE TABLE other (id int PRIMARY KEY, v text);
     INSERT INTO other VALUES (1, 'one');`,
  );
  dir = mkdtempSync(join(tmpdir(), 'viewgate-reload-'));
  configFile = join(dir, 'viewgate.yaml');
  writeFileSync(configFile, configText());
  child = spawn(process.execPath, [BIN, 'serve', '--config', configFile, '--port', '0'], {
    env: { ...process.env, RELOAD_PG_URL: db.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  address = await waitFor(() => /"address":"(http:\/\/[^"]+)"/.exec(stdout)?.[1], {
    timeout: 30_000,
    what: 'the listening line of viewgate serve',
  }).catch((err: Error) => {
    throw new Error(`${err.message}; stderr: ${stderr}`);
  });
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

describe('SIGHUP reloads the configuration', () => {
  it('an unchanged source keeps its pool; a changed one gets a new one', async () => {
    expect((await get('/api/v2/app/_table/items?limit=1')).status).toBe(200);
    const before = await backends();
    expect(before.length).toBeGreaterThan(0);
    const summary = await reloadWith(configText({ items: '{ read: true, maxLimit: 10 }' }), 'configuration reloaded');
    expect(summary).toMatchObject({ sourcesRebuilt: [], servicesRebuilt: [], grantsChanged: 1 });
    expect((await get('/api/v2/app/_table/items?limit=1')).status).toBe(200);
    expect(await backends()).toEqual(before);

    const rebuilt = await reloadWith(configText({ items: '{ read: true, maxLimit: 10 }', timeout: '20s' }), 'configuration reloaded');
    expect(rebuilt).toMatchObject({ sourcesRebuilt: ['db'], servicesRebuilt: ['app'], grantsChanged: 0 });
    expect((await get('/api/v2/app/_table/items?limit=1')).status).toBe(200);
    // The old pool is closed once its requests are done; the new one has its own backends.
    await waitFor(
      async () => {
        const now = await backends();
        return now.length > 0 && now.every((pid) => !before.includes(pid));
      },
      { what: 'the old pool to be closed and the new one to serve' },
    );
  });

  it('drops no request while reloading under load', async () => {
    const variants = [
      configText({ items: '{ read: true, maxLimit: 10 }' }),
      configText({ items: '{ read: true, maxLimit: 12 }', description: 'the shop, renamed' }),
      configText({ items: '{ read: true, maxLimit: 12 }', description: 'the shop, renamed', timeout: '25s' }),
      configText(),
    ];
    const failures: string[] = [];
    let ok = 0;
    let stop = false;
    const client = async () => {
      while (!stop) {
        try {
          const r = await fetch(`${address}/api/v2/app/_table/items?limit=5&order=id`, { headers });
          const body = (await r.json()) as any;
          if (r.status === 200 && body.resource.length === 5) ok++;
          else failures.push(`${r.status} ${JSON.stringify(body)}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    const started = performance.now();
    for (const text of variants) await reloadWith(text, 'configuration reloaded');
    // At least ~2 s of load in all, across the reloads.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2_000 - (performance.now() - started))));
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
  }, 60_000);

  it('a grant change takes effect at once, and ends the cursors made under the old grant', async () => {
    const first = await get('/api/v2/app/_table/items?limit=2&order=id');
    expect(first.status).toBe(200);
    expect(Object.keys(first.body.resource[0]).sort()).toEqual(['id', 'name', 'secret']);
    const cursor = first.body.meta.next_cursor as string;
    expect(cursor).toBeTruthy();
    // The cursor works while the grant stands (also after a reload that leaves the grant alone).
    await reloadWith(configText({ description: 'unchanged grants' }), 'configuration reloaded');
    expect((await get(`/api/v2/app/_table/items?limit=2&order=id&cursor=${cursor}`)).body.resource[0].id).toBe(3);
    expect((await get('/api/v2/app/_table/other')).status).toBe(404);

    const summary = await reloadWith(configText({ items: '{ read: true, fields: [id, name] }', other: true }), 'configuration reloaded');
    expect(summary).toMatchObject({ grantsChanged: 2 });
    const hidden = await get('/api/v2/app/_table/items?limit=2&order=id');
    expect(hidden.status).toBe(200);
    expect(Object.keys(hidden.body.resource[0]).sort()).toEqual(['id', 'name']);
    const other = await get('/api/v2/app/_table/other');
    expect(other.status).toBe(200);
    expect(other.body.resource).toEqual([{ id: 1, v: 'one' }]);

    const stale = await get(`/api/v2/app/_table/items?limit=2&order=id&cursor=${cursor}`);
    expect(stale.status).toBe(400);
    expect(stale.body.error.message).toMatch(/access to this view has changed.*start again without cursor/);
  });

  it('ends the MCP exports made under a grant that changed, and keeps the others', async () => {
    await reloadWith(configText({ items: '{ read: true, export: true }', other: true }), 'configuration reloaded');
    const mcp = await mcpClient(address, headers);
    try {
      const made = async (view: string) => {
        const r: any = await mcp.callTool({ name: 'export_view', arguments: { view, format: 'csv' } });
        expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
        return r.structuredContent.uri as string;
      };
      const items = await made('app.items');
      await reloadWith(configText({ items: '{ read: true, export: true, maxExportRows: 5 }', other: true }), 'configuration reloaded');
      const err: any = await mcp.readResource({ uri: items }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(err?.message)).toMatch(/made under a grant that has changed since; export the view again/);
      const again = await made('app.items');
      await reloadWith(
        configText({ items: '{ read: true, export: true, maxExportRows: 5 }', other: true, description: 'd' }),
        'configuration reloaded',
      );
      expect((await mcp.readResource({ uri: again })).contents[0]).toMatchObject({ mimeType: 'text/csv' });
    } finally {
      await mcp.close();
    }
    await reloadWith(configText({ items: '{ read: true, fields: [id, name] }', other: true }), 'configuration reloaded');
  });

  it('refuses a bad config, keeps serving the old one, and logs why', async () => {
    const refused = await reloadWith(configText({ other: true }).replace('roles:', 'rolez:'), 'configuration reload refused');
    expect(String(refused.problem)).toMatch(/rolez|roles/);
    // A config whose grant names a column the view does not have: refused when the views are checked.
    const misfit = await reloadWith(configText({ items: '{ read: true, fields: [id, nope] }' }), 'configuration reload refused');
    expect(String(misfit.problem)).toMatch(/nope/);
    // The running config (field hidden, other granted) still serves.
    const items = await get('/api/v2/app/_table/items?limit=1&order=id');
    expect(items.status).toBe(200);
    expect(Object.keys(items.body.resource[0]).sort()).toEqual(['id', 'name']);
    expect((await get('/api/v2/app/_table/other')).status).toBe(200);

    const metrics = await (await fetch(`${address}/metrics`)).text();
    expect(metrics).toMatch(/viewgate_config_reloads_total\{outcome="refused"\} 2/);
    expect(metrics).toMatch(/viewgate_config_last_reload_success 0/);
  });

  it('keeps settings that need a restart, and says so', async () => {
    const summary = await reloadWith(configText({ host: '127.0.0.2' }), 'configuration reloaded');
    expect(summary).toMatchObject({ needsRestart: ['server.host'] });
    expect(logged('configuration reload: server.host changed, which needs a restart').length).toBe(1);
    expect((await get('/api/v2/app/_table/items?limit=1')).status).toBe(200);
    const metrics = await (await fetch(`${address}/metrics`)).text();
    expect(metrics).toMatch(/viewgate_config_last_reload_success 1/);
  });
});
