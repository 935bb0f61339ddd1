// The typed predicate: what the policy layer hands to engines and sources.
// Every value is already coerced to its column's type (see src/values.ts), so a source only
// translates structure into its own dialect and binds the values as parameters.
// Semantics are SQL's three-valued logic: a comparison with NULL is unknown, and NOT(unknown)
// is unknown, so negations never match NULL or missing values.
import type { ColumnType, Value } from '../values.js';

export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type Predicate =
  | { op: 'and'; args: Predicate[] }
  | { op: 'or'; args: Predicate[] }
  | { op: 'not'; arg: Predicate }
  | { op: 'cmp'; column: string; cmp: CompareOp; value: Exclude<Value, null> }
  /** `values` never contains null: the binder folds `x in (1, null)` into three-valued logic first. */
  | { op: 'in'; column: string; values: Exclude<Value, null>[] }
  /** SQL LIKE pattern: `%` any run, `_` one character, `\` escapes the next character. Case-sensitive. */
  | { op: 'like'; column: string; pattern: string }
  | { op: 'isnull'; column: string }
  /** A constant: true, false, or unknown (null), left after folding e.g. `x not in (1, null)`. */
  | { op: 'const'; value: boolean | null };

export interface OrderTerm {
  column: string;
  desc: boolean;
}

/** What a source is asked for: one native query, bound parameters only. */
export interface Pushdown {
  /** Columns to return, by source column name. */
  columns: string[];
  where?: Predicate;
  /** PostgreSQL order: ascending NULLS LAST, descending NULLS FIRST; text by code point. */
  orderBy?: OrderTerm[];
  limit?: number;
  offset?: number;
}

/** Column types by name, used to evaluate and compile predicates. */
export type ColumnTypes = ReadonlyMap<string, ColumnType>;

export function and(...args: (Predicate | undefined)[]): Predicate | undefined {
  const parts = args.filter((p): p is Predicate => p !== undefined);
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  return { op: 'and', args: parts.flatMap((p) => (p.op === 'and' ? p.args : [p])) };
}

/** The conjuncts of a predicate: `a AND (b AND c)` -> a, b, c. */
export function splitAnd(p: Predicate): Predicate[] {
  return p.op === 'and' ? p.args.flatMap(splitAnd) : [p];
}

/** Names of all columns a predicate reads. */
export function predicateColumns(p: Predicate, out: Set<string> = new Set()): Set<string> {
  switch (p.op) {
    case 'and':
    case 'or':
      for (const a of p.args) predicateColumns(a, out);
      break;
    case 'not':
      predicateColumns(p.arg, out);
      break;
    case 'const':
      break;
    default:
      out.add(p.column);
  }
  return out;
}
