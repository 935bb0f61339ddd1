// Aggregate rights in governed SQL (docs/sql.md, "Aggregate-only grants and minGroupSize"), the
// rules of docs/security.md "Aggregate rights" (src/policy/govern-aggregate.ts) applied to a
// checked statement: a view whose grant is aggregate-only (read: false) is read only by a statement
// that aggregates, and never through min or max; each view whose grant has minGroupSize adds the
// count of its entities to every group, so that page.ts leaves out the groups below k.
import type { AggregateSpec, Expr, Relation, ViewModel } from '../../engine/embedded/ast.js';
import { formatExpr } from '../../engine/embedded/explain.js';
import { relationsOf } from '../../engine/embedded/expr-tools.js';
import { sqlTypeOfColumn } from '../../engine/embedded/sql-types.js';
import { ApiError } from '../../errors.js';
import { aggregateOnlyRows, refuseRowValue } from '../../policy/govern-aggregate.js';
import { ENTITY, entityInfo, type SqlRelation } from './relations.js';

/** An aggregate slot that counts one view's entities in each group, and the least count a group needs. */
export interface GroupSize {
  slot: string;
  k: number;
}

/**
 * Refuses what aggregate-only grants forbid; returns the statement with one entity count per
 * minGroupSize view. `relationOf` gives the view a relation reads, undefined for a subquery (whose
 * views run.ts admits only when no aggregate right restricts them).
 */
export function governSqlAggregates(
  model: ViewModel,
  relationOf: (rel: number) => SqlRelation | undefined,
): { model: ViewModel; sizes: GroupSize[] } {
  const { grouping } = model;
  if (!grouping) {
    const rowsOnly = model.relations.map((r) => relationOf(r.index)).find((r) => r !== undefined && !r.access.read);
    if (rowsOnly) {
      throw aggregateOnlyRows(
        rowsOnly.view,
        'a statement over it must aggregate: count(*), count(col), count(DISTINCT col), sum(col) or avg(col), with GROUP BY for groups',
      );
    }
    return { model, sizes: [] };
  }
  for (const a of grouping.aggregates) {
    for (const rel of a.arg ? relationsOf(a.arg) : []) {
      const relation = relationOf(rel);
      if (!relation) continue;
      const { view, access } = relation;
      refuseRowValue(access, view, a.fn, `${a.fn}(${formatExpr(a.arg!, model)})`, { view: view.id });
    }
  }
  const aggregates: AggregateSpec[] = [...grouping.aggregates];
  const relations: Relation[] = [...model.relations];
  const sizes: GroupSize[] = [];
  for (const r of model.relations) {
    const relation = relationOf(r.index);
    if (!relation) continue;
    const { view, access } = relation;
    const min = access.minGroupSize;
    if (!min) continue;
    let arg: Expr | undefined;
    const entity = entityInfo(view, access);
    if (entity) {
      const type = sqlTypeOfColumn(entity);
      relations[r.index] = { ...r, columns: new Map([...r.columns, [ENTITY, { type, nullable: true }]]) };
      arg = { kind: 'column', rel: r.index, column: ENTITY, type };
    } else if (model.relations.length > 1) {
      throw new ApiError(
        'forbidden',
        `your grant on "${view.id}" counts groups in rows (minGroupSize without distinctOn), which a join multiplies: aggregate it in a statement of its own`,
        { view: view.id },
      );
    }
    const slot = `a${aggregates.length}`;
    aggregates.push({ slot, fn: 'count', ...(arg ? { arg } : {}), distinct: arg !== undefined, type: 'int8' });
    sizes.push({ slot, k: min.k });
  }
  return { model: { ...model, relations, grouping: { ...grouping, aggregates } }, sizes };
}
