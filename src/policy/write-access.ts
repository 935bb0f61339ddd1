// What a grant's `write` lets a role do on one view (docs/writes.md), decided once per (role, view)
// with the rest of the policy record: which statements, which columns it may set, which key
// columns it may give on insert, the bulk right and cap, the references each written value must
// resolve in, and the columns its row filter binds to a claim by equality (filled from the claim
// on insert).
import type { GrantConfig } from '../config/schema.js';
import type { ViewId } from '../config/view-id.js';
import type { View } from '../engine/view.js';
import type { FilterAst } from '../query/ast.js';
import type { CallerSchema } from './caller-schema.js';
import type { RowFilter } from './row-filter.js';

interface ClaimColumn {
  readonly column: string;
  readonly claim: readonly string[];
}

export interface WriteAccess {
  readonly insert: boolean;
  readonly update: boolean;
  readonly delete: boolean;
  /** Filter-wide updates and deletes (`filter=`). */
  readonly bulk: boolean;
  /** Most rows one bulk write (or one `ids=` list) may reach; more is a 422 before anything changes. */
  readonly maxBulkRows: number;
  /** The columns the role may set: readable, unmasked, never a key column. */
  readonly fields: ReadonlySet<string>;
  /** Key columns the role may give on insert (readable and unmasked). */
  readonly insertKey: ReadonlySet<string>;
  /** Written values of these columns must be keys of rows the caller can read in that view. */
  readonly references: ReadonlyMap<string, ViewId>;
  /** Row-filter columns bound by equality to a claim (the filter's top-level conjuncts). */
  readonly claimColumns: readonly ClaimColumn[];
}

/** Whether the grant lets the role write at all. */
export function grantsWrites(grant: GrantConfig): boolean {
  const w = grant.write;
  return w !== undefined && (w.insert || w.update || w.delete);
}

/** The columns a grant's write may set when it lists none: readable, unmasked, not in the key. */
function writableColumns(view: View, schema: CallerSchema, listed?: readonly string[]): Set<string> {
  const key = new Set(view.key);
  const ok = (n: string) => !key.has(n) && schema.byName.has(n) && !schema.byName.get(n)!.masked;
  return new Set((listed ?? schema.columns.map((c) => c.name)).filter(ok));
}

export function writeAccess(
  view: View,
  grant: GrantConfig,
  schema: CallerSchema,
  rowFilters: readonly RowFilter[],
): WriteAccess | undefined {
  const w = grant.write;
  if (!w) return undefined;
  return Object.freeze({
    insert: w.insert,
    update: w.update,
    delete: w.delete,
    bulk: w.bulk,
    maxBulkRows: w.maxBulkRows,
    fields: writableColumns(view, schema, w.fields),
    insertKey: new Set(view.key.filter((k) => schema.byName.has(k) && !schema.byName.get(k)!.masked)),
    references: new Map(Object.entries(w.references).map(([c, v]) => [c, v as ViewId])),
    claimColumns: Object.freeze(rowFilters.flatMap((f) => (f.ast ? claimEqualities(f.ast) : []))),
  });
}

/** `col = {claims.x}` conjuncts at the top of a row filter (either side of an AND). */
function claimEqualities(ast: FilterAst): ClaimColumn[] {
  if (ast.kind === 'and') return ast.args.flatMap(claimEqualities);
  if (ast.kind === 'cmp' && ast.op === '=' && ast.value.kind === 'claim') return [{ column: ast.field, claim: ast.value.path }];
  return [];
}
