// The nesting scan that bounds JSON bodies and MCP stdio lines before they are parsed
// (docs/security.md, "Deep nesting"), and the stdio line gate built on it.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../../src/ops/json-depth.js';
import { boundedLines, type RefusedLine } from '../../src/mcp/stdio-bounds.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('jsonNestsDeeperThan', () => {
  it('counts objects and arrays up to the limit and no further', () => {
    expect(jsonNestsDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonNestsDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":[1,{"c":2}]}}', 3)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":[1,{"c":2}]}}', 4)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const s = JSON.stringify({ filter: '[[[[{{{{ \\" [[[[ "' + '['.repeat(1000) });
    expect(jsonNestsDeeperThan(s, 1)).toBe(false);
    expect(jsonNestsDeeperThan(`["\\\\", [[]]]`, 2)).toBe(true);
  });

  it('scans a million levels without recursion', () => {
    expect(jsonNestsDeeperThan(nested(1_000_000))).toBe(true);
  });
});

describe('boundedLines', () => {
  async function run(chunks: string[], maxBytes = 100): Promise<{ passed: string; refused: RefusedLine[] }> {
    const refused: RefusedLine[] = [];
    let passed = '';
    const out = Readable.from(chunks.map((c) => Buffer.from(c))).pipe(boundedLines(maxBytes, (r) => refused.push(r)));
    for await (const c of out) passed += String(c);
    return { passed, refused };
  }

  it('passes lines split across chunks through whole', async () => {
    const r = await run(['{"id":1,', '"method":"a"}\n{"id"', ':2}\n']);
    expect(r.passed).toBe('{"id":1,"method":"a"}\n{"id":2}\n');
    expect(r.refused).toEqual([]);
  });

  it('refuses a line nesting too deeply with its id and method, and keeps the next line', async () => {
    const deep = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`;
    const r = await run([deep.slice(0, 50), deep.slice(50) + '\n{"id":8}\n'], 10_000);
    expect(r.refused).toEqual([
      { id: 7, method: 'tools/call', status: 400, message: expect.stringContaining(`more than ${MAX_JSON_DEPTH} levels deep`) },
    ]);
    expect(r.passed).toBe('{"id":8}\n');
  });

  it('refuses a line longer than the limit without holding it, and keeps the next line', async () => {
    const r = await run(['{"id":1,"pad":"', 'x'.repeat(80), 'x'.repeat(80), '"}\n{"id":2}\n']);
    expect(r.refused).toEqual([{ id: null, status: 413, message: expect.stringContaining('longer than 100 bytes') }]);
    expect(r.passed).toBe('{"id":2}\n');
  });
});
