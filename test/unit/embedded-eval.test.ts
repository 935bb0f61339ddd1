// In-process semantics against values PostgreSQL 15 printed for the same expressions.
import { describe, expect, test } from 'vitest';
import { divDec, formatDec, parseDec } from '../../src/engine/embedded/numeric.js';
import { castValue, floatText, jsonbText, timestampText } from '../../src/engine/embedded/casts.js';
import { hashJoin } from '../../src/engine/embedded/execute.js';
import { aggregate } from '../../src/engine/embedded/aggregate.js';
import { evalExpr } from '../../src/engine/embedded/eval.js';
import type { Expr } from '../../src/engine/embedded/ast.js';
import type { PlannedJoin } from '../../src/engine/embedded/plan.js';
import { ApiError } from '../../src/errors.js';

const div = (a: string, b: string): string => formatDec(divDec(parseDec(a), parseDec(b)));

describe('numeric', () => {
  test('division picks PostgreSQL result scale', () => {
    // select 7.0/2, 1/3.0, 10.00/4, 100000/3.0, 0.001/7, 915.50/2, 0.000000000000000000001/3
    expect(div('7.0', '2')).toBe('3.5000000000000000');
    expect(div('1', '3.0')).toBe('0.33333333333333333333');
    expect(div('10.00', '4')).toBe('2.5000000000000000');
    expect(div('100000', '3.0')).toBe('33333.333333333333');
    expect(div('0.001', '7')).toBe('0.00014285714285714286');
    expect(div('915.50', '2')).toBe('457.7500000000000000');
    expect(div('0.000000000000000000001', '3')).toBe('0.0000000000000000000003333333333333333333');
    expect(div('-2', '3')).toBe('-0.66666666666666666667');
  });

  test('division by zero is a 400 data error', () => {
    expect(() => div('1', '0.00')).toThrow(ApiError);
    const e = (() => {
      try {
        div('1', '0');
      } catch (err) {
        return err as ApiError;
      }
    })()!;
    expect(e.status).toBe(400);
    expect(e.context).toMatchObject({ sqlstate: '22012' });
  });
});

describe('casts and output text', () => {
  test('float8 output as float8out prints it', () => {
    expect(floatText(1e20)).toBe('1e+20');
    expect(floatText(123456789012345678)).toBe('1.2345678901234568e+17');
    expect(floatText(1e15)).toBe('1e+15');
    expect(floatText(123456789012345)).toBe('123456789012345');
    expect(floatText(1e-5)).toBe('1e-05');
    expect(floatText(0.0001)).toBe('0.0001');
    expect(floatText(-0.5)).toBe('-0.5');
  });

  test('numeric and float to integer round as PostgreSQL does', () => {
    expect(castValue(2.5, 'float8', 'int4')).toBe(2n); // rint: half to even
    expect(castValue(3.5, 'float8', 'int4')).toBe(4n);
    expect(castValue('2.5', 'numeric', 'int4')).toBe(3n); // half away from zero
    expect(castValue('-2.5', 'numeric', 'int4')).toBe(-3n);
    expect(castValue(0.30000000000000004, 'float8', 'numeric')).toBe('0.3');
    expect(() => castValue(3_000_000_000n, 'int8', 'int4')).toThrow(/integer out of range/);
    expect(castValue('12.345', 'numeric', 'numeric', { precision: 5, scale: 2 })).toBe('12.35');
    expect(() => castValue('1234.5', 'numeric', 'numeric', { precision: 4, scale: 2 })).toThrow(/numeric field overflow/);
  });

  test('text forms', () => {
    expect(castValue(-42n, 'int8', 'text')).toBe('-42');
    expect(castValue(true, 'bool', 'text')).toBe('true');
    expect(timestampText('2024-01-10T01:00:00.500000Z')).toBe('2024-01-10 01:00:00.5+00');
    expect(jsonbText({ b: 1, aa: [1, 2], a: null })).toBe('{"a": null, "b": 1, "aa": [1, 2]}');
    expect(castValue(' 12 ', 'text', 'int4')).toBe(12n);
    expect(castValue('yes', 'text', 'bool')).toBe(true);
    expect(() => castValue('1.5', 'text', 'int4')).toThrow(/invalid input syntax for type integer/);
  });
});

describe('expressions', () => {
  const col = (column: string, type: Expr['type']): Expr => ({ kind: 'column', rel: 0, column, type });
  test('int4 arithmetic overflows and truncates like PostgreSQL', () => {
    const row = { '0.a': 2147483647n, '0.b': -7n };
    expect(() =>
      evalExpr({ kind: 'arith', op: '+', left: col('a', 'int4'), right: { kind: 'const', value: 1n, type: 'int4' }, type: 'int4' }, row),
    ).toThrow(/integer out of range/);
    expect(
      evalExpr({ kind: 'arith', op: '/', left: col('b', 'int4'), right: { kind: 'const', value: 2n, type: 'int4' }, type: 'int4' }, row),
    ).toBe(-3n);
  });

  test('three-valued logic: NOT IN with a NULL matches nothing; || propagates NULL', () => {
    const x = col('x', 'int4');
    const notIn: Expr = {
      kind: 'not',
      arg: {
        kind: 'in',
        arg: x,
        list: [
          { kind: 'const', value: 1n, type: 'int4' },
          { kind: 'const', value: null, type: 'int4' },
        ],
        via: 'int8',
        type: 'bool',
      },
      type: 'bool',
    };
    expect(evalExpr(notIn, { '0.x': 2n })).toBeNull();
    expect(evalExpr(notIn, { '0.x': 1n })).toBe(false);
    expect(
      evalExpr(
        { kind: 'concat', left: col('s', 'text'), right: { kind: 'const', value: null, type: 'text' }, type: 'text' },
        { '0.s': 'a' },
      ),
    ).toBeNull();
    const ilike: Expr = {
      kind: 'like',
      arg: col('s', 'text'),
      pattern: { kind: 'const', value: 'ÉCOLE%', type: 'text' },
      caseInsensitive: true,
      type: 'bool',
    };
    // ILIKE folds ASCII only, as under the C collation.
    expect(evalExpr(ilike, { '0.s': 'école' })).toBe(false);
    expect(evalExpr(ilike, { '0.s': 'ÉcOLE x' })).toBe(true);
  });
});

describe('joins and aggregates', () => {
  const key = (rel: number, column: string, type: Expr['type']): Expr => ({ kind: 'column', rel, column, type });
  const join = (kind: 'inner' | 'left', type: Expr['type'] = 'int8', via: Expr['type'] = 'int8'): PlannedJoin => ({
    child: 1,
    parent: 0,
    kind,
    fromLeft: false,
    conditions: [{ parentKey: key(0, 'k', type), childKey: key(1, 'k', type), via }],
  });
  const left = [{ '0.k': 1n }, { '0.k': 2n }, { '0.k': null }];
  const right = [
    { '1.k': 1n, '1.v': 'a' },
    { '1.k': 1n, '1.v': 'b' },
    { '1.k': null, '1.v': 'n' },
  ];

  test('INNER and LEFT semantics; NULL keys never match', () => {
    expect(hashJoin(left, right, join('inner')).map((r) => r['1.v'])).toEqual(['a', 'b']);
    expect(hashJoin(left, right, join('left')).map((r) => r['1.v'] ?? null)).toEqual(['a', 'b', null, null]);
  });

  test('numeric keys match by value (1.0 = 1.00)', () => {
    const out = hashJoin([{ '0.k': '1.0' }], [{ '1.k': '1.00' }], join('inner', 'numeric', 'numeric'));
    expect(out).toHaveLength(1);
  });

  test('sum keeps the largest scale, avg divides as numeric, an empty whole-table aggregate is one row', () => {
    const rows = [{ '0.x': '1.5' }, { '0.x': '2.25' }, { '0.x': null }];
    const x = key(0, 'x', 'numeric');
    const aggs = [
      { slot: 'a0', fn: 'sum' as const, arg: x, distinct: false, type: 'numeric' as const },
      { slot: 'a1', fn: 'avg' as const, arg: x, distinct: false, type: 'numeric' as const },
      { slot: 'a2', fn: 'count' as const, arg: x, distinct: false, type: 'int8' as const },
      { slot: 'a3', fn: 'count' as const, distinct: false, type: 'int8' as const },
    ];
    expect(aggregate(rows, [], aggs)).toEqual([{ a0: '3.75', a1: '1.8750000000000000', a2: 2n, a3: 3n }]);
    expect(aggregate([], [], aggs)).toEqual([{ a0: null, a1: null, a2: 0n, a3: 0n }]);
  });
});
