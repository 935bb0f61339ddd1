// Engine rows are keyed by slotKey(relation, column); the keys are remembered (src/engine/embedded/ast.ts),
// up to a bound, and must read exactly as before whether remembered or not.
import { describe, expect, it } from 'vitest';
import { slotKey } from '../../src/engine/embedded/ast.js';

describe('slotKey', () => {
  it('is "<relation>.<column>" for every slot, the first time and again', () => {
    for (const [rel, column] of [
      [0, 'customer_id'],
      [1, 'customer_id'],
      [12, 'a.b'],
      [3, ''],
      [0, 'üñí'],
    ] as const) {
      expect(slotKey(rel, column)).toBe(`${rel}.${column}`);
      expect(slotKey(rel, column)).toBe(`${rel}.${column}`);
    }
  });

  it('stays right past the number of keys it remembers', () => {
    for (let i = 0; i < 12_000; i++) expect(slotKey(i % 7, `c${i}`)).toBe(`${i % 7}.c${i}`);
    expect(slotKey(5, 'c11999')).toBe('5.c11999');
    expect(slotKey(0, 'customer_id')).toBe('0.customer_id');
  });
});
