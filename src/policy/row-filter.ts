// Row filters: a grant's `rowFilter` and a view's `rowSecurity` (the filter grammar with
// {claims.x}). Each is parsed once, when the policy is built from the config (src/policy/policy.ts);
// per request only the caller's claims are bound, as typed values.
import type { View } from '../engine/view.js';
import { astClaims, type FilterAst } from '../query/ast.js';
import { bindFilter } from '../query/bind.js';
import { parseFilter } from '../query/filter-parser.js';
import type { Predicate } from '../query/predicate.js';
import { ApiError } from '../errors.js';
import { claimAt, type Claims } from './identity.js';

/** The setting a row filter comes from, as its errors name it. */
export type RowFilterParam = 'rowFilter' | 'rowSecurity';

export interface RowFilter {
  readonly text: string;
  readonly param: RowFilterParam;
  /** Undefined when the text does not parse; `check` reports `error` and binding throws it. */
  readonly ast: FilterAst | undefined;
  readonly error?: unknown;
  /** The claims it reads, by path (none when it does not parse). */
  readonly claims: readonly (readonly string[])[];
}

export function parseRowFilter(text: string, param: RowFilterParam): RowFilter {
  try {
    const ast = parseFilter(text, { allowClaims: true, param });
    return Object.freeze({ text, param, ast, claims: Object.freeze(astClaims(ast)) });
  } catch (error) {
    return Object.freeze({ text, param, ast: undefined, error, claims: Object.freeze([]) });
  }
}

/** The row filter with the caller's claims bound; a missing claim is a 403, never "all rows". */
export function bindRowFilter(view: View, filter: RowFilter, claims: Claims): Predicate {
  if (!filter.ast) throw filter.error;
  const types = new Map(view.columns.map((c) => [c.name, c.type]));
  return bindFilter(filter.ast, {
    param: filter.param,
    columnType: (name) => {
      const t = types.get(name);
      // Checked when the config loads; kept as a guard.
      if (!t) throw new ApiError('view_misconfigured', `row filter names "${name}", which view "${view.id}" does not have`);
      return t;
    },
    claim: (path) => claimValue(claims, path),
  });
}

/** A claim's value by path (own properties only); undefined when absent or null. */
export function claimValue(claims: Claims, path: string[]): unknown {
  const v = claimAt(claims, path);
  return v === null ? undefined : v;
}
