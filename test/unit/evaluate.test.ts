import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bindFilter } from '../../src/query/bind.js';
import { evaluate, likeMatch } from '../../src/query/evaluate.js';
import { parseFilter } from '../../src/query/filter-parser.js';
import type { Predicate } from '../../src/query/predicate.js';
import type { ColumnType, Row } from '../../src/values.js';

const TYPES = new Map<string, ColumnType>([
  ['id', 'int'],
  ['score', 'float'],
  ['amount', 'numeric'],
  ['name', 'text'],
  ['active', 'bool'],
  ['ts', 'timestamptz'],
  ['day', 'date'],
]);

const T: Predicate = { op: 'const', value: true };
const F: Predicate = { op: 'const', value: false };
const U: Predicate = { op: 'const', value: null };
const VALUES: [Predicate, boolean | null][] = [
  [T, true],
  [F, false],
  [U, null],
];

function ev(filter: string, row: Row): boolean | null {
  const pred = bindFilter(parseFilter(filter), {
    columnType: (f) => {
      const t = TYPES.get(f);
      if (!t) throw new Error(`no column ${f}`);
      return t;
    },
  });
  return evaluate(pred, row, TYPES);
}

describe('evaluate: three-valued logic', () => {
  it('and / or / not truth tables', () => {
    const and = (a: boolean | null, b: boolean | null): boolean | null =>
      a === false || b === false ? false : a === null || b === null ? null : true;
    const or = (a: boolean | null, b: boolean | null): boolean | null =>
      a === true || b === true ? true : a === null || b === null ? null : false;
    for (const [p, a] of VALUES) {
      expect(evaluate({ op: 'not', arg: p }, {}, TYPES)).toBe(a === null ? null : !a);
      for (const [q, b] of VALUES) {
        expect(evaluate({ op: 'and', args: [p, q] }, {}, TYPES)).toBe(and(a, b));
        expect(evaluate({ op: 'or', args: [p, q] }, {}, TYPES)).toBe(or(a, b));
      }
    }
  });

  it('comparisons with NULL or a missing column are unknown', () => {
    for (const row of [{ id: null }, {}] as Row[]) {
      for (const f of [
        'id = 1',
        'id != 1',
        'id < 1',
        'id in (1, 2)',
        'id not in (1, 2)',
        'not id = 1',
        'id between 1 and 2',
        "name like '%'",
      ]) {
        expect(ev(f, { ...row, name: null })).toBeNull();
      }
      expect(ev('id is null', row)).toBe(true);
      expect(ev('id is not null', row)).toBe(false);
    }
  });

  it('negations never match NULL', () => {
    expect(ev('id != 1', { id: null })).not.toBe(true);
    expect(ev('not (id = 1)', { id: null })).not.toBe(true);
    expect(ev('id not in (1)', { id: null })).not.toBe(true);
    expect(ev("name not like 'a%'", { name: null })).not.toBe(true);
  });

  it('x not in (1, null) matches nothing; x in (1, null) matches 1 only', () => {
    for (const id of [1n, 2n, null]) expect(ev('id not in (1, null)', { id })).not.toBe(true);
    expect(ev('id in (1, null)', { id: 1n })).toBe(true);
    expect(ev('id in (1, null)', { id: 2n })).toBeNull();
  });
});

describe('evaluate: comparisons by type', () => {
  it('int (bigint, exact)', () => {
    expect(ev('id = 9223372036854775807', { id: 9223372036854775807n })).toBe(true);
    expect(ev('id < 9223372036854775807', { id: 9223372036854775806n })).toBe(true);
    expect(ev('id between 1 and 5', { id: 5n })).toBe(true);
    expect(ev('id not between 1 and 5', { id: 6n })).toBe(true);
    expect(ev("id in ('3', 4)", { id: 4n })).toBe(true);
  });

  it('numeric compares by value, not by text', () => {
    expect(ev('amount = 1.0', { amount: '1.00' })).toBe(true);
    expect(ev('amount > 9.5', { amount: '10.00' })).toBe(true);
  });

  it('float: NaN equals NaN and sorts above everything (PostgreSQL)', () => {
    expect(ev('score > 1e300', { score: NaN })).toBe(true);
    expect(ev('score = 1.5', { score: 1.5 })).toBe(true);
  });

  it('text by code point (C collation), case-sensitive', () => {
    expect(ev("name < 'a'", { name: 'Z' })).toBe(true);
    expect(ev("name > '\uffff'", { name: '🎉' })).toBe(true);
    expect(ev("name = 'A'", { name: 'a' })).toBe(false);
  });

  it('bool, timestamptz, date', () => {
    expect(ev('active < true', { active: false })).toBe(true);
    expect(ev("ts >= '2024-05-01T12:00:00+02:00'", { ts: '2024-05-01T10:00:00.000000Z' })).toBe(true);
    expect(ev("ts < '2024-05-01T10:00:00'", { ts: '2024-05-01T10:00:00.000000Z' })).toBe(false);
    expect(ev("day between '2024-01-01' and '2024-12-31'", { day: '2024-02-29' })).toBe(true);
  });
});

describe('evaluate: like', () => {
  it('% any run, _ one code point, \\ escapes', () => {
    expect(likeMatch('abc', 'a%')).toBe(true);
    expect(likeMatch('abc', '%c')).toBe(true);
    expect(likeMatch('abc', 'a_c')).toBe(true);
    expect(likeMatch('ac', 'a_c')).toBe(false);
    expect(likeMatch('', '%')).toBe(true);
    expect(likeMatch('', '_')).toBe(false);
    expect(likeMatch('a🎉c', 'a_c')).toBe(true);
    expect(likeMatch('50%', '50\\%')).toBe(true);
    expect(likeMatch('500', '50\\%')).toBe(false);
    expect(likeMatch('a_b', 'a\\_b')).toBe(true);
    expect(likeMatch('axb', 'a\\_b')).toBe(false);
    expect(likeMatch('a\\b', 'a\\\\b')).toBe(true);
    expect(likeMatch('ABC', 'abc')).toBe(false);
    expect(likeMatch('abc', 'abc')).toBe(true);
    expect(likeMatch('line\nbreak', 'line%')).toBe(true);
  });

  it('contains / starts with / ends with through the binder', () => {
    expect(ev("name contains '50%'", { name: 'get 50% off' })).toBe(true);
    expect(ev("name contains '50%'", { name: 'get 500 off' })).toBe(false);
    expect(ev("name starts with 'a_'", { name: 'a_b' })).toBe(true);
    expect(ev("name starts with 'a_'", { name: 'ab' })).toBe(false);
    expect(ev("name ends with '\\'", { name: 'x\\' })).toBe(true);
    expect(ev("name not contains 'z'", { name: 'abc' })).toBe(true);
  });

  // A backtracking matcher would not finish these within the test's deadline: that deadline is the bound.
  it('no pattern blows up', () => {
    expect(likeMatch('a'.repeat(20000), '%a%a%a%a%a%a%a%a%a%b')).toBe(false);
    expect(likeMatch('a'.repeat(20000), '_%_%_%_%_%_%_%_%_%_%_%b')).toBe(false);
  });

  it('agrees with a regular-expression reference on random inputs', () => {
    const reference = (text: string, pattern: string): boolean => {
      let re = '';
      const cps = Array.from(pattern);
      for (let i = 0; i < cps.length; i++) {
        const c = cps[i]!;
        if (c === '\\' && i + 1 < cps.length) re += escapeRe(cps[++i]!);
        else if (c === '%') re += '.*';
        else if (c === '_') re += '.';
        else re += escapeRe(c);
      }
      return new RegExp(`^${re}$`, 'su').test(text);
    };
    const alphabet = fc.constantFrom('a', 'b', '%', '_', '\\', '🎉');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 10 }), fc.array(alphabet, { maxLength: 8 }), (t, p) => {
        const text = t.join('');
        const pattern = p.join('');
        expect(likeMatch(text, pattern)).toBe(reference(text, pattern));
      }),
      { numRuns: 3000 },
    );
  });
});

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
