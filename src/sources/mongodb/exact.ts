// What MongoDB's own operators can and cannot say exactly about viewgate's value model, so that the
// filter compiler (filter.ts) pushes an exact filter where one exists and otherwise a superset plus
// an in-process residual.
import type { ColumnType } from '../../values.js';

/**
 * Which ObjectIds a LIKE pattern matches by their text (24 lowercase hex digits):
 *  - none:  no 24-hex text matches (a literal that is not a lowercase hex digit, or the wrong length);
 *  - all:   every one matches (only wildcards, e.g. `%` or `%_%`);
 *  - range: exactly those from `lo` to `hi` (a hex prefix followed by wildcards only, e.g. `65f%`);
 *  - some:  anything else (e.g. `%0001`, `6_f%`): not expressible as a MongoDB filter on ObjectIds.
 * Reads the pattern as evaluate.ts's likeMatch does: `\` makes the next character literal (a
 * trailing `\` stands for itself), by code point.
 */
export type HexLike = { kind: 'none' } | { kind: 'all' } | { kind: 'range'; lo: string; hi: string } | { kind: 'some' };

export function likeOnHex(pattern: string): HexLike {
  const cps = Array.from(pattern);
  let fixed = 0; // characters every match has (literals and `_`)
  let anyRun = false; // a `%` somewhere
  let wildcardSeen = false;
  let prefix = '';
  let prefixOnly = true; // no literal after a wildcard
  for (let k = 0; k < cps.length; k++) {
    let c = cps[k]!;
    if (c === '%') {
      anyRun = wildcardSeen = true;
      continue;
    }
    fixed++;
    if (c === '_') {
      wildcardSeen = true;
      continue;
    }
    if (c === '\\' && k + 1 < cps.length) c = cps[++k]!;
    if (!/^[0-9a-f]$/.test(c)) return { kind: 'none' };
    if (wildcardSeen) prefixOnly = false;
    else prefix += c;
  }
  if (anyRun ? fixed > 24 : fixed !== 24) return { kind: 'none' };
  if (!prefixOnly) return { kind: 'some' };
  if (prefix.length === 0) return { kind: 'all' };
  return { kind: 'range', lo: prefix.padEnd(24, '0'), hi: prefix.padEnd(24, 'f') };
}

/**
 * The BSON types ($type aliases) whose every value fits a column of the type (decode.ts coerce()).
 * Other types may fit (an int column holds the double 5.0 as 5 but not 2.5) or never do. Dates are
 * not listed: a BSON date outside JavaScript's range does not fit, and a date column needs a UTC
 * midnight. jsonb takes every value (it never mismatches).
 */
export const ALWAYS_FITS: Record<Exclude<ColumnType, 'jsonb'>, string[]> = {
  text: ['string', 'objectId'],
  int: ['int', 'long'],
  float: ['double', 'int'],
  numeric: ['int', 'long'],
  bool: ['bool'],
  timestamptz: [],
  date: [],
  bytea: ['binData'],
};

/** Every proper prefix of a dotted path and the path itself: `a.b.c` -> `a`, `a.b`, `a.b.c`. */
export function pathPrefixes(path: string): string[] {
  const segs = path.split('.');
  return segs.map((_, i) => segs.slice(0, i + 1).join('.'));
}
