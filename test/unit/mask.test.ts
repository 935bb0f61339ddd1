import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyMasks, compileMask } from '../../src/policy/mask.js';

describe('masks (docs/security.md)', () => {
  it('email: first character + ***@ + domain; no @ gives ***; NULL stays NULL', () => {
    const m = compileMask('email', undefined);
    expect(m('jane@x.org')).toBe('j***@x.org');
    expect(m('émile@exämple.org')).toBe('é***@exämple.org');
    expect(m('😀bob@x.org')).toBe('😀***@x.org');
    expect(m('no-at-sign')).toBe('***');
    expect(m(null)).toBeNull();
  });

  it('partial(F,L) counts code points, and short values become ***', () => {
    const m = compileMask('partial(2,3)', undefined);
    expect(m('4111111111111111')).toBe('41***111');
    expect(m('abcde')).toBe('***');
    expect(m('abcdef')).toBe('ab***def');
    expect(m('😀😀😀😀😀😀')).toBe('😀😀***😀😀😀');
    expect(compileMask('partial(0,4)', undefined)('123456789')).toBe('***6789');
    expect(compileMask('partial(1,0)', undefined)('secret')).toBe('s***');
    expect(m(12345678n)).toBe('12***678');
  });

  it('hash: lowercase hex HMAC-SHA256 with the secret', () => {
    const m = compileMask('hash', 'k');
    expect(m('jane@x.org')).toBe(createHmac('sha256', 'k').update('jane@x.org').digest('hex'));
    expect(m(null)).toBeNull();
    expect(() => compileMask('hash', undefined)).toThrow(/hashSecret/);
  });

  it('redact and null', () => {
    expect(compileMask('redact', undefined)('x')).toBe('[redacted]');
    expect(compileMask('redact', undefined)(null)).toBeNull();
    expect(compileMask('null', undefined)('x')).toBeNull();
  });

  it('applies only to the masked columns present', () => {
    const rows = applyMasks(
      [{ a: 'jane@x.org', b: 'keep' }],
      new Map([
        ['a', compileMask('email', undefined)],
        ['z', compileMask('null', undefined)],
      ]),
    );
    expect(rows).toEqual([{ a: 'j***@x.org', b: 'keep' }]);
  });
});
