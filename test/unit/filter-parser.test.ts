import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ApiError } from '../../src/errors.js';
import { astClaims, astFields, stripPositions, type FilterAst, type Lit } from '../../src/query/ast.js';
import { parseFilter } from '../../src/query/filter-parser.js';
import { formatFilter } from '../../src/query/filter-format.js';

const p = (text: string, allowClaims = false): FilterAst => stripPositions(parseFilter(text, { allowClaims }));
const num = (text: string): Lit => ({ kind: 'number', text });
const str = (value: string): Lit => ({ kind: 'string', value });
const cmp = (field: string, op: '=' | '!=' | '<' | '<=' | '>' | '>=', value: Lit): FilterAst => ({ kind: 'cmp', field, op, value });
const eq = (field: string, n: string): FilterAst => cmp(field, '=', num(n));

function parseError(text: string, opts: { allowClaims?: boolean; param?: string } = {}): ApiError {
  try {
    parseFilter(text, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error(`expected "${text}" to fail`);
}

describe('parseFilter: operators', () => {
  it('parses every comparison operator; <> is !=', () => {
    for (const op of ['=', '!=', '<', '<=', '>', '>='] as const) expect(p(`a ${op} 1`)).toEqual(cmp('a', op, num('1')));
    expect(p('a <> 1')).toEqual(cmp('a', '!=', num('1')));
    expect(p('a=1')).toEqual(eq('a', '1'));
    expect(p("name>='b'")).toEqual(cmp('name', '>=', str('b')));
  });

  it('parses like, contains, starts with, ends with and their negations', () => {
    expect(p("a like 'x%'")).toEqual({ kind: 'like', field: 'a', mode: 'like', negated: false, value: str('x%') });
    expect(p("a not like 'x%'")).toEqual({ kind: 'like', field: 'a', mode: 'like', negated: true, value: str('x%') });
    expect(p("a contains 'x'")).toEqual({ kind: 'like', field: 'a', mode: 'contains', negated: false, value: str('x') });
    expect(p("a starts with 'x'")).toEqual({ kind: 'like', field: 'a', mode: 'starts', negated: false, value: str('x') });
    expect(p("a ends with 'x'")).toEqual({ kind: 'like', field: 'a', mode: 'ends', negated: false, value: str('x') });
    expect(p("a not ends with 'x'")).toEqual({ kind: 'like', field: 'a', mode: 'ends', negated: true, value: str('x') });
  });

  it('parses in, not in, is null, is not null, between', () => {
    expect(p("a in (1, 'b', true, null)")).toEqual({
      kind: 'in',
      field: 'a',
      negated: false,
      values: [num('1'), str('b'), { kind: 'bool', value: true }, { kind: 'null' }],
    });
    expect(p('a not in (1)')).toEqual({ kind: 'in', field: 'a', negated: true, values: [num('1')] });
    expect(p('a is null')).toEqual({ kind: 'isnull', field: 'a', negated: false });
    expect(p('a is not null')).toEqual({ kind: 'isnull', field: 'a', negated: true });
    expect(p('a between 1 and 5')).toEqual({ kind: 'between', field: 'a', negated: false, low: num('1'), high: num('5') });
    expect(p("a not between 'a' and 'b'")).toEqual({ kind: 'between', field: 'a', negated: true, low: str('a'), high: str('b') });
  });

  it('keywords are case-insensitive; field names keep their case', () => {
    expect(p("Name LIKE 'x' AND Age BETWEEN 1 AND 2 Or B IS NOT NULL oR c NOT IN (TRUE, False, NULL)")).toEqual({
      kind: 'or',
      args: [
        {
          kind: 'and',
          args: [
            { kind: 'like', field: 'Name', mode: 'like', negated: false, value: str('x') },
            { kind: 'between', field: 'Age', negated: false, low: num('1'), high: num('2') },
          ],
        },
        { kind: 'isnull', field: 'B', negated: true },
        {
          kind: 'in',
          field: 'c',
          negated: true,
          values: [{ kind: 'bool', value: true }, { kind: 'bool', value: false }, { kind: 'null' }],
        },
      ],
    });
    expect(p("a STARTS WITH 'x'")).toEqual(p("a starts with 'x'"));
    expect(p('NOT a = 1')).toEqual({ kind: 'not', arg: eq('a', '1') });
  });
});

describe('parseFilter: precedence and grouping', () => {
  it('and binds tighter than or', () => {
    expect(p('a = 1 or b = 2 and c = 3')).toEqual({
      kind: 'or',
      args: [eq('a', '1'), { kind: 'and', args: [eq('b', '2'), eq('c', '3')] }],
    });
    expect(p('a = 1 and b = 2 or c = 3')).toEqual({
      kind: 'or',
      args: [{ kind: 'and', args: [eq('a', '1'), eq('b', '2')] }, eq('c', '3')],
    });
  });

  it('parentheses override precedence', () => {
    expect(p('(a = 1 or b = 2) and c = 3')).toEqual({
      kind: 'and',
      args: [{ kind: 'or', args: [eq('a', '1'), eq('b', '2')] }, eq('c', '3')],
    });
  });

  it('chains flatten, parenthesized groups keep their shape', () => {
    expect(p('a = 1 and b = 2 and c = 3')).toEqual({ kind: 'and', args: [eq('a', '1'), eq('b', '2'), eq('c', '3')] });
    expect(p('a = 1 and (b = 2 and c = 3)')).toEqual({
      kind: 'and',
      args: [eq('a', '1'), { kind: 'and', args: [eq('b', '2'), eq('c', '3')] }],
    });
  });

  it('not binds tighter than and', () => {
    expect(p('not a = 1 and b = 2')).toEqual({ kind: 'and', args: [{ kind: 'not', arg: eq('a', '1') }, eq('b', '2')] });
    expect(p('not (a = 1 and b = 2)')).toEqual({ kind: 'not', arg: { kind: 'and', args: [eq('a', '1'), eq('b', '2')] } });
    expect(p('not not a = 1')).toEqual({ kind: 'not', arg: { kind: 'not', arg: eq('a', '1') } });
  });

  it("DreamFactory's parentheses around each comparison, and nested redundant ones", () => {
    expect(p('(a = 1) and (b = 2)')).toEqual({ kind: 'and', args: [eq('a', '1'), eq('b', '2')] });
    expect(p('((((a = 1))))')).toEqual(eq('a', '1'));
    expect(p('(a = 1) or ((b = 2) and (c = 3))')).toEqual(p('a = 1 or b = 2 and c = 3'));
  });

  it("the 'and' inside between is not the boolean and", () => {
    expect(p('x between 1 and 5 and y = 2')).toEqual({
      kind: 'and',
      args: [{ kind: 'between', field: 'x', negated: false, low: num('1'), high: num('5') }, eq('y', '2')],
    });
    expect(p('x between 1 and 5 or y between 2 and 3 and z = 1')).toEqual({
      kind: 'or',
      args: [
        { kind: 'between', field: 'x', negated: false, low: num('1'), high: num('5') },
        { kind: 'and', args: [{ kind: 'between', field: 'y', negated: false, low: num('2'), high: num('3') }, eq('z', '1')] },
      ],
    });
    expect(p("a = 1 and x between 'and' and 'or'")).toEqual({
      kind: 'and',
      args: [eq('a', '1'), { kind: 'between', field: 'x', negated: false, low: str('and'), high: str('or') }],
    });
  });
});

describe('parseFilter: literals and names', () => {
  it("strings: '' escapes a quote, unicode passes through, keywords inside are text", () => {
    expect(p("a = 'it''s'")).toEqual(cmp('a', '=', str("it's")));
    expect(p("a = ''")).toEqual(cmp('a', '=', str('')));
    expect(p("a = ''''")).toEqual(cmp('a', '=', str("'")));
    expect(p("a = '日本語 🎉 ñ'")).toEqual(cmp('a', '=', str('日本語 🎉 ñ')));
    expect(p("a = 'x or b = 1'")).toEqual(cmp('a', '=', str('x or b = 1')));
    expect(p("a = 'line\nbreak'")).toEqual(cmp('a', '=', str('line\nbreak')));
  });

  it('numbers are kept as written, of any size', () => {
    for (const n of ['0', '-7', '123456789012345678901234567890', '1.50', '-0.001', '.5', '-.5', '1e3', '2.5E-7', '1e+9']) {
      expect(p(`a = ${n}`)).toEqual(eq('a', n));
    }
    expect(p('a>-1')).toEqual(cmp('a', '>', num('-1')));
  });

  it('booleans', () => {
    expect(p('a = true')).toEqual(cmp('a', '=', { kind: 'bool', value: true }));
    expect(p('a != FALSE')).toEqual(cmp('a', '!=', { kind: 'bool', value: false }));
  });

  it('field names: identifiers and "quoted names"; keywords as names', () => {
    expect(p('_a9_Z = 1')).toEqual(eq('_a9_Z', '1'));
    expect(p('"Order Total" > 5')).toEqual(cmp('Order Total', '>', num('5')));
    expect(p('"say ""hi""" = 1')).toEqual(eq('say "hi"', '1'));
    expect(p('"not" is null')).toEqual({ kind: 'isnull', field: 'not', negated: false });
    expect(p('not = 1')).toEqual(eq('not', '1'));
    expect(p('in = 1 and between = 2')).toEqual({ kind: 'and', args: [eq('in', '1'), eq('between', '2')] });
  });

  it('records positions of fields and values (0-based, in code points)', () => {
    const ast = parseFilter("a = 1 and  bb in ('🎉', 2) or c is null");
    expect(astFields(ast)).toEqual([
      { field: 'a', pos: 0 },
      { field: 'bb', pos: 11 },
      { field: 'c', pos: 29 },
    ]);
    const text = "x = '🎉🎉' and yy = 3";
    const [, second] = astFields(parseFilter(text));
    expect(second!.pos).toBe(13);
    expect(Array.from(text).slice(13, 15).join('')).toBe('yy');
  });
});

describe('parseFilter: errors', () => {
  const cases: [string, number, RegExp][] = [
    ['', 0, /empty/],
    ['   ', 0, /empty/],
    ['a = ', 4, /expected a value after '='/],
    ['a = null', 4, /use 'is null' instead of '= null'/],
    ['a != null', 5, /use 'is not null' instead of '!= null'/],
    ['a <> NULL', 5, /use 'is not null' instead of '<> null'/],
    ['a < null', 4, /null cannot be compared with '<'/],
    ["a = 'abc", 4, /unterminated string starting at position 4/],
    ["a = 'it''s", 4, /unterminated string/],
    ['(a = 1', 6, /'\(' at position 0 is never closed/],
    ['a = 1)', 5, /unexpected '\)'/],
    ['a in ()', 5, /list after 'in' is empty/],
    ['a in (1, 2', 10, /never closed/],
    ['a in (1 2)', 8, /expected ',' or '\)'/],
    ['a in 1', 5, /expected '\(' after 'in'/],
    ['a = b', 4, /found the name 'b'.*single quotes: 'b'/],
    ['a = "b"', 4, /single quotes/],
    ['a between 1 or 2', 12, /expected 'and' after the lower bound/],
    ['a between 1 and null', 16, /bounds of 'between' cannot be null/],
    ['a is nul', 5, /expected 'null' or 'not null' after 'is'/],
    ['a starts x', 9, /expected 'with' after 'starts'/],
    ['a not = 1', 6, /after 'not'/],
    ['a', 1, /expected an operator after 'a'/],
    ['a foo 1', 2, /expected an operator after 'a'/],
    ['1 = a', 0, /expected a field name/],
    ['a = 1 b = 2', 6, /expected 'and', 'or' or the end/],
    ['a = 1 and', 9, /expected a condition/],
    ['and a = 1', 0, /expected a condition before 'and'/],
    ['a = 1 or or b = 1', 9, /expected a condition before 'or'/],
    ['a == 1', 3, /single '='/],
    ['a ! 1', 2, /'!='/],
    ['a = 5abc', 4, /invalid number '5abc'/],
    ['a = 1.2.3', 4, /invalid number/],
    ['a = 1.', 4, /invalid number/],
    ['a = -', 4, /unexpected '-'/],
    ['a = 1 ; drop table x', 6, /unexpected character ';'/],
    ['created_at > 2024-01-01', 13, /single quotes: write '2024-01-01' instead of 2024-01-01 at position 13/],
    ['ts >= 2024-01-01T10:30:00Z and a = 1', 6, /write '2024-01-01T10:30:00Z'/],
    ['a = 1 && b = 2', 6, /'&&' is not an operator in a filter: write 'and' instead/],
    ['a = 1 || b = 2', 6, /'\|\|' is not an operator in a filter: write 'or' instead/],
    ['a = 1 & b = 2', 6, /unexpected character '&'/],
    ['a = {claims.x}', 4, /only available in row filters/],
    ['a like null', 7, /needs text, not null/],
    ['()', 1, /expected a field name or '\('/],
    ['"" = 1', 0, /empty quoted field name/],
    ['"abc = 1', 0, /unterminated quoted field name/],
  ];
  for (const [text, position, message] of cases) {
    it(`${JSON.stringify(text)} -> 400 at ${position}`, () => {
      const e = parseError(text);
      expect(e.status).toBe(400);
      expect(e.message).toMatch(message);
      expect(e.context).toEqual({ param: 'filter', position });
    });
  }

  it('positions count code points, not UTF-16 units', () => {
    const e = parseError("name = '🎉🎉' or");
    expect(e.context.position).toBe(Array.from("name = '🎉🎉' or").length);
    expect(e.context.position).toBe(14);
  });

  it('names the parameter it was given', () => {
    expect(parseError('a =', { param: 'rowFilter' }).context).toEqual({ param: 'rowFilter', position: 3 });
  });

  it('refuses nesting deeper than 100 levels (parentheses or not)', () => {
    expect(parseError('('.repeat(200) + 'a = 1' + ')'.repeat(200)).message).toMatch(/nests more than 100/);
    expect(parseError('not '.repeat(200) + 'a = 1').message).toMatch(/nests more than 100/);
    expect(p('('.repeat(50) + 'a = 1' + ')'.repeat(50))).toEqual(eq('a', '1'));
  });

  it('handles long flat filters', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `a${i} = ${i}`).join(' or ');
    const ast = parseFilter(text);
    expect(ast.kind === 'or' && ast.args.length).toBe(5000);
  });
});

describe('parseFilter: claims', () => {
  it('only with allowClaims', () => {
    expect(parseError('t = {claims.tenant_id}').status).toBe(400);
    expect(p('t = {claims.tenant_id}', true)).toEqual(cmp('t', '=', { kind: 'claim', path: ['tenant_id'] }));
  });

  it('dotted, bracketed and mixed paths', () => {
    expect(p('t = {claims.a.b}', true)).toEqual(cmp('t', '=', { kind: 'claim', path: ['a', 'b'] }));
    expect(p('t = {claims["https://ns/x"]}', true)).toEqual(cmp('t', '=', { kind: 'claim', path: ['https://ns/x'] }));
    expect(p("t = { claims['a b'].c }", true)).toEqual(cmp('t', '=', { kind: 'claim', path: ['a b', 'c'] }));
    expect(p('t = {claims["q\\"x"]}', true)).toEqual(cmp('t', '=', { kind: 'claim', path: ['q"x'] }));
  });

  it('a claim stands where a value stands: in lists, bare after in, between bounds', () => {
    expect(p('t in {claims.tenants}', true)).toEqual({
      kind: 'in',
      field: 't',
      negated: false,
      values: [{ kind: 'claim', path: ['tenants'] }],
    });
    expect(p("t not in ({claims.a}, 'x')", true)).toEqual({
      kind: 'in',
      field: 't',
      negated: true,
      values: [{ kind: 'claim', path: ['a'] }, str('x')],
    });
    expect(p('d between {claims.lo} and {claims.hi}', true)).toEqual({
      kind: 'between',
      field: 'd',
      negated: false,
      low: { kind: 'claim', path: ['lo'] },
      high: { kind: 'claim', path: ['hi'] },
    });
    expect(p('n contains {claims.x}', true)).toEqual({
      kind: 'like',
      field: 'n',
      mode: 'contains',
      negated: false,
      value: { kind: 'claim', path: ['x'] },
    });
  });

  it('refuses claims inside quotes, as like patterns, and malformed references', () => {
    expect(parseError("t = '{claims.tenant_id}'", { allowClaims: true }).message).toMatch(/inside quotes is not substituted/);
    expect(parseError('t like {claims.x}', { allowClaims: true }).message).toMatch(/cannot be a 'like' pattern/);
    for (const bad of ['t = {claims}', 't = {claims.}', 't = {tenant}', 't = {claims.x', 't = {claims[x]}', 't = {claims[""]}']) {
      const e = parseError(bad, { allowClaims: true });
      expect(e.message).toMatch(/malformed claim reference/);
      expect(e.context.position).toBe(4);
    }
  });

  it('astClaims lists every claim path once', () => {
    const ast = parseFilter('a = {claims.x} and b in {claims.y} or c = {claims.x} or d = {claims["a.b"]}', { allowClaims: true });
    expect(astClaims(ast)).toEqual([['x'], ['y'], ['a.b']]);
  });
});

// ---- randomized ------------------------------------------------------------------------------

const KEYWORD_NAMES = ['not', 'and', 'or', 'in', 'is', 'null', 'true', 'between', 'like', 'NOT', 'With'];
const fieldArb = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/) },
  { weight: 1, arbitrary: fc.constantFrom(...KEYWORD_NAMES) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 6, unit: 'binary' }) },
);
const numberArb = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.stringMatching(/^\d{1,25}$/), fc.stringMatching(/^\d{1,5}\.\d{1,5}$/), fc.stringMatching(/^\.\d{1,4}$/)),
    fc.option(fc.stringMatching(/^[eE][+-]?\d{1,3}$/), { nil: '' }),
  )
  .map(([neg, body, exp]): Lit => ({ kind: 'number', text: `${neg ? '-' : ''}${body}${exp}` }));
const claimArb: fc.Arbitrary<Lit> = fc
  .array(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_$-]{1,6}$/), fc.string({ minLength: 1, maxLength: 6, unit: 'binary' })), {
    minLength: 1,
    maxLength: 3,
  })
  .map((path) => ({ kind: 'claim', path }));

function litArb(claims: boolean): fc.Arbitrary<Lit> {
  const base: fc.Arbitrary<Lit>[] = [
    fc
      .string({ unit: 'binary', maxLength: 12 })
      .filter((s) => !claims || !/\{\s*claims/i.test(s))
      .map((value): Lit => ({ kind: 'string', value })),
    numberArb,
    fc.boolean().map((value): Lit => ({ kind: 'bool', value })),
  ];
  if (claims) base.push(claimArb);
  return fc.oneof(...base);
}

function astArb(claims: boolean): fc.Arbitrary<FilterAst> {
  const lit = litArb(claims);
  const leaf: fc.Arbitrary<FilterAst> = fc.oneof(
    fc.record({
      kind: fc.constant('cmp' as const),
      field: fieldArb,
      op: fc.constantFrom('=', '!=', '<', '<=', '>', '>=' as const),
      value: lit,
    }),
    fc
      .record({
        kind: fc.constant('like' as const),
        field: fieldArb,
        mode: fc.constantFrom('like', 'contains', 'starts', 'ends' as const),
        negated: fc.boolean(),
        value: lit,
      })
      .filter((n) => !(n.mode === 'like' && n.value.kind === 'claim')),
    fc.record({
      kind: fc.constant('in' as const),
      field: fieldArb,
      negated: fc.boolean(),
      values: fc.array(fc.oneof({ weight: 5, arbitrary: lit }, { weight: 1, arbitrary: fc.constant<Lit>({ kind: 'null' }) }), {
        minLength: 1,
        maxLength: 4,
      }),
    }),
    fc.record({ kind: fc.constant('isnull' as const), field: fieldArb, negated: fc.boolean() }),
    fc.record({ kind: fc.constant('between' as const), field: fieldArb, negated: fc.boolean(), low: lit, high: lit }),
  );
  const { tree } = fc.letrec<{ tree: FilterAst }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), args: fc.array(tie('tree'), { minLength: 2, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('not' as const), arg: tie('tree') }),
    ),
  }));
  return tree;
}

describe('parseFilter: randomized', () => {
  it('formatFilter then parseFilter gives the same AST', () => {
    fc.assert(
      fc.property(astArb(false), (ast) => {
        expect(p(formatFilter(ast))).toEqual(ast);
      }),
      { numRuns: 1000 },
    );
  });

  it('round trips with claims when claims are allowed', () => {
    fc.assert(
      fc.property(astArb(true), (ast) => {
        expect(p(formatFilter(ast), true)).toEqual(ast);
      }),
      { numRuns: 500 },
    );
  });

  it('formatting is stable and positions point at the field names', () => {
    fc.assert(
      fc.property(astArb(false), (ast) => {
        const text = formatFilter(ast);
        const parsed = parseFilter(text);
        expect(formatFilter(parsed)).toBe(text);
        const cps = Array.from(text);
        for (const { field, pos } of astFields(parsed)) {
          const at = cps.slice(pos as number).join('');
          expect(at.startsWith(field) || at.startsWith('"')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  function neverCrashes(text: string, allowClaims: boolean): void {
    try {
      parseFilter(text, { allowClaims });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      expect(e.status).toBe(400);
      const position = e.context.position as number;
      expect(Number.isInteger(position)).toBe(true);
      expect(position).toBeGreaterThanOrEqual(0);
      expect(position).toBeLessThanOrEqual(Array.from(text).length);
      expect(e.message).toMatch(text.trim() === '' ? /empty/ : new RegExp(`position ${position}\\b`));
    }
  }

  it('arbitrary strings give an AST or a 400 with a position inside the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.boolean(), (text, claims) => neverCrashes(text, claims)),
      { numRuns: 2000 },
    );
  });

  it('token soup gives an AST or a 400 with a position inside the text', () => {
    const token = fc.constantFrom(
      'a',
      'b_1',
      '"q"',
      '=',
      '!=',
      '<>',
      '<',
      '>=',
      '(',
      ')',
      ',',
      'and',
      'or',
      'not',
      'in',
      'is',
      'null',
      'like',
      'contains',
      'starts',
      'ends',
      'with',
      'between',
      'true',
      "'x'",
      "'it''s'",
      "'",
      '1',
      '-2.5e3',
      '{claims.t}',
      '{claims["x"]}',
      '{',
      '🎉',
      ' ',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 25 }), fc.boolean(), fc.boolean(), (toks, spaced, claims) =>
        neverCrashes(toks.join(spaced ? ' ' : ''), claims),
      ),
      { numRuns: 3000 },
    );
  });
});
