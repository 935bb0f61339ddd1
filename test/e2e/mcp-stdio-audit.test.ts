// Over stdio, as over HTTP, every message a client sends gets exactly one audit record: tool calls
// their detailed one, and initialize, tools/list, prompts/list, notifications, a call the SDK
// refuses before any tool runs (an unknown tool, arguments outside the schema) one each.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createReferenceStores, KEYS, REFERENCE_CONFIG, type ReferenceStores } from '../support/reference.js';
import { auditFileRecords } from '../support/audit-file.js';

const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;

let stores: ReferenceStores;
let dir: string;

beforeAll(async () => {
  stores = await createReferenceStores('stdio_audit');
  dir = mkdtempSync(join(tmpdir(), 'vg-stdio-audit-'));
});

afterAll(async () => {
  await stores?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Rec = { surface: string; action: string; status: number; decision: string; keyName?: string; identityKey?: string };

function records(file: string): Rec[] {
  return auditFileRecords<Rec>(file);
}

describe('MCP over stdio: one audit record per message', () => {
  it('records tool calls once, and every other request and notification once', async () => {
    const auditFile = join(dir, 'audit.log');
    const config = join(dir, 'viewgate.yaml');
    writeFileSync(
      config,
      readFileSync(REFERENCE_CONFIG, 'utf8').replace('audit:\n  sink: stdout', `audit:\n  sink: file\n  path: ${auditFile}`),
    );
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', '--config', config],
      env: { ...(process.env as Record<string, string>), ...stores.env, VIEWGATE_API_KEY: KEYS.internal },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'audit-test', version: '1.0.0' });
    await client.connect(transport);
    await client.listTools();
    await client.listPrompts();
    const ok = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', limit: 2 } });
    expect(ok.isError).toBeFalsy();
    const bad = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', filter: 'customer_id = ' } });
    expect(bad.isError).toBe(true);
    // Refused by the SDK before any tool runs: an argument outside the schema, an unknown tool.
    const outside = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', limit: 0 } }).catch((e: Error) => e);
    const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} }).catch((e: Error) => e);
    await client.close();

    const deadline = Date.now() + 20_000;
    const byAction = () => {
      const counts: Record<string, number> = {};
      for (const r of records(auditFile)) counts[r.action] = (counts[r.action] ?? 0) + 1;
      return counts;
    };
    while ((byAction().no_such_tool ?? 0) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    const recs = records(auditFile);
    expect(recs.every((r) => r.surface === 'mcp' && r.keyName === 'internal-tools' && r.identityKey === 'key:internal-tools')).toBe(true);
    expect(byAction()).toMatchObject({
      initialize: 1,
      'notifications/initialized': 1,
      'tools/list': 1,
      'prompts/list': 1,
      no_such_tool: 1,
    });
    const queries = recs.filter((r) => r.action === 'query_view');
    // The good call, the bad filter (both written by the tool), the call refused by its schema.
    expect(queries.map((r) => r.status).sort()).toEqual([200, 400, 400]);
    expect(outside instanceof Error || (outside as { isError?: boolean }).isError).toBeTruthy();
    expect(unknown instanceof Error || (unknown as { isError?: boolean }).isError).toBeTruthy();
    expect(recs.find((r) => r.action === 'no_such_tool')!.status).toBeGreaterThanOrEqual(400);
  }, 120_000);
});
