// The policy of aggregates (docs/security.md, "Aggregate rights"): which aggregates, group
// columns, having and order terms a role may use on a view, giving the AggregateQuery the engine
// runs. A masked field may appear only inside count(col); an aggregate-only grant (read: false)
// allows count, count(distinct), sum and avg only; hidden fields are reported as unknown ones.
import { groupOrder, metricType, type AggregateMetric, type AggregateQuery } from '../engine/aggregate/types.js';
import type { View } from '../engine/view.js';
import { ApiError, badRequest } from '../errors.js';
import type { AggregateRequest, MetricRequest } from '../query/aggregate-query.js';
import { bindFilter } from '../query/bind.js';
import { keysetAfter } from '../query/keyset.js';
import type { OrderTerm, Predicate } from '../query/predicate.js';
import { isComparableType, type ColumnType } from '../values.js';
import type { ViewAccess } from './access.js';
import { invalidCursor, type CursorPosition } from './cursor.js';
import { maskedField, unknownField } from './field-errors.js';
import { isNullMask } from './mask.js';

const ROW_VALUE_FNS = new Set(['min', 'max']);

function notGranted(view: View): ApiError {
  return new ApiError(
    'forbidden',
    `your grant on "${view.id}" lacks aggregate: aggregates and group need \`aggregate: true\` on the grant`,
    { view: view.id, param: 'fields' },
  );
}

/**
 * An aggregate-only grant (read: false) allows no aggregate that returns one row's value (min,
 * max); `described` is the aggregate as the caller wrote it. Governed SQL applies it too.
 */
export function refuseRowValue(access: ViewAccess, view: View, fn: string, described: string, at: Record<string, unknown> = {}): void {
  if (access.read || !ROW_VALUE_FNS.has(fn)) return;
  throw new ApiError(
    'forbidden',
    `${described} returns one row's value, and your grant on "${view.id}" is aggregate-only (read: false): use count, count(distinct), sum or avg`,
    at,
  );
}

/** The 403 of a request for rows under an aggregate-only grant; `hint` says how to aggregate on the surface asked. */
export function aggregateOnlyRows(view: View, hint: string): ApiError {
  return new ApiError('forbidden', `your grant on "${view.id}" is aggregate-only (read: false): rows cannot be read; ${hint}`, {
    view: view.id,
  });
}

function describeMetric(m: MetricRequest): string {
  const arg = m.field === undefined ? '*' : m.fn === 'count_distinct' ? `distinct ${m.field}` : m.field;
  return `${m.fn === 'count_distinct' ? 'count' : m.fn}(${arg})`;
}

function metricOf(access: ViewAccess, view: View, m: MetricRequest): AggregateMetric {
  const { schema } = access;
  const at = { param: m.param, ...(m.position !== undefined ? { position: m.position } : {}) };
  refuseRowValue(access, view, m.fn, describeMetric(m), at);
  if (m.field === undefined) return { name: m.name, fn: m.fn };
  const col = schema.byName.get(m.field);
  if (!col) throw unknownField(m.field, m.param, schema, m.position);
  // A masked value's count says only how many are not NULL; anything else would read it. Under a
  // null mask even that is hidden: every value reads as NULL.
  if (isNullMask(col.mask)) {
    throw badRequest(
      `field "${m.field}" is masked with null for your role: it cannot be aggregated, not even counted (${describeMetric(m)} in ${m.param})`,
      { ...at, field: m.field },
    );
  }
  if (col.masked && m.fn !== 'count') {
    throw badRequest(
      `field "${m.field}" is masked for your role, so it can only be counted with count(${m.field}), not used in ${describeMetric(m)} (${m.param})`,
      { ...at, field: m.field },
    );
  }
  const source = view.columns.find((c) => c.name === m.field)!;
  if (metricType(m.fn, source) === undefined) {
    throw badRequest(`${describeMetric(m)} does not exist for ${m.field} (${source.type}) in ${m.param}`, { ...at, field: m.field });
  }
  return { name: m.name, fn: m.fn, column: m.field };
}

/**
 * The client's aggregate request as this role may run it; `limit`/`offset` as the client gave them.
 * `after`: a cursor's position (the last group's values in groupOrder), opened by the gateway.
 * `rowKeyset` is the same keyset over the rows, given when it selects whole groups (the order is on
 * group columns only) and no group is suppressed (minGroupSize counts every group on every page).
 */
export function governAggregate(
  access: ViewAccess,
  view: View,
  req: AggregateRequest,
  order: { field: string; desc: boolean }[],
  page: { limit?: number; offset?: number; count: boolean },
  after?: CursorPosition,
): { query: AggregateQuery; fields: string[]; rowKeyset?: Predicate } {
  if (!access.aggregate) throw notGranted(view);
  const { schema } = access;
  for (const g of req.group) {
    const col = schema.byName.get(g);
    if (!col) throw unknownField(g, 'group', schema);
    if (col.masked) throw maskedField(g, 'group');
    if (!isComparableType(col.type)) throw badRequest(`field "${g}" (${col.type}) cannot be used in group`, { param: 'group', field: g });
  }
  const metrics = req.select.flatMap((s) => (s.kind === 'metric' ? [metricOf(access, view, s.metric)] : []));
  const types = new Map<string, ColumnType>();
  for (const g of req.group) types.set(g, view.columns.find((c) => c.name === g)!.type);
  for (const m of metrics)
    types.set(m.name, metricType(m.fn, m.column === undefined ? undefined : view.columns.find((c) => c.name === m.column))!);
  const outputs = [...types.keys()];
  const output = (name: string, param: string, pos?: number): ColumnType => {
    const t = types.get(name);
    if (t !== undefined && isComparableType(t)) return t;
    const col = schema.byName.get(name);
    if (col?.masked) throw maskedField(name, param, pos);
    if (!col) throw unknownField(name, param, schema, pos);
    throw badRequest(
      `"${name}" is not an output of this query, so it cannot be used in ${param}; use a group column or an aggregate name: ${outputs.join(', ')}`,
      {
        param,
        field: name,
        ...(pos !== undefined ? { position: pos } : {}),
      },
    );
  };
  const having = req.having
    ? bindFilter(req.having, { param: 'having', columnType: (name, pos) => output(name, 'having', pos) })
    : undefined;
  const orderBy: OrderTerm[] = [];
  for (const o of order) {
    output(o.field, 'order');
    if (!orderBy.some((t) => t.column === o.field)) orderBy.push({ column: o.field, desc: o.desc });
  }
  const limit = Math.min(page.limit ?? schema.maxLimit, schema.maxLimit);
  const keyset = after ? groupKeyset(after, req.group, orderBy, view) : undefined;
  const onGroups = orderBy.every((t) => req.group.includes(t.column));
  return {
    ...(keyset && onGroups && !access.minGroupSize ? { rowKeyset: keyset } : {}),
    fields: req.select.map((s) => (s.kind === 'field' ? s.name : s.metric.name)),
    query: {
      group: req.group,
      metrics,
      ...(access.minGroupSize ? { minGroup: { ...access.minGroupSize } } : {}),
      ...(having ? { having } : {}),
      orderBy,
      ...(keyset ? { after: keyset } : {}),
      limit,
      offset: page.offset ?? 0,
      count: page.count,
    },
  };
}

/** The groups after a cursor's position, over output names; built from server-sealed values only. */
function groupKeyset(after: CursorPosition, group: string[], orderBy: OrderTerm[], view: View): Predicate | undefined {
  const terms = groupOrder({ group, orderBy });
  // The cursor is bound to this query and grant, so a mismatch means it was sealed by other code.
  if (after.values.length !== terms.length || after.tag !== undefined) throw invalidCursor('it does not fit this query');
  const nullable = (name: string) => !group.includes(name) || view.columns.find((c) => c.name === name)?.nullable !== false;
  return keysetAfter(terms, after.values, false, nullable);
}
