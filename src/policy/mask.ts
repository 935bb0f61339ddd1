// Masks (docs/security.md, "Masks"), applied after the engine. NULL stays NULL; lengths count
// code points.
import { createHmac } from 'node:crypto';
import type { Row, Value } from '../values.js';

export type MaskFn = (v: Value) => Value;

export function compileMask(spec: string, hashSecret: string | undefined): MaskFn {
  const partial = /^partial\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(spec);
  if (partial) {
    const first = Number(partial[1]);
    const last = Number(partial[2]);
    return text((s) => {
      const cps = [...s];
      if (cps.length <= first + last) return '***';
      return cps.slice(0, first).join('') + '***' + (last > 0 ? cps.slice(-last).join('') : '');
    });
  }
  switch (spec) {
    case 'email':
      return text((s) => {
        const at = s.lastIndexOf('@');
        if (at < 0) return '***';
        const firstChar = [...s.slice(0, at)][0] ?? '';
        return `${firstChar}***${s.slice(at)}`;
      });
    case 'hash': {
      if (!hashSecret) throw new Error('the hash mask needs masking.hashSecret');
      return text((s) => createHmac('sha256', hashSecret).update(s, 'utf8').digest('hex'));
    }
    case 'redact':
      return (v) => (v === null ? null : '[redacted]');
    case 'null':
      return () => null;
    default:
      throw new Error(`unknown mask "${spec}"`);
  }
}

function text(f: (s: string) => string): MaskFn {
  return (v) => (v === null ? null : f(typeof v === 'object' ? JSON.stringify(v) : String(v)));
}

/** The `null` mask hides even whether a value is NULL: such a column is not counted either. */
export function isNullMask(spec: string | undefined): boolean {
  return spec === 'null';
}

export function applyMasks(rows: Row[], masks: ReadonlyMap<string, MaskFn>): Row[] {
  if (masks.size === 0) return rows;
  return rows.map((r) => {
    const out: Row = { ...r };
    for (const [col, fn] of masks) if (col in out) out[col] = fn(out[col]!);
    return out;
  });
}
