// govern(): turns a client query into what the engine may run for this identity (step 2 of the
// pipeline, docs/architecture.md). The caller's schema is the granted fields; masked fields stay
// visible but cannot be filtered, sorted or looked up; the row filter is ANDed on with claims bound
// as typed values.
import type { Config, GrantConfig } from '../config/schema.js';
import type { View, ViewColumn, EngineQuery } from '../engine/view.js';
import type { ClientQuery } from '../query/client-query.js';
import type { FilterAst } from '../query/ast.js';
import { bindFilter, coerceLiteral } from '../query/bind.js';
import { parseFilter } from '../query/filter-parser.js';
import { and, type OrderTerm, type Predicate } from '../query/predicate.js';
import { isComparableType, type ColumnType } from '../values.js';
import { ApiError, badRequest } from '../errors.js';
import { claimAt, type Claims, type Identity } from './identity.js';
import { compileMask, type MaskFn } from './mask.js';
import { needsOpaqueOrder, type OpaqueOrder } from './opaque-order.js';

export const DEFAULT_MAX_LIMIT = 1000;

/** A column as this caller sees it. */
export interface VisibleColumn extends ViewColumn {
  masked: boolean;
  filterable: boolean;
}

export interface CallerSchema {
  columns: VisibleColumn[];
  byName: Map<string, VisibleColumn>;
  masks: Map<string, MaskFn>;
  maxLimit: number;
}

export interface GovernedQuery {
  /** The query as the caller asked it (also the cache key); see run() in gateway.ts for opaque orders. */
  engine: EngineQuery;
  /** Set when a key column is hidden or masked for the caller: ties are broken by a keyed hash. */
  opaqueOrder?: OpaqueOrder;
  schema: CallerSchema;
  /** Output columns in the caller's order. */
  fields: string[];
}

// Views and grants live as long as the process, and a schema depends only on the pair.
const schemas = new WeakMap<View, WeakMap<GrantConfig, CallerSchema>>();

/** The caller's schema for a view under a grant; computed once per (view, grant). */
export function callerSchema(config: Config, view: View, grant: GrantConfig): CallerSchema {
  let byGrant = schemas.get(view);
  if (!byGrant) schemas.set(view, (byGrant = new WeakMap()));
  let schema = byGrant.get(grant);
  if (!schema) byGrant.set(grant, (schema = buildCallerSchema(config, view, grant)));
  return schema;
}

function buildCallerSchema(config: Config, view: View, grant: GrantConfig): CallerSchema {
  const allowed = grant.fields ? new Set(grant.fields) : undefined;
  const masks = new Map<string, MaskFn>();
  const columns: VisibleColumn[] = [];
  for (const c of view.columns) {
    if (allowed && !allowed.has(c.name)) continue;
    const maskSpec = Object.hasOwn(grant.masks, c.name) ? grant.masks[c.name] : undefined;
    if (maskSpec) masks.set(c.name, compileMask(maskSpec, config.masking.hashSecret));
    const masked = Boolean(maskSpec);
    columns.push({
      ...c,
      // A masked column's values become text (or NULL); its schema says so.
      type: masked && maskSpec !== 'null' ? 'text' : c.type,
      masked,
      filterable: !masked && isComparableType(c.type),
    });
  }
  return {
    columns,
    byName: new Map(columns.map((c) => [c.name, c])),
    masks,
    maxLimit: grant.maxLimit ?? DEFAULT_MAX_LIMIT,
  };
}

function unknownField(name: string, param: string, schema: CallerSchema, pos?: number): ApiError {
  return badRequest(`unknown field "${name}" in ${param}; fields are: ${schema.columns.map((c) => c.name).join(', ')}`, {
    param,
    field: name,
    ...(pos !== undefined ? { position: pos } : {}),
  });
}

function maskedField(name: string, param: string, pos?: number): ApiError {
  return badRequest(`field "${name}" is masked for your role, so it cannot be used in ${param}`, {
    param,
    field: name,
    ...(pos !== undefined ? { position: pos } : {}),
  });
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

const rowFilterCache = new Map<string, FilterAst>();

function parseRowFilter(text: string): FilterAst {
  let ast = rowFilterCache.get(text);
  if (!ast) {
    ast = parseFilter(text, { allowClaims: true, param: 'rowFilter' });
    rowFilterCache.set(text, ast);
  }
  return ast;
}

/** The row filter with the caller's claims bound; a missing claim is a 403, never "all rows". */
export function bindRowFilter(view: View, text: string, claims: Claims, param: 'rowFilter' | 'rowSecurity' = 'rowFilter'): Predicate {
  const types = new Map(view.columns.map((c) => [c.name, c.type]));
  return bindFilter(parseRowFilter(text), {
    param,
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

/** The view's row budget (its own, or engine.rowBudget): also the most rows sorted opaquely at once. */
function viewRowBudget(config: Config, view: View): number {
  const svc = Object.hasOwn(config.services, view.service) ? config.services[view.service] : undefined;
  const own = svc && 'views' in svc && Object.hasOwn(svc.views, view.name) ? svc.views[view.name]!.rowBudget : undefined;
  return own ?? config.engine.rowBudget;
}

export function govern(config: Config, identity: Identity, view: View, grant: GrantConfig, q: ClientQuery): GovernedQuery {
  const schema = callerSchema(config, view, grant);

  const fields = q.fields && q.fields.length > 0 ? q.fields : schema.columns.map((c) => c.name);
  for (const f of fields) if (!schema.byName.has(f)) throw unknownField(f, 'fields', schema);

  const clientWhere = q.filter
    ? bindFilter(q.filter, { param: 'filter', columnType: (name, pos) => clientColumn(schema, view, name, 'filter', pos) })
    : undefined;

  let idsWhere: Predicate | undefined;
  if (q.ids) {
    if (view.key.length !== 1) {
      throw badRequest(`view "${view.id}" has a ${view.key.length === 0 ? 'missing' : 'composite'} key, so ids cannot be used; use filter`, { param: 'ids' });
    }
    const keyCol = view.key[0]!;
    const type = clientColumn(schema, view, keyCol, 'ids');
    const values = q.ids.map((id) => coerceLiteral(type, { kind: 'string', value: id }, { field: keyCol, param: 'ids' }));
    idsWhere = { op: 'in', column: keyCol, values };
  }

  // The view's rowSecurity binds every caller but its exempt roles, ANDed with the grant's filter.
  const rs = view.rowSecurity;
  const securityWhere = rs && !rs.exemptRoles.includes(identity.role) ? bindRowFilter(view, rs.filter, identity.claims, 'rowSecurity') : undefined;
  const rowWhere = and(securityWhere, grant.rowFilter ? bindRowFilter(view, grant.rowFilter, identity.claims) : undefined);
  refuseNul(clientWhere, () => badRequest('filter values cannot contain the NUL character (U+0000)', { param: 'filter' }));
  refuseNul(idsWhere, () => badRequest('ids cannot contain the NUL character (U+0000)', { param: 'ids' }));
  refuseNul(rowWhere, () => new ApiError('forbidden', "a claim used by the row filter contains the NUL character (U+0000)", {}));

  const orderBy: OrderTerm[] = [];
  for (const o of q.order ?? []) {
    clientColumn(schema, view, o.field, 'order');
    if (!orderBy.some((t) => t.column === o.field)) orderBy.push({ column: o.field, desc: o.desc });
  }
  const clientTerms = [...orderBy];
  // The key makes the order total, so pages neither repeat nor skip rows.
  for (const k of view.key) if (!orderBy.some((t) => t.column === k)) orderBy.push({ column: k, desc: false });
  const opaque = needsOpaqueOrder(view.key, schema) ? { key: view.key, clientTerms, maxRows: viewRowBudget(config, view) } : undefined;

  const limit = Math.min(q.limit ?? schema.maxLimit, schema.maxLimit);
  return {
    schema,
    fields,
    ...(opaque ? { opaqueOrder: opaque } : {}),
    engine: {
      columns: fields,
      where: and(rowWhere, clientWhere, idsWhere),
      ...(rowWhere ? { rowFilter: rowWhere } : {}),
      orderBy,
      limit,
      offset: q.offset ?? 0,
      count: q.includeCount ?? false,
      identity: { role: identity.role, claims: identity.claims },
    },
  };
}
