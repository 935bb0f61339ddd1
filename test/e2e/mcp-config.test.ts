// `viewgate mcp-config` as a user runs it, and its output used as a desktop assistant uses it: the
// printed command, args and env started by a real MCP client from `/`, with nothing else inherited
// but what the SDK passes to every stdio server (PATH, HOME, ...).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import {
  createReferenceStores,
  get,
  KEYS,
  REFERENCE_CONFIG,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;

async function viewgate(args: string[], env: Record<string, string> = {}) {
  // Not from the checkout: the command must not depend on the working directory.
  const opts = { env: { ...(process.env as Record<string, string>), ...env }, cwd: tmpdir(), timeout: 90_000 };
  try {
    const r = await run(process.execPath, [BIN, ...args], opts);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err: any) {
    return { code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string };
  }
}

interface ServerEntry {
  type?: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

let stores: ReferenceStores;
let srv: RunningServer;

beforeAll(async () => {
  stores = await createReferenceStores('mcpcfg');
  srv = await startServer(referenceConfig(stores.env));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

// Each case starts one or two node processes; a generous deadline for a loaded machine.
describe('viewgate mcp-config', { timeout: 120_000 }, () => {
  it('prints an entry that a desktop assistant starts from / and queries with', async () => {
    const r = await viewgate(['mcp-config', '--config', REFERENCE_CONFIG, '--api-key', KEYS.partner], stores.env);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    const entry: ServerEntry = printed.mcpServers.viewgate;
    expect(entry.command).toBe(process.execPath);
    expect(entry.args).toEqual([BIN, 'mcp', '--config', REFERENCE_CONFIG]);
    // The identity, and the variables the config file references that are set here.
    expect(entry.env).toMatchObject({ VIEWGATE_API_KEY: KEYS.partner, ...stores.env });
    expect(r.stderr).toContain('claude_desktop_config.json');
    expect(r.stderr).not.toContain('to do');

    const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: entry.env, cwd: '/', stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'desktop-host', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'activity_by_event_type',
        'aggregate_view',
        'describe_view',
        'list_views',
        'query_view',
        'recent_events',
      ]);
      const q = { view: 'crm.customers', fields: ['customer_id', 'tenant_id', 'email'], order: 'customer_id' };
      const result: any = await client.callTool({ name: 'query_view', arguments: q });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      const rest = await get(`${srv.url}/api/v2/crm/_table/customers?fields=customer_id,tenant_id,email&order=customer_id`, {
        'X-API-Key': KEYS.partner,
      });
      expect(rest.status).toBe(200);
      expect(result.structuredContent.rows).toEqual(rest.body.resource);
      expect(result.structuredContent.rows.length).toBe(6);
      for (const row of result.structuredContent.rows)
        expect(row).toMatchObject({ tenant_id: 't2', email: expect.stringMatching(/^.\*\*\*@example\.org$/) });
    } finally {
      await client.close();
    }
    expect(stderr).toContain('mcp over stdio: serving');
  });

  it('leaves a placeholder for the credential when none is given, and says so', async () => {
    const r = await viewgate(['mcp-config', '--config', REFERENCE_CONFIG, '--client', 'cursor'], stores.env);
    expect(r.code, r.stderr).toBe(0);
    const entry: ServerEntry = JSON.parse(r.stdout).mcpServers.viewgate;
    expect(entry.env.VIEWGATE_API_KEY).toBe('REPLACE_WITH_YOUR_VIEWGATE_API_KEY');
    expect(r.stderr).toContain('to do: VIEWGATE_API_KEY is a placeholder');
    expect(r.stderr).toContain('.cursor/mcp.json');
  });

  it("writes VS Code's format: servers, type stdio, and a prompt for the secret", async () => {
    const r = await viewgate(['mcp-config', '--config', REFERENCE_CONFIG, '--client', 'vscode', '--name', 'crm-data'], stores.env);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.mcpServers).toBeUndefined();
    expect(printed.servers['crm-data']).toMatchObject({
      type: 'stdio',
      command: process.execPath,
      args: [BIN, 'mcp', '--config', REFERENCE_CONFIG],
    });
    expect(printed.servers['crm-data'].env.VIEWGATE_API_KEY).toBe('${input:viewgate-credential}');
    expect(printed.inputs).toEqual([expect.objectContaining({ type: 'promptString', id: 'viewgate-credential', password: true })]);
  });

  it('carries a JWT as VIEWGATE_TOKEN', async () => {
    const tok = await viewgate(['token', '--config', REFERENCE_CONFIG, '--role', 'external', '--claim', 'tenant_id=t2']);
    const jwt = tok.stdout.trim();
    const r = await viewgate(['mcp-config', '--config', REFERENCE_CONFIG, '--token', jwt], stores.env);
    expect(r.code, r.stderr).toBe(0);
    const env = JSON.parse(r.stdout).mcpServers.viewgate.env;
    expect(env.VIEWGATE_TOKEN).toBe(jwt);
    expect(env.VIEWGATE_API_KEY).toBeUndefined();
  });

  it('names a variable the config needs that is not set here, with a placeholder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-mcpcfg-'));
    const file = join(dir, 'needs-env.yaml');
    writeFileSync(file, readFileSync(REFERENCE_CONFIG, 'utf8').replace(/\$\{CRM_MYSQL_URL:-[^}]*\}/, '${VG_TEST_CRM_URL}'));
    const missing = await viewgate(['mcp-config', '--config', file, '--api-key', KEYS.partner], { ...stores.env, VG_TEST_CRM_URL: '' });
    expect(missing.code, missing.stderr).toBe(0);
    expect(JSON.parse(missing.stdout).mcpServers.viewgate.env.VG_TEST_CRM_URL).toBe('REPLACE_WITH_VG_TEST_CRM_URL');
    expect(missing.stderr).toContain(`to do: VG_TEST_CRM_URL is not set here and ${file} needs it`);
    const set = await viewgate(['mcp-config', '--config', file, '--api-key', KEYS.partner], {
      ...stores.env,
      VG_TEST_CRM_URL: stores.env.CRM_MYSQL_URL!,
    });
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).mcpServers.viewgate.env.VG_TEST_CRM_URL).toBe(stores.env.CRM_MYSQL_URL);
    expect(set.stderr).not.toContain('to do');
  });

  it('refuses a key the config does not accept, a broken config and an unknown client', async () => {
    const bad = await viewgate(['mcp-config', '--config', REFERENCE_CONFIG, '--api-key', 'wrong'], stores.env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('--api-key is refused by');
    expect(bad.stderr).toContain('the API key is not valid');

    const dir = mkdtempSync(join(tmpdir(), 'vg-mcpcfg-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'sources: {}\nservices: {}\nroles:\n  r: { grants: {}, extra: 1 }\n');
    const broken = await viewgate(['mcp-config', '--config', file]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toContain('roles.r (line 4): unknown key "extra"');

    const client = await viewgate(['mcp-config', '--config', REFERENCE_CONFIG, '--client', 'zed']);
    expect(client.code).toBe(2);
    expect(client.stderr).toContain('--client "zed" is not one of claude, cursor, vscode');
  });

  it('is listed in --help', async () => {
    const r = await viewgate(['--help']);
    expect(r.stdout).toContain('viewgate mcp-config --config FILE');
  });
});
