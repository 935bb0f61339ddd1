// describe_view's example query_view call, built from a row the caller may read: one governed
// query (limit 1) through the gateway, so row filters and masks apply as to any other read. The
// example's filter is that row's value of an unmasked filterable column, so running the example
// returns at least that row. An empty view (or a failing read) gives an example without a filter.
// A caller whose grant is aggregate-only (read: false) cannot run query_view: its example is an
// aggregate_view call instead, built from the description alone (no row is read for it).
import type { Gateway, Identity, ViewDescription, VisibleColumn } from '../gateway/index.js';
import type { Lit } from '../query/ast.js';
import { formatFilter } from '../query/filter-format.js';
import type { ColumnType, Value } from '../values.js';

/** Column types whose values compare exactly with a literal; floats and JSON do not. */
const EXAMPLE_TYPES: ColumnType[] = ['text', 'int', 'bool', 'date', 'numeric', 'timestamptz'];
const MAX_TEXT = 60;

export async function exampleArguments(gw: Gateway, identity: Identity, d: ViewDescription): Promise<Record<string, unknown>> {
  if (d.read === false) return aggregateExample(d);
  const args: Record<string, unknown> = { view: d.id, fields: d.columns.slice(0, 4).map((c) => c.name) };
  const filter = await sampleFilter(gw, identity, d).catch(() => undefined);
  if (filter) args.filter = filter;
  if (d.key[0] && d.columns.some((c) => c.name === d.key[0] && c.filterable)) args.order = [d.key[0]];
  args.limit = Math.min(10, d.maxLimit);
  return args;
}

/** `column = value` from the first row the caller may read, preferring a non-key text or number column. */
async function sampleFilter(gw: Gateway, identity: Identity, d: ViewDescription): Promise<string | undefined> {
  const candidates = d.columns
    .filter((c) => c.filterable && !c.masked && EXAMPLE_TYPES.includes(c.type))
    .sort((a, b) => rank(d, a) - rank(d, b));
  if (candidates.length === 0) return undefined;
  const { rows } = await gw.queryView(identity, d.id, { fields: candidates.map((c) => c.name), limit: 1, offset: 0 });
  const row = rows[0];
  if (!row) return undefined;
  for (const c of candidates) {
    const value = literal(c.type, row[c.name]);
    if (value) return formatFilter({ kind: 'cmp', field: c.name, op: '=', value });
  }
  return undefined;
}

/** Non-key columns first (a key value picks one row, a plain value shows filtering), then by type. */
function rank(d: ViewDescription, c: VisibleColumn): number {
  return (d.key.includes(c.name) ? 100 : 0) + EXAMPLE_TYPES.indexOf(c.type);
}

function literal(type: ColumnType, v: Value | undefined): Lit | undefined {
  if (v === null || v === undefined) return undefined;
  if (type === 'bool') return typeof v === 'boolean' ? { kind: 'bool', value: v } : undefined;
  if (type === 'int' || type === 'numeric') {
    return typeof v === 'bigint' || typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v))
      ? { kind: 'number', text: String(v) }
      : undefined;
  }
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT ? { kind: 'string', value: v } : undefined;
}

const SUMMABLE: ColumnType[] = ['int', 'numeric', 'float'];
const GROUPABLE: ColumnType[] = ['text', 'bool', 'date', 'int'];

/** aggregate_view arguments an aggregate-only grant allows: count (and a sum) per value of a non-key column. */
function aggregateExample(d: ViewDescription): Record<string, unknown> {
  const usable = d.columns.filter((c) => c.filterable && !c.masked && !d.key.includes(c.name));
  const group = usable.filter((c) => GROUPABLE.includes(c.type)).sort((a, b) => GROUPABLE.indexOf(a.type) - GROUPABLE.indexOf(b.type))[0];
  const sum = d.aggregate?.functions.includes('sum') ? usable.find((c) => SUMMABLE.includes(c.type) && c.name !== group?.name) : undefined;
  return {
    view: d.id,
    ...(group ? { group_by: [group.name] } : {}),
    metrics: [{ fn: 'count' }, ...(sum ? [{ fn: 'sum', field: sum.name }] : [])],
    ...(group ? { order: ['count desc'], limit: Math.min(10, d.maxLimit) } : {}),
  };
}
