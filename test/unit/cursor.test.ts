// Keyset cursors in isolation: the keyset predicate selects exactly the rows after a position in
// PostgreSQL's order (NULLs last ascending, first descending, ties), and the sealed cursor opens only
// for the binding it was made for.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { CursorCodec, queryFingerprint, type CursorBinding } from '../../src/policy/cursor.js';
import { evaluate } from '../../src/query/evaluate.js';
import { keysetAfter } from '../../src/query/keyset.js';
import { parseRestQuery } from '../../src/query/client-query.js';
import type { OrderTerm } from '../../src/query/predicate.js';
import { compareForSort, type ColumnType, type Row } from '../../src/values.js';

const types = new Map<string, ColumnType>([
  ['a', 'text'],
  ['b', 'int'],
  ['id', 'int'],
]);

/** Rows with ties and NULLs in a and b; id is unique. */
function rows(): Row[] {
  const as = ['x', 'y', null, 'z'];
  const bs = [1n, null, 2n];
  const out: Row[] = [];
  let id = 0n;
  for (const a of as) for (const b of bs) for (let k = 0; k < 2; k++) out.push({ a, b, id: id++ });
  return out;
}

function sorted(all: Row[], terms: OrderTerm[]): Row[] {
  return [...all].sort((x, y) => {
    for (const t of terms) {
      const c = compareForSort(types.get(t.column)!, x[t.column] ?? null, y[t.column] ?? null, t.desc);
      if (c !== 0) return c;
    }
    return 0;
  });
}

describe('keysetAfter', () => {
  const orders: OrderTerm[][] = [
    [{ column: 'id', desc: false }],
    [
      { column: 'a', desc: false },
      { column: 'id', desc: false },
    ],
    [
      { column: 'a', desc: true },
      { column: 'id', desc: false },
    ],
    [
      { column: 'b', desc: true },
      { column: 'a', desc: false },
      { column: 'id', desc: true },
    ],
    [
      { column: 'b', desc: false },
      { column: 'a', desc: true },
      { column: 'id', desc: false },
    ],
  ];
  for (const terms of orders) {
    it(`selects exactly the rows after each row: ${terms.map((t) => `${t.column} ${t.desc ? 'desc' : 'asc'}`).join(', ')}`, () => {
      const all = sorted(rows(), terms);
      // Every column taken as nullable, and id (never NULL here) declared NOT NULL.
      for (const nullable of [() => true, (c: string) => c !== 'id']) {
        for (let i = 0; i < all.length; i++) {
          const values = terms.map((t) => all[i]![t.column] ?? null);
          const p = keysetAfter(terms, values, false, nullable)!;
          expect(all.filter((r) => evaluate(p, r, types) === true)).toEqual(all.slice(i + 1));
        }
      }
    });
  }

  it('inclusive: the rows tying with the position come along', () => {
    const terms: OrderTerm[] = [{ column: 'a', desc: false }];
    const all = sorted(rows(), terms);
    for (const v of ['x', null]) {
      const p = keysetAfter(terms, [v], true)!;
      const from = all.findIndex((r) => r.a === v);
      expect(all.filter((r) => evaluate(p, r, types) === true)).toEqual(all.slice(from));
    }
  });
});

describe('CursorCodec', () => {
  const binding: CursorBinding = { identityKey: 'key:a', view: 's.v', query: 'q1', grant: 'g1' };
  const codec = new CursorCodec('a cursor secret of some length');

  it('round-trips the position, bigint and non-finite floats included, and is deterministic', () => {
    const position = { values: [9223372036854775807n, 'text', null, true, -Infinity, 1.5], tag: 'abc' };
    const c = codec.seal(binding, position);
    expect(c).toBe(codec.seal(binding, position));
    expect(codec.open(c, binding)).toEqual(position);
    expect(c).not.toContain('text');
  });

  it('refuses another caller, view, grant or query, each by name', () => {
    const c = codec.seal(binding, { values: [1n] });
    expect(() => codec.open(c, { ...binding, identityKey: 'key:b' })).toThrow(/invalid cursor: it was issued to another caller/);
    expect(() => codec.open(c, { ...binding, view: 's.w' })).toThrow(/another view/);
    expect(() => codec.open(c, { ...binding, grant: 'g2' })).toThrow(/has changed/);
    expect(() => codec.open(c, { ...binding, query: 'q2' })).toThrow(/another query/);
  });

  it('refuses every single flipped byte, a truncated cursor, another secret and garbage', () => {
    const c = codec.seal(binding, { values: [1n] });
    const raw = Buffer.from(c, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const bad = Buffer.from(raw);
      bad[i] = bad[i]! ^ 0x01;
      expect(() => codec.open(bad.toString('base64url'), binding)).toThrow(/malformed or was altered/);
    }
    expect(() => codec.open(c.slice(0, -4), binding)).toThrow(/malformed or was altered/);
    expect(() => new CursorCodec('another secret, long enough').open(c, binding)).toThrow(/malformed or was altered/);
    for (const junk of ['', 'x', '!!!!', 'a'.repeat(10_000)]) expect(() => codec.open(junk, binding)).toThrow(/invalid cursor/);
  });

  it('the query print ignores include_count, offset, positions and spacing, not fields, filter, order or limit', () => {
    const fp = (qs: Record<string, string>) => queryFingerprint(parseRestQuery(qs));
    const base = fp({ filter: 'b > 1', order: 'a desc', limit: '5' });
    expect(fp({ filter: '  b  >  1 ', order: 'a desc', limit: '5', include_count: 'true' })).toBe(base);
    expect(fp({ filter: 'b > 2', order: 'a desc', limit: '5' })).not.toBe(base);
    expect(fp({ filter: 'b > 1', order: 'a', limit: '5' })).not.toBe(base);
    expect(fp({ filter: 'b > 1', order: 'a desc', limit: '6' })).not.toBe(base);
    expect(fp({ filter: 'b > 1', order: 'a desc', limit: '5', fields: 'a' })).not.toBe(base);
  });
});

describe('cursor parameters', () => {
  it('cursor with offset or include_count is a 400 naming them', () => {
    expect(() => parseRestQuery({ cursor: 'abc', offset: '0' })).toThrow(/cursor and offset cannot be combined/);
    expect(() => parseRestQuery({ cursor: 'abc', include_count: 'true' })).toThrow(/include_count cannot be combined with cursor/);
    expect(() => parseRestQuery({ cursor: ' ' })).toThrow(/cursor is empty/);
  });
});

describe('server.cursorSecret', () => {
  const spec = readFileSync(new URL('../fixtures/spec-config.yaml', import.meta.url), 'utf8');
  const env = {
    CRM_MYSQL_URL: 'mysql://db/crm',
    APP_PG_URL: 'postgres://db/app',
    EVENTS_MONGO_URL: 'mongodb://db/',
    VIEWGATE_HASH_SECRET: 's',
  };
  const load = (secret?: string) =>
    parseConfig(secret === undefined ? spec : spec.replace(/^server:\n/m, `server:\n  cursorSecret: ${secret}\n`), 'spec.yaml', env);

  it('is optional, and at least 16 characters when set', () => {
    expect(load().server.cursorSecret).toBeUndefined();
    expect(load('a-long-enough-secret').server.cursorSecret).toBe('a-long-enough-secret');
    expect(() => load('short')).toThrow(ConfigError);
    try {
      load('short');
    } catch (err) {
      expect(JSON.stringify((err as ConfigError).problems)).toContain('cursorSecret must be at least 16 characters');
    }
  });
});
