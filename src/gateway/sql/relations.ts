// The views a governed statement reads, as relations the embedded engine can scan: each
// `service.view` resolves through the caller's policy, and every scan of it is the caller's
// governed query (granted columns only, the row filter with bound claims, the row budget), to which
// the engine's pushed conjuncts are ANDed. The engine never sees a store, only these scans.
import type { ViewId } from '../../config/view-id.js';
import type { View, ViewColumn } from '../../engine/view.js';
import { ApiError, notFound } from '../../errors.js';
import { govern } from '../../policy/govern.js';
import type { ViewAccess } from '../../policy/access.js';
import type { Identity } from '../../policy/identity.js';
import { and, type Pushdown } from '../../query/predicate.js';
import { ComputedSource } from '../../engine/embedded/computed-source.js';
import type { ColumnInfo, NativeQuery, ReadOptions, ScanResult, TableInfo } from '../../sources/source.js';
import type { Row } from '../../values.js';

/** One view the statement reads, as the caller may read it. */
export interface SqlRelation {
  view: View;
  access: ViewAccess;
  info: TableInfo;
}

/** The same words for a view that does not exist and one the caller may not read. */
function noSuchRelation(name: string): ApiError {
  return notFound(`no such relation "${name}"`, { relation: name });
}

/**
 * The column minGroupSize counts a view's entities by (its distinctOn, which may be hidden from the
 * caller), under a name no statement can write: the allow-list refuses the NUL character.
 */
export const ENTITY = '\u0000entity';

function columnInfo(c: ViewColumn, name = c.name): ColumnInfo {
  return { name, type: c.type, nullable: c.nullable, nativeType: c.type === 'int' ? (c.intWidth ?? 'int8') : c.type };
}

/** The entity column of a view whose grant has minGroupSize with distinctOn, as the column ENTITY. */
export function entityInfo(view: View, access: ViewAccess): ColumnInfo | undefined {
  const on = access.minGroupSize?.distinctOn;
  const c = on === undefined ? undefined : view.columns.find((x) => x.name === on);
  return c ? columnInfo(c, ENTITY) : undefined;
}

/** The view's columns as the caller may read them, with their stored types (a masked column's values are masked on output only). */
export function relationInfo(view: View, access: ViewAccess): TableInfo {
  const columns: ColumnInfo[] = view.columns.filter((c) => access.schema.byName.has(c.name)).map((c) => columnInfo(c));
  // A key with a hidden or masked column is not the caller's to know.
  const keyReadable = view.key.length > 0 && view.key.every((k) => access.schema.byName.get(k)?.masked === false);
  return { name: view.name, columns, primaryKey: keyReadable ? [...view.key] : [] };
}

/**
 * A service's views as one "source" of the embedded engine. `scan` runs the caller's governed
 * query on the view: the engine's pushed predicate is ANDed to the row filter, never replaces it,
 * and no order is taken, so rows come back in no order a hidden key could reveal.
 */
export class GovernedViews extends ComputedSource {
  readonly kind = 'view';

  constructor(
    readonly name: string,
    private readonly identity: Identity,
    private readonly relations: ReadonlyMap<ViewId, SqlRelation>,
  ) {
    super();
  }

  private relation(table: string): SqlRelation {
    const r = this.relations.get(`${this.name}.${table}` as ViewId);
    if (!r) throw noSuchRelation(`${this.name}.${table}`);
    return r;
  }

  introspect(table: string): Promise<TableInfo> {
    return Promise.resolve(this.relation(table).info);
  }

  async scan(table: string, pushdown: Pushdown, options: ReadOptions = {}): Promise<ScanResult> {
    const { view, access } = this.relation(table);
    const visible = pushdown.columns.filter((c) => c !== ENTITY);
    const fields = visible.length > 0 ? visible : [access.schema.columns[0]!.name];
    // An aggregate-only grant's rows are scanned for a statement that aggregates them
    // (aggregate-policy.ts refuses any other): only groups leave the engine.
    const governed = govern(access.read ? access : { ...access, read: true }, this.identity, view, { fields });
    // The entity column is read below the policy, as aggregates read it for minGroupSize, and renamed.
    const on = pushdown.columns.includes(ENTITY) ? access.minGroupSize?.distinctOn : undefined;
    const columns = on !== undefined && !fields.includes(on) ? [...governed.engine.columns, on] : governed.engine.columns;
    const budget = access.rowBudget;
    const result = await view.engine.execute(
      {
        ...governed.engine,
        columns,
        where: and(governed.engine.where, pushdown.where),
        orderBy: [],
        limit: budget + 1,
        offset: 0,
        count: false,
      },
      options,
    );
    const rows =
      on === undefined
        ? result.rows
        : result.rows.map((row) => {
            const out: Row = { ...row, [ENTITY]: row[on] ?? null };
            if (!fields.includes(on)) delete out[on];
            return out;
          });
    if (result.rows.length > budget) {
      throw new ApiError(
        'row_budget_exceeded',
        `the statement would read more than ${budget} rows of "${view.id}" (its row budget); narrow it with a WHERE condition on that view`,
        { view: view.id, rowBudget: budget },
      );
    }
    return { rows, native: this.ranFor(`governed scan of ${view.id}`, result.queries) };
  }

  override explainScan(table: string): Promise<NativeQuery> {
    return Promise.resolve({ source: this.name, text: `governed scan of ${this.name}.${table}`, params: [] });
  }
}
