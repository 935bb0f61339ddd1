// `viewgate mcp` that cannot start still speaks MCP, so the reason reaches the client that started it
// (desktop hosts show protocol errors, rarely a server's stderr): in the initialize instructions, as
// the error of tools/list (and every other list), and as an isError result of a tool call. Real
// clients of both SDK generations, real processes; the exit status is checked in mcp-interop.test.ts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as V2Client } from '@modelcontextprotocol/client';
import { StdioClientTransport as V2Stdio } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1Stdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createReferenceStores, KEYS, REFERENCE_CONFIG, type ReferenceStores } from '../support/reference.js';

const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;

type Flavour = 'v2 (2026-07-28)' | 'v2 (2025 handshake)' | 'v1 sdk';

let stores: ReferenceStores;
beforeAll(async () => {
  stores = await createReferenceStores('mcpfail');
});
afterAll(async () => {
  await stores?.drop();
});

interface Seen {
  instructions: string;
  listError: string;
  callText: string;
  callIsError: boolean;
  promptsError: string;
  stderr: string;
}

/** Starts `viewgate mcp` as a desktop host does (from /, with an env block) and records what a client sees. */
async function connect(args: string[], env: Record<string, string>, flavour: Flavour = 'v2 (2026-07-28)'): Promise<Seen> {
  const params = { command: process.execPath, args: [BIN, 'mcp', ...args], cwd: '/', env, stderr: 'pipe' as const };
  const transport: any = flavour === 'v1 sdk' ? new V1Stdio(params) : new V2Stdio(params);
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const info = { name: 'desktop-host', version: '1.0.0' };
  const client: any =
    flavour === 'v1 sdk'
      ? new V1Client(info)
      : new V2Client(info, flavour === 'v2 (2026-07-28)' ? { versionNegotiation: { mode: 'auto' } } : {});
  try {
    await client.connect(transport);
    const listError = await client.listTools().then(
      (r: unknown) => `listed: ${JSON.stringify(r)}`,
      (err: Error) => err.message,
    );
    const call = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers' } });
    const promptsError = await client.listPrompts().then(
      (r: unknown) => `listed: ${JSON.stringify(r)}`,
      (err: Error) => err.message,
    );
    return {
      instructions: client.getInstructions() ?? '',
      listError,
      callText: call.content.map((c: any) => c.text).join('\n'),
      callIsError: call.isError === true,
      promptsError,
      stderr,
    };
  } finally {
    await client.close();
  }
}

function expectReason(seen: Seen, reason: string): void {
  expect(seen.instructions).toContain(`viewgate could not start: ${reason}`);
  expect(seen.listError).toContain(`viewgate could not start: ${reason}`);
  expect(seen.listError).toContain('viewgate mcp-config');
  expect(seen.callIsError).toBe(true);
  expect(seen.callText).toContain(reason);
  expect(seen.promptsError).toContain(reason);
  expect(seen.stderr).toContain(`viewgate mcp: ${reason}`);
}

// Each case starts one or two node processes; a generous deadline for a loaded machine.
describe('viewgate mcp that cannot start tells the client why', { timeout: 120_000 }, () => {
  it.each<Flavour>(['v2 (2026-07-28)', 'v2 (2025 handshake)', 'v1 sdk'])('a wrong VIEWGATE_API_KEY, to a %s client', async (flavour) => {
    const seen = await connect(['--config', REFERENCE_CONFIG], { ...stores.env, VIEWGATE_API_KEY: 'wrong' }, flavour);
    expectReason(seen, 'VIEWGATE_API_KEY was refused: the API key is not valid');
  });

  it('no credential at all', async () => {
    const seen = await connect(['--config', REFERENCE_CONFIG], stores.env);
    expectReason(seen, 'set VIEWGATE_API_KEY (an API key) or VIEWGATE_TOKEN (a JWT)');
  });

  it('a malformed VIEWGATE_TOKEN', async () => {
    const seen = await connect(['--config', REFERENCE_CONFIG], { ...stores.env, VIEWGATE_TOKEN: 'not.a.jwt' });
    expectReason(seen, 'VIEWGATE_TOKEN was refused: the token is malformed');
  });

  it('no --config', async () => {
    const seen = await connect([], { VIEWGATE_API_KEY: KEYS.llm });
    expectReason(seen, 'no configuration file: pass --config FILE or set VIEWGATE_CONFIG');
  });

  it('a config file that cannot be read, or has problems', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-mcpfail-'));
    const missing = join(dir, 'missing.yaml');
    expectReason(await connect(['--config', missing], { VIEWGATE_API_KEY: KEYS.llm }), `${missing}: 1 problem in the configuration`);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'sources: {}\nservices: {}\nroles:\n  r: { grants: {}, extra: 1 }\n');
    const seen = await connect(['--config', bad], { VIEWGATE_API_KEY: KEYS.llm });
    expectReason(seen, `${bad}: 1 problem in the configuration`);
    expect(seen.listError).toContain('roles.r (line 4): unknown key "extra"');
  });

  it('grants that do not fit the views', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-mcpfail-'));
    const file = join(dir, 'rf.yaml');
    const text = readFileSync(REFERENCE_CONFIG, 'utf8');
    const edited = text.replace(
      'rowFilter: "tenant_id = {claims.tenant_id}"\n        maxLimit: 100',
      'rowFilter: "tenant = {claims.tenant_id}"\n        maxLimit: 100',
    );
    expect(edited).not.toBe(text);
    writeFileSync(file, edited);
    const seen = await connect(['--config', file], { ...stores.env, VIEWGATE_API_KEY: KEYS.partner });
    expectReason(seen, "the configuration's grants do not fit the views");
    expect(seen.listError).toContain('roles.external.grants.federation.unified_customer_activity.rowFilter');
  });

  it("stores that cannot be reached, so none of the caller's views can be built", async () => {
    const seen = await connect(['--config', REFERENCE_CONFIG], {
      ...stores.env,
      CRM_MYSQL_URL: 'mysql://root@127.0.0.1:1/nothing',
      APP_PG_URL: 'postgres://postgres@127.0.0.1:1/nothing',
      VIEWGATE_API_KEY: KEYS.llm,
    });
    expectReason(seen, 'none of the views this identity may read can be built');
    expect(seen.listError).toMatch(/crm\.customers: store "crm" is unavailable/);
  });
});
