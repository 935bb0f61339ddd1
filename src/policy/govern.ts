// govern(): turns a client query into what the engine may run for this identity (step 2 of the
// pipeline, docs/architecture.md), from the policy's record for the caller's role on the view
// (access.ts). Masked fields stay visible but cannot be filtered, sorted or looked up; the row
// filters are ANDed on with claims bound as typed values.
import type { AggregateQuery } from '../engine/aggregate/types.js';
import type { View, EngineQuery } from '../engine/view.js';
import { parseRestQuery, type ClientQuery } from '../query/client-query.js';
import { bindFilter, coerceLiteral } from '../query/bind.js';
import { keysetAfter } from '../query/keyset.js';
import { and, type OrderTerm, type Predicate } from '../query/predicate.js';
import type { ColumnType } from '../values.js';
import { ApiError, badRequest } from '../errors.js';
import type { ViewAccess } from './access.js';
import type { CallerSchema } from './caller-schema.js';
import { invalidCursor, type CursorPosition } from './cursor.js';
import type { Identity } from './identity.js';
import type { MaskFn } from './mask.js';
import type { OpaqueOrder } from './opaque-order.js';
import type { Policy } from './policy.js';
import { maskedField, unknownField } from './field-errors.js';
import { aggregateOnlyRows, governAggregate } from './govern-aggregate.js';
import { bindRowFilter, claimValue } from './row-filter.js';

// Only this module holds it: a GovernedQuery comes from govern() or, by name, ungovernedQuery().
const issued = Symbol('governed query');

/** A query the engine may run: only govern() (and the administrator's ungovernedQuery()) make one. */
export class GovernedQuery {
  /** The query as the caller asked it (also the cache key); see run() in the gateway for opaque orders. */
  readonly engine: EngineQuery;
  /** Output columns in the caller's order. */
  readonly fields: string[];
  /** Applied to the rows after the engine. */
  readonly masks: ReadonlyMap<string, MaskFn>;
  /** Set when a key column is hidden or masked for the caller: ties are broken by a keyed hash. */
  readonly opaqueOrder?: OpaqueOrder;
  /** Groups instead of rows (engine.where selects the rows grouped): src/engine/aggregate/run.ts. */
  readonly aggregate?: AggregateQuery;
  /** count_only: only the number of rows matching engine.where. */
  readonly countOnly: boolean;

  constructor(
    token: typeof issued,
    parts: {
      engine: EngineQuery;
      fields: string[];
      masks: ReadonlyMap<string, MaskFn>;
      opaqueOrder?: OpaqueOrder;
      aggregate?: AggregateQuery;
      countOnly?: boolean;
    },
  ) {
    if (token !== issued) throw new TypeError('a GovernedQuery comes from govern()');
    this.engine = parts.engine;
    this.fields = parts.fields;
    this.masks = parts.masks;
    if (parts.opaqueOrder) this.opaqueOrder = parts.opaqueOrder;
    if (parts.aggregate) this.aggregate = parts.aggregate;
    this.countOnly = parts.countOnly ?? false;
    Object.freeze(this);
  }
}

/** Resolves a field the client names in filter, order or ids: visible, unmasked, comparable. */
function clientColumn(schema: CallerSchema, view: View, name: string, param: string, pos?: number): ColumnType {
  const col = schema.byName.get(name);
  if (!col) throw unknownField(name, param, schema, pos);
  if (col.masked) throw maskedField(name, param, pos);
  if (!col.filterable) {
    throw badRequest(`field "${name}" (${col.type}) cannot be used in ${param}`, { param, field: name });
  }
  return view.columns.find((c) => c.name === name)!.type;
}

/**
 * No store takes every string: PostgreSQL text cannot hold U+0000 and fails the whole query. A
 * value carrying it is refused up front, the same way for every store, instead of becoming a 502.
 */
function refuseNul(p: Predicate | undefined, error: () => ApiError): void {
  if (!p) return;
  const bad = (v: unknown) => typeof v === 'string' && v.includes('\u0000');
  switch (p.op) {
    case 'and':
    case 'or':
      for (const a of p.args) refuseNul(a, error);
      return;
    case 'not':
      return refuseNul(p.arg, error);
    case 'cmp':
      if (bad(p.value)) throw error();
      return;
    case 'in':
      if (p.values.some(bad)) throw error();
      return;
    case 'like':
      if (bad(p.pattern)) throw error();
      return;
    default:
      return;
  }
}

/**
 * What a query may combine, and what an aggregate-only grant (read: false) may ask: no rows, only
 * aggregates and count_only.
 */
function refuseShape(access: ViewAccess, view: View, q: ClientQuery): void {
  if (q.countOnly) {
    const other = q.aggregate
      ? 'fields aggregates or group'
      : q.fields
        ? 'fields'
        : q.ids
          ? 'ids'
          : q.includeCount
            ? 'include_count'
            : undefined;
    if (other) throw badRequest(`count_only answers a number only, so it cannot be combined with ${other}`, { param: 'count_only' });
  }
  if (q.aggregate && q.ids) throw badRequest('ids selects rows; with aggregates use filter', { param: 'ids' });
  if (q.countOnly && q.cursor) {
    throw badRequest('count_only answers one number, so there is no page for cursor to continue', { param: 'cursor' });
  }
  if (!q.aggregate && !q.countOnly && !access.read) {
    throw aggregateOnlyRows(view, 'ask for aggregates (fields=count(*), group=...) or count_only=true');
  }
}

/**
 * `after`: where the previous page ended, from a cursor the gateway opened and checked
 * (src/policy/cursor.ts); the keyset predicate is built here from those server-sealed values, never
 * from anything the caller wrote. `maxRows`: the most rows the query may return, the grant's
 * maxLimit for a page; an export passes its own cap (ViewAccess.maxExportRows).
 */
export function govern(
  access: ViewAccess,
  identity: Identity,
  view: View,
  q: ClientQuery,
  after?: CursorPosition,
  maxRows = access.schema.maxLimit,
): GovernedQuery {
  const { schema } = access;
  refuseShape(access, view, q);

  const fields = q.fields && q.fields.length > 0 ? q.fields : schema.columns.map((c) => c.name);
  for (const f of fields) if (!schema.byName.has(f)) throw unknownField(f, 'fields', schema);

  // A client's own filter cannot name a claim (the parser refuses it); a curated tool's can
  // (docs/tools.md), and it is bound to the caller's claims like a row filter.
  const clientWhere = q.filter
    ? bindFilter(q.filter, {
        param: 'filter',
        columnType: (name, pos) => clientColumn(schema, view, name, 'filter', pos),
        claim: (path) => claimValue(identity.claims, path),
      })
    : undefined;

  let idsWhere: Predicate | undefined;
  if (q.ids) {
    if (view.key.length !== 1) {
      throw badRequest(
        `view "${view.id}" has a ${view.key.length === 0 ? 'missing' : 'composite'} key, so ids cannot be used; use filter`,
        { param: 'ids' },
      );
    }
    const keyCol = view.key[0]!;
    const type = clientColumn(schema, view, keyCol, 'ids');
    const values = q.ids.map((id) => coerceLiteral(type, { kind: 'string', value: id }, { field: keyCol, param: 'ids' }));
    idsWhere = { op: 'in', column: keyCol, values };
  }

  // The view's rowSecurity binds every caller but its exempt roles, ANDed with the grant's filter.
  const rowWhere = and(...access.rowFilters.map((f) => bindRowFilter(view, f, identity.claims)));
  refuseNul(clientWhere, () => badRequest('filter values cannot contain the NUL character (U+0000)', { param: 'filter' }));
  refuseNul(idsWhere, () => badRequest('ids cannot contain the NUL character (U+0000)', { param: 'ids' }));
  refuseNul(rowWhere, () => new ApiError('forbidden', 'a claim used by the row filter contains the NUL character (U+0000)', {}));

  if (q.aggregate || q.countOnly) {
    const base: EngineQuery = {
      columns: [],
      where: and(rowWhere, clientWhere),
      ...(rowWhere ? { rowFilter: rowWhere } : {}),
      orderBy: [],
      limit: 1,
      offset: 0,
      count: false,
      identity: { role: identity.role, claims: identity.claims },
      ...(access.storeRowSecurity ? { storeRowSecurity: access.storeRowSecurity } : {}),
    };
    if (!q.aggregate) return new GovernedQuery(issued, { fields: [], masks: new Map(), engine: base, countOnly: true });
    const agg = governAggregate(
      access,
      view,
      q.aggregate,
      q.order ?? [],
      {
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(q.offset !== undefined ? { offset: q.offset } : {}),
        count: q.includeCount ?? false,
      },
      after,
    );
    // A keyset on group columns only selects whole groups: the store skips the rows of earlier ones.
    const engine = agg.rowKeyset ? { ...base, where: and(base.where, agg.rowKeyset) } : base;
    return new GovernedQuery(issued, { fields: agg.fields, masks: new Map(), engine, aggregate: agg.query });
  }

  const orderBy: OrderTerm[] = [];
  for (const o of q.order ?? []) {
    clientColumn(schema, view, o.field, 'order');
    if (!orderBy.some((t) => t.column === o.field)) orderBy.push({ column: o.field, desc: o.desc });
  }
  const clientTerms = [...orderBy];
  // The key makes the order total, so pages neither repeat nor skip rows.
  for (const k of view.key) if (!orderBy.some((t) => t.column === k)) orderBy.push({ column: k, desc: false });
  const opaque = access.opaqueOrder ? { key: view.key, clientTerms, maxRows: access.rowBudget } : undefined;
  const keyset = after ? continuation(after, opaque ? clientTerms : orderBy, opaque !== undefined, view) : undefined;
  const opaqueAfter = opaque && after ? { ...opaque, after: { values: after.values, tag: after.tag! } } : opaque;

  const limit = Math.min(q.limit ?? maxRows, maxRows);
  return new GovernedQuery(issued, {
    fields,
    masks: schema.masks,
    ...(opaqueAfter ? { opaqueOrder: opaqueAfter } : {}),
    engine: {
      columns: fields,
      where: and(rowWhere, clientWhere, idsWhere, keyset),
      ...(rowWhere ? { rowFilter: rowWhere } : {}),
      orderBy,
      limit,
      offset: q.offset ?? 0,
      count: q.includeCount ?? false,
      identity: { role: identity.role, claims: identity.claims },
      ...(access.storeRowSecurity ? { storeRowSecurity: access.storeRowSecurity } : {}),
    },
  });
}

/**
 * The keyset predicate of a cursor's position. With an opaque order only the client's terms are
 * compared in the store (inclusive: the rows tying with the last one are told apart by their tag in
 * the gateway), so no value of a hidden or masked key ever reaches a predicate.
 */
function continuation(after: CursorPosition, terms: OrderTerm[], opaque: boolean, view: View): Predicate | undefined {
  // The cursor is bound to this query and grant, so a mismatch means it was sealed by other code.
  if (after.values.length !== terms.length || opaque !== (after.tag !== undefined)) throw invalidCursor('it does not fit this query');
  const nullable = (name: string) => view.columns.find((c) => c.name === name)?.nullable !== false;
  return keysetAfter(terms, after.values, opaque, nullable);
}

/**
 * The administrator's query (`viewgate explain`): no grant, no masks, no row filter; named so that
 * every path around govern() says so. `identity` is passed to engines that enforce it themselves
 * (a hub view's rowSecurity).
 */
export function ungovernedQuery(
  policy: Policy,
  view: View,
  args: { filter?: string; order?: string; limit?: string; fields?: string },
  identity?: EngineQuery['identity'],
): GovernedQuery {
  const q = parseRestQuery({ filter: args.filter, order: args.order, limit: args.limit, fields: args.fields });
  const types = new Map(view.columns.map((c) => [c.name, c.type]));
  const columnType = (name: string) => {
    const t = types.get(name);
    if (!t) throw badRequest(`unknown field "${name}"; fields are: ${[...types.keys()].join(', ')}`, { field: name });
    return t;
  };
  const orderBy = (q.order ?? []).map((o) => (columnType(o.field), { column: o.field, desc: o.desc }));
  for (const k of view.key) if (!orderBy.some((t) => t.column === k)) orderBy.push({ column: k, desc: false });
  for (const f of q.fields ?? []) columnType(f);
  const columns = q.fields ?? view.columns.map((c) => c.name);
  const storeRowSecurity = policy.storeRowSecurity(view, identity?.role);
  return new GovernedQuery(issued, {
    fields: columns,
    masks: new Map(),
    engine: {
      columns,
      where: q.filter ? bindFilter(q.filter, { columnType }) : undefined,
      orderBy,
      limit: q.limit ?? 100,
      offset: q.offset ?? 0,
      count: false,
      ...(identity ? { identity } : {}),
      ...(storeRowSecurity ? { storeRowSecurity } : {}),
    },
  });
}
