import { describe, expect, it } from 'vitest';
import { ApiError, badRequest } from '../../src/errors.js';
import { bindFilter, coerceLiteral, escapeLike, type BindContext } from '../../src/query/bind.js';
import { parseFilter } from '../../src/query/filter-parser.js';
import { structuredToAst } from '../../src/query/structured-filter.js';
import type { Predicate } from '../../src/query/predicate.js';
import type { ColumnType } from '../../src/values.js';

const TYPES: Record<string, ColumnType> = {
  id: 'int',
  score: 'float',
  amount: 'numeric',
  name: 'text',
  active: 'bool',
  ts: 'timestamptz',
  day: 'date',
  payload: 'jsonb',
  blob: 'bytea',
};

function ctx(claims?: Record<string, unknown>): BindContext {
  return {
    columnType: (field, pos, path) => {
      const t = TYPES[field];
      if (!t) throw badRequest(`unknown field "${field}"`, { param: 'filter', field, position: pos, path });
      return t;
    },
    ...(claims
      ? {
          claim: (path: string[]) => {
            let v: unknown = claims;
            for (const s of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[s] : undefined;
            return v;
          },
        }
      : {}),
  };
}

const bind = (text: string): Predicate => bindFilter(parseFilter(text), ctx());
const bindRow = (text: string, claims: Record<string, unknown>): Predicate =>
  bindFilter(parseFilter(text, { allowClaims: true, param: 'rowFilter' }), { ...ctx(claims), param: 'rowFilter' });

function failure(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected an error');
}

const value = (text: string): unknown => {
  const p = bind(text);
  if (p.op !== 'cmp') throw new Error(`not a comparison: ${JSON.stringify(p)}`);
  return p.value;
};

describe('bindFilter: coercion', () => {
  it('int: integer literals and integer strings within 64 bits, as bigint', () => {
    expect(value('id = 7')).toBe(7n);
    expect(value("id = '7'")).toBe(7n);
    expect(value("id = ' -7 '")).toBe(-7n);
    expect(value('id = 9223372036854775807')).toBe(9223372036854775807n);
    expect(value('id = -9223372036854775808')).toBe(-9223372036854775808n);
    expect(value('id = 1e3')).toBe(1000n);
    expect(value('id = 2.0')).toBe(2n);
  });

  it('int: a 400 naming the field, the value and the type', () => {
    const e = failure(() => bind("id = 'x'"));
    expect(e.status).toBe(400);
    expect(e.message).toBe("id is an int column; 'x' is not an integer at position 5");
    expect(e.context).toEqual({ param: 'filter', position: 5, field: 'id' });
    expect(failure(() => bind('id = 1.5')).message).toMatch(/1\.5 is not a whole number/);
    expect(failure(() => bind('id = 9223372036854775808')).message).toMatch(/out of range/);
    expect(failure(() => bind('id = 1e30')).message).toMatch(/out of range/);
    expect(failure(() => bind('id = true')).message).toMatch(/not an integer/);
  });

  // Expanding 1e999999999 would take far longer than the test's deadline: that deadline is the bound.
  it('huge exponents are refused without expanding them', () => {
    expect(failure(() => bind('id = 1e999999999')).status).toBe(400);
    expect(failure(() => bind('amount = 1e999999999')).message).toMatch(/more than 1000 digits/);
    expect(failure(() => bind('amount = 1e-999999999')).message).toMatch(/more than 1000 digits/);
    expect(failure(() => bind('score = 1e400')).message).toMatch(/out of range/);
  });

  it('float: numbers and numeric strings', () => {
    expect(value('score = 1.5')).toBe(1.5);
    expect(value("score = '-2e3'")).toBe(-2000);
    expect(value('score = 3')).toBe(3);
    expect(failure(() => bind("score = 'NaN'")).message).toMatch(/not a number/);
    expect(failure(() => bind("score = '0x10'")).message).toMatch(/not a number/);
  });

  it('numeric: exact decimal text, scale as written', () => {
    expect(value('amount = 12.50')).toBe('12.50');
    expect(value("amount = '12.50'")).toBe('12.50');
    expect(value('amount = 1e3')).toBe('1000');
    expect(value('amount = 123456789012345678901234567890.123')).toBe('123456789012345678901234567890.123');
    expect(failure(() => bind("amount = 'abc'")).message).toMatch(/amount is a numeric column; 'abc' is not a number/);
  });

  it('text: strings, and numbers or booleans as their text', () => {
    expect(value("name = 'x'")).toBe('x');
    expect(value('name = 007')).toBe('007');
    expect(value('name = true')).toBe('true');
  });

  it('bool: true/false, t/f, 1/0', () => {
    expect(value('active = true')).toBe(true);
    expect(value("active = 'f'")).toBe(false);
    expect(value("active = 'TRUE'")).toBe(true);
    expect(value('active = 1')).toBe(true);
    expect(value('active = 0')).toBe(false);
    expect(failure(() => bind("active = 'yes please'")).message).toMatch(/not a boolean/);
    expect(failure(() => bind('active = 2')).message).toMatch(/not a boolean/);
  });

  it('timestamptz: ISO text; without an offset it is UTC', () => {
    expect(value("ts = '2024-05-01T10:00:00'")).toBe('2024-05-01T10:00:00.000000Z');
    expect(value("ts = '2024-05-01 12:00:00+02:00'")).toBe('2024-05-01T10:00:00.000000Z');
    expect(value("ts >= '2024-05-01'")).toBe('2024-05-01T00:00:00.000000Z');
    expect(failure(() => bind("ts = 'yesterday'")).message).toMatch(/not a timestamp/);
    expect(failure(() => bind('ts = 1700000000')).message).toMatch(/not a timestamp/);
  });

  it('date: YYYY-MM-DD', () => {
    expect(value("day = '2024-02-29'")).toBe('2024-02-29');
    expect(failure(() => bind("day = '2023-02-29'")).message).toMatch(/not a date/);
  });

  it('jsonb and bytea columns are not filterable', () => {
    for (const f of ['payload = 1', 'blob is null', "payload in ('a')"]) {
      const e = failure(() => bind(f));
      expect(e.status).toBe(400);
      expect(e.message).toMatch(/cannot be used in a filter/);
      expect(e.context.position).toBe(0);
    }
  });

  it('unknown fields: the context decides (the policy throws)', () => {
    const e = failure(() => bind('id = 1 and nope = 2'));
    expect(e.message).toBe('unknown field "nope"');
    expect(e.context.position).toBe(11);
  });

  it('coerceLiteral for values that arrive as text (ids)', () => {
    expect(coerceLiteral('int', { kind: 'string', value: '42' }, { field: 'id', param: 'ids' })).toBe(42n);
    const e = failure(() => coerceLiteral('int', { kind: 'string', value: 'abc' }, { field: 'id', param: 'ids' }));
    expect(e.context).toEqual({ param: 'ids', field: 'id' });
    expect(e.message).toBe("id is an int column; 'abc' is not an integer");
  });
});

describe('bindFilter: operators', () => {
  it('!= becomes <>; other comparisons stay', () => {
    expect(bind('id != 1')).toEqual({ op: 'cmp', column: 'id', cmp: '<>', value: 1n });
    expect(bind('id <> 1')).toEqual({ op: 'cmp', column: 'id', cmp: '<>', value: 1n });
    expect(bind('active < true')).toEqual({ op: 'cmp', column: 'active', cmp: '<', value: true });
  });

  it('between is >= and <=; not between negates it', () => {
    const between: Predicate = {
      op: 'and',
      args: [
        { op: 'cmp', column: 'id', cmp: '>=', value: 1n },
        { op: 'cmp', column: 'id', cmp: '<=', value: 5n },
      ],
    };
    expect(bind('id between 1 and 5')).toEqual(between);
    expect(bind('id not between 1 and 5')).toEqual({ op: 'not', arg: between });
  });

  it('is null / is not null', () => {
    expect(bind('name is null')).toEqual({ op: 'isnull', column: 'name' });
    expect(bind('name is not null')).toEqual({ op: 'not', arg: { op: 'isnull', column: 'name' } });
  });

  it('like keeps the pattern; not like negates it', () => {
    expect(bind("name like 'a\\%b%'")).toEqual({ op: 'like', column: 'name', pattern: 'a\\%b%' });
    expect(bind("name not like 'a_'")).toEqual({ op: 'not', arg: { op: 'like', column: 'name', pattern: 'a_' } });
  });

  it('contains / starts with / ends with treat the value as literal text', () => {
    expect(escapeLike('50%_off\\')).toBe('50\\%\\_off\\\\');
    expect(bind("name contains '50%_off\\'")).toEqual({ op: 'like', column: 'name', pattern: '%50\\%\\_off\\\\%' });
    expect(bind("name starts with 'a_'")).toEqual({ op: 'like', column: 'name', pattern: 'a\\_%' });
    expect(bind("name ends with '%'")).toEqual({ op: 'like', column: 'name', pattern: '%\\%' });
    expect(bind("name not contains 'x'")).toEqual({ op: 'not', arg: { op: 'like', column: 'name', pattern: '%x%' } });
  });

  it('like needs a text column and a pattern not ending in an escape', () => {
    const e = failure(() => bind("id like '1%'"));
    expect(e.message).toMatch(/'like' needs a text column; id is int/);
    expect(failure(() => bind("id contains '1'")).message).toMatch(/'contains' needs a text column/);
    expect(failure(() => bind("name like 'abc\\'")).message).toMatch(/ends with the escape character/);
    expect(bind("name like 'abc\\\\'")).toEqual({ op: 'like', column: 'name', pattern: 'abc\\\\' });
  });

  it('in: values coerced and de-duplicated', () => {
    expect(bind("id in (1, '2', 1)")).toEqual({ op: 'in', column: 'id', values: [1n, 2n] });
    expect(failure(() => bind("id in (1, 'x')")).context.position).toBe(10);
  });

  it('in with null folds into three-valued logic', () => {
    const inNull: Predicate = {
      op: 'or',
      args: [
        { op: 'in', column: 'id', values: [1n] },
        { op: 'const', value: null },
      ],
    };
    expect(bind('id in (1, null)')).toEqual(inNull);
    expect(bind('id not in (1, null)')).toEqual({ op: 'not', arg: inNull });
    expect(bind('id in (null)')).toEqual({ op: 'const', value: null });
    expect(bind('id not in (null, null)')).toEqual({ op: 'not', arg: { op: 'const', value: null } });
  });

  it('and / or / not keep their shape', () => {
    expect(bind("id = 1 or not (name = 'a' and active = true)")).toEqual({
      op: 'or',
      args: [
        { op: 'cmp', column: 'id', cmp: '=', value: 1n },
        {
          op: 'not',
          arg: {
            op: 'and',
            args: [
              { op: 'cmp', column: 'name', cmp: '=', value: 'a' },
              { op: 'cmp', column: 'active', cmp: '=', value: true },
            ],
          },
        },
      ],
    });
  });

  it('structured filters report JSON paths', () => {
    const ast = structuredToAst({
      and: [
        { field: 'id', op: 'eq', value: 1 },
        { field: 'id', op: 'eq', value: 'x' },
      ],
    });
    const e = failure(() => bindFilter(ast, ctx()));
    expect(e.message).toBe("id is an int column; 'x' is not an integer at filter.and[1].value");
    expect(e.context).toEqual({ param: 'filter', path: 'filter.and[1].value', field: 'id' });
    const unknown = failure(() => bindFilter(structuredToAst({ not: { field: 'zz', op: 'is_null' } }), ctx()));
    expect(unknown.context.path).toBe('filter.not');
  });

  it('integers beyond 2^53 passed as strings stay exact', () => {
    const ast = structuredToAst({ field: 'id', op: 'in', value: ['9007199254740993', 1] });
    expect(bindFilter(ast, ctx())).toEqual({ op: 'in', column: 'id', values: [9007199254740993n, 1n] });
  });
});

describe('bindFilter: claims', () => {
  it('a scalar claim is a value of the column type', () => {
    expect(bindRow('name = {claims.tenant_id}', { tenant_id: 't2' })).toEqual({ op: 'cmp', column: 'name', cmp: '=', value: 't2' });
    expect(bindRow('id = {claims.uid}', { uid: '7' })).toEqual({ op: 'cmp', column: 'id', cmp: '=', value: 7n });
    expect(bindRow('id = {claims.uid}', { uid: 7 })).toEqual({ op: 'cmp', column: 'id', cmp: '=', value: 7n });
    expect(bindRow('name = {claims.a.b}', { a: { b: 'deep' } })).toEqual({ op: 'cmp', column: 'name', cmp: '=', value: 'deep' });
    expect(bindRow('name = {claims["https://ns/t"]}', { 'https://ns/t': 'x' })).toEqual({
      op: 'cmp',
      column: 'name',
      cmp: '=',
      value: 'x',
    });
  });

  it('a missing (or null) claim is a 403, never a wider filter', () => {
    for (const claims of [{}, { tenant_id: null }]) {
      const e = failure(() => bindRow('name = {claims.tenant_id}', claims));
      expect(e.status).toBe(403);
      expect(e.message).toBe('the credential lacks claim "tenant_id" required by the row filter');
      expect(e.context).toEqual({ claim: 'tenant_id' });
    }
    expect(failure(() => bindRow('name = {claims.a.b}', { a: {} })).context).toEqual({ claim: 'a.b' });
    // No claim function at all: still a 403.
    const ast = parseFilter('name = {claims.t}', { allowClaims: true });
    expect(failure(() => bindFilter(ast, ctx())).status).toBe(403);
  });

  it('a claim that does not fit the column is a 403', () => {
    const e = failure(() => bindRow('id = {claims.uid}', { uid: 'x' }));
    expect(e.status).toBe(403);
    expect(e.message).toMatch(/claim "uid" does not fit column id \(int\)/);
    expect(e.context).toEqual({ claim: 'uid' });
    expect(failure(() => bindRow('id = {claims.uid}', { uid: 2 ** 60 })).status).toBe(403);
    expect(failure(() => bindRow('id = {claims.uid}', { uid: { a: 1 } })).status).toBe(403);
  });

  it('a list claim works with in / not in, each element coerced', () => {
    expect(bindRow('id in {claims.ids}', { ids: ['1', 2, '1'] })).toEqual({ op: 'in', column: 'id', values: [1n, 2n] });
    expect(bindRow("name not in ({claims.t}, 'x')", { t: ['a', 'b'] })).toEqual({
      op: 'not',
      arg: { op: 'in', column: 'name', values: ['a', 'b', 'x'] },
    });
    expect(bindRow('name in {claims.t}', { t: 'solo' })).toEqual({ op: 'in', column: 'name', values: ['solo'] });
    expect(bindRow('name in {claims.t}', { t: ['a', null] })).toEqual({
      op: 'or',
      args: [
        { op: 'in', column: 'name', values: ['a'] },
        { op: 'const', value: null },
      ],
    });
    expect(bindRow('name in {claims.t}', { t: [] })).toEqual({ op: 'const', value: false });
    expect(failure(() => bindRow('id in {claims.ids}', { ids: ['1', 'x'] })).status).toBe(403);
    expect(failure(() => bindRow('id in {claims.ids}', { ids: [[1]] })).status).toBe(403);
  });

  it('a list claim with = (or between, contains) is a 403', () => {
    const e = failure(() => bindRow('name = {claims.t}', { t: ['a', 'b'] }));
    expect(e.status).toBe(403);
    expect(e.message).toMatch(/is a list.*only 'in' takes a list/);
    expect(failure(() => bindRow('name contains {claims.t}', { t: ['a'] })).status).toBe(403);
  });

  it('claims are values, never filter text or patterns', () => {
    expect(bindRow('name = {claims.t}', { t: "x' or 1=1 --" })).toEqual({ op: 'cmp', column: 'name', cmp: '=', value: "x' or 1=1 --" });
    expect(bindRow('name contains {claims.t}', { t: '%' })).toEqual({ op: 'like', column: 'name', pattern: '%\\%%' });
  });
});
