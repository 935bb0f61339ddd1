// ORDER BY + LIMIT into the second table of a two-store page (docs/engine.md, "Planning", step 9).
//
// The page joins its first table (the parent, already fetched sorted by its key and cut at
// offset + limit + 1 rows) to one other table (the child) with a LEFT join on the parent's key,
// the child bound to the parent's keys, and is ordered by that key and then by child columns that
// include the child's own key. Each output row is a parent row with one of its children (or with
// NULLs when it has none), in (parent key, child columns) order, which is the order of the child
// rows themselves when sorted by (join column, child columns). So the page's first N rows hold
// at most N child rows, and those are the first N of the child table in that order: the child is
// fetched sorted and cut at N as well. A parent whose children all come after the cut is NULL-padded,
// but its row sorts after the N rows that the page keeps, all of which are whole.
import type { ViewModel } from './ast.js';
import type { FetchUnit, PlannedJoin } from './plan.js';
import { isInt } from './sql-types.js';

/** An order term as a fetch unit sorts by it. */
type UnitOrderTerm = NonNullable<FetchUnit['orderBy']>[number];

/**
 * Sets the child unit's ORDER BY and LIMIT when the page allows it (see the top of the file);
 * `sortsExactly` says whether the child's store sorts by these terms as the engine does. Returns
 * the note for explain, or undefined when nothing was pushed.
 */
export function pushLimitIntoBoundChild(
  units: FetchUnit[],
  joins: { unit: number; join: PlannedJoin }[],
  view: ViewModel,
  mapped: (UnitOrderTerm | undefined)[],
  sortsExactly: (terms: UnitOrderTerm[]) => boolean,
): string | undefined {
  const [parent, child] = units;
  if (units.length !== 2 || !parent || !child || joins.length !== 1) return undefined;
  if (parent.limit === undefined || parent.offset !== undefined || parent.orderBy?.length !== 1) return undefined;
  if (child.bind?.fromUnit !== parent.id || child.members.length !== 1 || child.partial) return undefined;
  if (child.scans.some((s) => s.local.length > 0)) return undefined;
  const { join } = joins[0]!;
  if (join.kind !== 'left' || join.conditions.length !== 1) return undefined;
  const { parentKey, childKey } = join.conditions[0]!;
  const childRel = child.members[0]!;
  const parentTerm = parent.orderBy[0]!;
  // Plain integer columns on both sides: the stores and the engine order them alike.
  if (parentKey.kind !== 'column' || childKey.kind !== 'column' || !isInt(parentKey.type) || !isInt(childKey.type)) return undefined;
  if (parentKey.rel !== parentTerm.rel || parentKey.column !== parentTerm.column || childKey.rel !== childRel) return undefined;
  if (child.bind.targetRel !== childRel || child.bind.targetColumn !== childKey.column) return undefined;
  // The page's order: the parent's key, then child columns that order each parent's children fully.
  const rest = mapped.slice(1);
  if (mapped[0]?.rel !== parentTerm.rel || mapped[0].column !== parentTerm.column || mapped[0].desc !== parentTerm.desc) return undefined;
  if (!rest.every((m) => m !== undefined && m.rel === childRel)) return undefined;
  const childKeyColumns = view.relations[childRel]!.primaryKey;
  if (childKeyColumns.length === 0 || !childKeyColumns.every((k) => rest.some((m) => m!.column === k))) return undefined;
  const orderBy = [{ rel: childRel, column: childKey.column, desc: parentTerm.desc }, ...rest.map((m) => m!)];
  if (!sortsExactly(orderBy)) return undefined;
  child.orderBy = orderBy;
  child.limit = parent.limit;
  const alias = view.relations[childRel]!.alias;
  return (
    `ORDER BY ${orderBy.map((o) => `${alias}.${o.column}${o.desc ? ' DESC' : ''}`).join(', ')} ` +
    `LIMIT ${child.limit} is pushed into ${alias} too: its first ${child.limit} rows in that order hold every child row of the page`
  );
}
