import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ApiError } from '../../src/errors.js';
import { stripPositions, type FilterAst, type Lit } from '../../src/query/ast.js';
import { parseFilter } from '../../src/query/filter-parser.js';
import { structuredToAst } from '../../src/query/structured-filter.js';

const s = (json: unknown): FilterAst => stripPositions(structuredToAst(json));
const text = (f: string): FilterAst => stripPositions(parseFilter(f));

function failure(json: unknown): ApiError {
  try {
    structuredToAst(json);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error(`expected ${JSON.stringify(json)} to fail`);
}

describe('structuredToAst', () => {
  it('every op maps to the same AST as the text grammar', () => {
    const pairs: [unknown, string][] = [
      [{ field: 'a', op: 'eq', value: 1 }, 'a = 1'],
      [{ field: 'a', op: 'ne', value: 'x' }, "a != 'x'"],
      [{ field: 'a', op: 'gt', value: 1.5 }, 'a > 1.5'],
      [{ field: 'a', op: 'gte', value: -2 }, 'a >= -2'],
      [{ field: 'a', op: 'lt', value: true }, 'a < true'],
      [{ field: 'a', op: 'lte', value: '2024-01-01' }, "a <= '2024-01-01'"],
      [{ field: 'a', op: 'like', value: 'x%' }, "a like 'x%'"],
      [{ field: 'a', op: 'not_like', value: 'x%' }, "a not like 'x%'"],
      [{ field: 'a', op: 'contains', value: 'x' }, "a contains 'x'"],
      [{ field: 'a', op: 'starts_with', value: 'x' }, "a starts with 'x'"],
      [{ field: 'a', op: 'ends_with', value: 'x' }, "a ends with 'x'"],
      [{ field: 'a', op: 'in', value: [1, 'b', null] }, "a in (1, 'b', null)"],
      [{ field: 'a', op: 'not_in', value: [1] }, 'a not in (1)'],
      [{ field: 'a', op: 'is_null' }, 'a is null'],
      [{ field: 'a', op: 'is_not_null', value: null }, 'a is not null'],
      [{ field: 'a', op: 'between', value: [1, 5] }, 'a between 1 and 5'],
    ];
    for (const [json, f] of pairs) expect(s(json)).toEqual(text(f));
  });

  it('and / or / not, nested, as in docs/query.md', () => {
    expect(
      s({ and: [{ field: 'customer_id', op: 'eq', value: 123 }, { not: { field: 'event_type', op: 'in', value: ['view', 'buy'] } }] }),
    ).toEqual(text("customer_id = 123 and not event_type in ('view', 'buy')"));
    expect(
      s({
        or: [
          {
            and: [
              { field: 'a', op: 'eq', value: 1 },
              { field: 'b', op: 'eq', value: 2 },
            ],
          },
          { field: 'c', op: 'eq', value: 3 },
        ],
      }),
    ).toEqual(text('a = 1 and b = 2 or c = 3'));
    expect(s({ and: [{ field: 'a', op: 'eq', value: 1 }] })).toEqual(text('a = 1'));
  });

  it('numbers: text as a double prints it; big integers as strings stay exact', () => {
    expect(s({ field: 'a', op: 'eq', value: 2.5e-7 })).toEqual(text('a = 2.5e-7'));
    expect(failure({ field: 'a', op: 'eq', value: 1e21 }).status).toBe(400);
    expect(s({ field: 'a', op: 'eq', value: -0 })).toEqual(text('a = 0'));
    expect(s({ field: 'a', op: 'eq', value: '9223372036854775807' })).toEqual(text("a = '9223372036854775807'"));
    const e = failure({ field: 'a', op: 'eq', value: 2 ** 53 + 2 });
    expect(e.message).toMatch(/beyond 2\^53.*pass it as a string/);
    expect(e.context).toEqual({ param: 'filter', path: 'filter.value' });
  });

  it('positions are JSON paths', () => {
    const ast = structuredToAst(
      {
        or: [
          { field: 'a', op: 'eq', value: 1 },
          { field: 'b', op: 'in', value: [1, 2] },
        ],
      },
      'where',
    );
    expect(ast).toEqual({
      kind: 'or',
      args: [
        { kind: 'cmp', field: 'a', op: '=', value: { kind: 'number', text: '1', pos: 'where.or[0].value' }, pos: 'where.or[0]' },
        {
          kind: 'in',
          field: 'b',
          negated: false,
          values: [
            { kind: 'number', text: '1', pos: 'where.or[1].value[0]' },
            { kind: 'number', text: '2', pos: 'where.or[1].value[1]' },
          ],
          pos: 'where.or[1]',
        },
      ],
    });
  });

  const errors: [unknown, string, RegExp][] = [
    [null, 'filter', /expected an object.*found null/],
    [[1], 'filter', /found a list/],
    ['a = 1', 'filter', /found a string/],
    [{}, 'filter.field', /missing "field"/],
    [
      {
        and: [
          { field: 'a', op: 'eq', value: 1 },
          { field: 'a', op: 'equals', value: 1 },
        ],
      },
      'filter.and[1].op',
      /unknown operator "equals"; use one of eq, ne/,
    ],
    [{ and: [] }, 'filter.and', /at least one condition/],
    [{ or: {} }, 'filter.or', /expected a list of conditions/],
    [{ and: [{ field: 'a', op: 'eq', value: 1 }], or: [] }, 'filter', /must be the only key/],
    [{ not: [{ field: 'a', op: 'eq', value: 1 }] }, 'filter.not', /found a list/],
    [{ field: 'a', op: 'eq', vale: 1 }, 'filter.vale', /unknown key "vale"/],
    [{ field: 'a', op: 'eq' }, 'filter.value', /missing "value"/],
    [{ field: 'a', value: 1 }, 'filter.op', /missing "op"/],
    [{ field: 1, op: 'eq', value: 1 }, 'filter.field', /expected a field name/],
    [{ field: '', op: 'eq', value: 1 }, 'filter.field', /expected a field name/],
    [{ field: 'a', op: 'eq', value: null }, 'filter.value', /use "is_null"/],
    [{ field: 'a', op: 'ne', value: null }, 'filter.value', /use "is_not_null"/],
    [{ field: 'a', op: 'eq', value: [1] }, 'filter.value', /expected a string, number or boolean, found a list/],
    [{ field: 'a', op: 'eq', value: { x: 1 } }, 'filter.value', /found an object/],
    [{ field: 'a', op: 'in', value: [] }, 'filter.value', /empty/],
    [{ field: 'a', op: 'in', value: 1 }, 'filter.value', /takes a list/],
    [{ field: 'a', op: 'in', value: [1, [2]] }, 'filter.value[1]', /found a list/],
    [{ field: 'a', op: 'between', value: [1] }, 'filter.value', /two values.*a list of 1/],
    [{ field: 'a', op: 'between', value: [1, null] }, 'filter.value[1]', /cannot be null/],
    [{ field: 'a', op: 'is_null', value: 3 }, 'filter.value', /takes no value/],
    [{ field: 'a', op: 'like', value: null }, 'filter.value', /needs text/],
    [{ field: 'a', op: 'eq', value: Infinity }, 'filter.value', /finite/],
  ];
  for (const [json, path, message] of errors) {
    it(`${JSON.stringify(json)} -> 400 at ${path}`, () => {
      const e = failure(json);
      expect(e.status).toBe(400);
      expect(e.message).toMatch(message);
      expect(e.message.startsWith(`${path}: `)).toBe(true);
      expect(e.context).toEqual({ param: 'filter', path });
    });
  }

  it('refuses deep nesting', () => {
    let deep: unknown = { field: 'a', op: 'eq', value: 1 };
    for (let i = 0; i < 200; i++) deep = { not: deep };
    expect(failure(deep).message).toMatch(/nests more than/);
  });
});

describe('structuredToAst: randomized', () => {
  const lit = fc.oneof(
    fc.string({ maxLength: 8 }).map((value): Lit => ({ kind: 'string', value })),
    fc.integer({ min: -1e9, max: 1e9 }).map((n): Lit => ({ kind: 'number', text: String(n) })),
    fc.boolean().map((value): Lit => ({ kind: 'bool', value })),
  );
  const toJson = (l: Lit): unknown =>
    l.kind === 'string' ? l.value : l.kind === 'number' ? Number(l.text) : l.kind === 'bool' ? l.value : null;
  const field = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/);
  const CMP = { '=': 'eq', '!=': 'ne', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' } as const;
  const LIKE = { like: 'like', contains: 'contains', starts: 'starts_with', ends: 'ends_with' } as const;

  type Pair = [FilterAst, unknown];
  const leaf: fc.Arbitrary<Pair> = fc.oneof(
    fc.tuple(field, fc.constantFrom(...(Object.keys(CMP) as (keyof typeof CMP)[])), lit).map(([f, op, v]): Pair => [
      { kind: 'cmp', field: f, op, value: v },
      { field: f, op: CMP[op], value: toJson(v) },
    ]),
    fc.tuple(field, fc.constantFrom(...(Object.keys(LIKE) as (keyof typeof LIKE)[])), fc.boolean(), lit).map(([f, mode, neg, v]): Pair => {
      const negated = neg && mode === 'like';
      return [
        { kind: 'like', field: f, mode, negated, value: v },
        { field: f, op: negated ? 'not_like' : LIKE[mode], value: toJson(v) },
      ];
    }),
    fc
      .tuple(field, fc.boolean(), fc.array(fc.option(lit, { nil: undefined }), { minLength: 1, maxLength: 4 }))
      .map(([f, negated, vs]): Pair => {
        const values = vs.map((v): Lit => v ?? { kind: 'null' });
        return [
          { kind: 'in', field: f, negated, values },
          { field: f, op: negated ? 'not_in' : 'in', value: values.map(toJson) },
        ];
      }),
    fc.tuple(field, fc.boolean()).map(([f, negated]): Pair => [
      { kind: 'isnull', field: f, negated },
      { field: f, op: negated ? 'is_not_null' : 'is_null' },
    ]),
    fc.tuple(field, lit, lit).map(([f, low, high]): Pair => [
      { kind: 'between', field: f, negated: false, low, high },
      { field: f, op: 'between', value: [toJson(low), toJson(high)] },
    ]),
  );
  const { tree } = fc.letrec<{ tree: Pair }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc
        .tuple(fc.constantFrom('and' as const, 'or' as const), fc.array(tie('tree'), { minLength: 2, maxLength: 3 }))
        .map(([k, args]): Pair => [{ kind: k, args: args.map((a) => a[0]) }, { [k]: args.map((a) => a[1]) }]),
      tie('tree').map(([a, j]): Pair => [{ kind: 'not', arg: a }, { not: j }]),
    ),
  }));

  it('random structured filters convert to the expected AST', () => {
    fc.assert(
      fc.property(tree, ([ast, json]) => {
        expect(s(JSON.parse(JSON.stringify(json)))).toEqual(ast);
      }),
      { numRuns: 1000 },
    );
  });

  it('random JSON never crashes: an AST or a 400 with a path', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (json) => {
        try {
          structuredToAst(json);
        } catch (e) {
          expect(e).toBeInstanceOf(ApiError);
          expect((e as ApiError).status).toBe(400);
          expect(String((e as ApiError).context.path)).toMatch(/^filter/);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
