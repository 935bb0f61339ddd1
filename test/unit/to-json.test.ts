import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toJson, toJsonSeldomBig } from '../../src/values.js';

describe('toJson', () => {
  it('writes what JSON.stringify writes for any JSON-like value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(toJson(v)).toBe(JSON.stringify(v));
      }),
    );
  });

  it('leaves out what JSON.stringify leaves out, and calls toJSON', () => {
    const v = { a: undefined, b: () => 1, c: [undefined, Symbol('s')], d: new Date(0), e: -0, f: NaN, g: Infinity };
    expect(toJson(v)).toBe(JSON.stringify(v));
    expect(toJson(undefined)).toBe('null');
  });

  it('writes 64-bit integers as exact bare digits, anywhere', () => {
    const big = 9007199254740993n;
    expect(toJson({ resource: [{ id: big, n: -big, s: '9007199254740993n' }] })).toBe(
      '{"resource":[{"id":9007199254740993,"n":-9007199254740993,"s":"9007199254740993n"}]}',
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        expect(toJson([n, { n }])).toBe(`[${n},{"n":${n}}]`);
      }),
    );
  });
});

describe('toJsonSeldomBig', () => {
  it('writes what toJson writes, bigints included', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), (v, n) => {
        const record = { audit: { args: v, ...(n !== null ? { keys: [n] } : {}) } };
        expect(toJsonSeldomBig(record)).toBe(toJson(record));
      }),
    );
    expect(toJsonSeldomBig({ keys: [9007199254740993n] })).toBe('{"keys":[9007199254740993]}');
    expect(toJsonSeldomBig(undefined)).toBe('null');
  });

  it('still refuses a value that cannot be written', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => toJsonSeldomBig(loop)).toThrow();
  });
});
