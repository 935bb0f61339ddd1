// The rows of a governed statement as the caller gets them (docs/sql.md, "Cursors"): groups below
// a grant's minGroupSize left out, masks applied, then the statement's ORDER BY, LIMIT and OFFSET
// on a total order (its terms, then every output as the caller sees it, masked ones masked), and
// the page a cursor names. Rows that tie on everything the caller sees are interchangeable, so a
// cursor's offset names the same rows on every run, and no order reveals a masked value.
import type { OutputColumn, ViewModel } from '../../engine/embedded/ast.js';
import { sortCompare } from '../../engine/embedded/execute.js';
import { columnTypeOf, type SqlType } from '../../engine/embedded/sql-types.js';
import type { ViewAccess } from '../../policy/access.js';
import { grantFingerprint, invalidCursor, statementFingerprint, type CursorBinding, type CursorPosition } from '../../policy/cursor.js';
import type { MaskFn } from '../../policy/mask.js';
import { compareForSort, type ColumnType, type Row } from '../../values.js';
import type { GroupSize } from './aggregate-policy.js';

// Hidden outputs: no statement can name them (the allow-list refuses the NUL character).
const ORDER = '\u0000order';
const SIZE = '\u0000size';

export interface PagedStatement {
  /** The statement without ORDER BY, LIMIT and OFFSET, with hidden outputs for its order terms and group sizes. */
  model: ViewModel;
  order: { name: string; type: SqlType; desc: boolean; nullsFirst: boolean }[];
  sizes: GroupSize[];
  visible: { name: string; type: ColumnType }[];
  limit?: number;
  offset: number;
}

export function pagedStatement(model: ViewModel, sizes: GroupSize[]): PagedStatement {
  const order = model.orderBy.map((o, i) => ({ name: `${ORDER}${i}`, type: o.expr.type, desc: o.desc, nullsFirst: o.nullsFirst }));
  const hidden: OutputColumn[] = [
    ...model.orderBy.map((o, i) => ({ name: order[i]!.name, expr: o.expr, type: o.expr.type, nullable: true })),
    ...sizes.map((s, i) => ({
      name: `${SIZE}${i}`,
      expr: { kind: 'slot' as const, slot: s.slot, type: 'int8' as const },
      type: 'int8' as const,
      nullable: false,
    })),
  ];
  const { orderBy: _order, limit, offset, ...rest } = model;
  return {
    model: { ...rest, outputs: [...model.outputs, ...hidden], orderBy: [] },
    order,
    sizes,
    visible: model.outputs.map((o) => ({ name: o.name, type: columnTypeOf(o.type) })),
    ...(limit !== undefined ? { limit } : {}),
    offset: offset ?? 0,
  };
}

export interface Page {
  rows: Row[];
  /** Groups left out by minGroupSize, over the whole result. */
  suppressed: number;
  /** More rows follow the page. */
  more: boolean;
}

/** `masks`: by output name; `start`: the rows earlier pages returned (a cursor's offset); `limit`: the page size. */
export function cutPage(p: PagedStatement, rows: Row[], masks: ReadonlyMap<string, MaskFn>, start: number, limit: number): Page {
  let suppressed = 0;
  const kept = rows.filter((r) => {
    const small = p.sizes.some((s, i) => (r[`${SIZE}${i}`] as bigint) < BigInt(s.k));
    if (small) suppressed++;
    return !small;
  });
  for (const r of kept) for (const [name, mask] of masks) r[name] = mask(r[name] ?? null);
  kept.sort((a, b) => {
    for (const o of p.order) {
      const c = sortCompare(o.type, a[o.name] ?? null, b[o.name] ?? null, o.desc, o.nullsFirst);
      if (c !== 0) return c;
    }
    for (const v of p.visible) {
      const c = compareForSort(masks.has(v.name) ? 'text' : v.type, a[v.name] ?? null, b[v.name] ?? null, false);
      if (c !== 0) return c;
    }
    return 0;
  });
  const result = kept.slice(p.offset, p.limit === undefined ? undefined : p.offset + p.limit);
  const page = result.slice(start, start + limit);
  return {
    rows: page.map((r) => Object.fromEntries(p.visible.map((v) => [v.name, r[v.name] ?? null]))),
    suppressed,
    more: result.length > start + limit,
  };
}

/** What a statement's cursor is bound to: the caller, the statement and its limit, and the grant of every view read. */
export function sqlCursorBinding(
  identityKey: string,
  sql: string,
  limit: number | undefined,
  accesses: readonly ViewAccess[],
): CursorBinding {
  return { identityKey, view: '_sql', query: statementFingerprint(sql, limit), grant: accesses.map(grantFingerprint).join('.') };
}

/** The rows earlier pages returned, as an opened cursor holds them. */
export function cursorOffset(at: CursorPosition): number {
  const [n] = at.values;
  // The cursor is bound to this statement, so another shape means it was sealed by other code.
  if (at.values.length !== 1 || at.tag !== undefined || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw invalidCursor('it does not fit this query');
  }
  return n;
}
