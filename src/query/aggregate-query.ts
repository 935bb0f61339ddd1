// Aggregates in the client query (docs/query.md, "Aggregates"): `fields` items such as
// `count(*)`, `sum(total) as revenue`, `count(distinct customer_id)`, plus `group` and `having`.
// This checks syntax and names outputs; which fields exist, masks and the grant's rights are the
// policy's (src/policy/govern-aggregate.ts).
import { badRequest } from '../errors.js';
import type { FilterAst } from './ast.js';

export const METRIC_FNS = ['count', 'count_distinct', 'sum', 'avg', 'min', 'max'] as const;
export type MetricFn = (typeof METRIC_FNS)[number];

/** One aggregate the client asks for; `field` is absent only for count(*). */
export interface MetricRequest {
  fn: MetricFn;
  field?: string;
  /** The output name: the alias, or count, count_col, count_distinct_col, sum_col, ... */
  name: string;
  /** Where the client wrote it, for errors: the parameter and the 0-based offset in it. */
  param: string;
  position?: number;
}

/** One output of an aggregate query, in the client's order. */
export type SelectItem = { kind: 'field'; name: string; position?: number } | { kind: 'metric'; metric: MetricRequest };

export interface AggregateRequest {
  select: SelectItem[];
  group: string[];
  having?: FilterAst;
}

const ALIAS = /^[a-z_][a-z0-9_]*$/;
const COLUMN = /^[^\s(),*]+$/;
const CALL = /^([A-Za-z_]+)\s*\(\s*(.*?)\s*\)(?:\s+(\S+)\s+(\S+)|\s+(\S+))?\s*$/s;
const FNS = new Set(['count', 'sum', 'avg', 'min', 'max']);

/** Whether a fields item is written as a function call (an aggregate, or a malformed one). */
export function looksLikeAggregate(item: string): boolean {
  return item.includes('(') || item.includes(')');
}

/** The default output name of an aggregate (SPEC: count, count_col, count_distinct_col, sum_col, ...). */
function defaultMetricName(fn: MetricFn, field: string | undefined): string {
  return field === undefined ? fn : `${fn}_${field}`;
}

/** `message` at position N in param; `hint` says what to write instead. */
function bad(message: string, param: string, position: number | undefined, hint?: string): never {
  throw badRequest(`${message}${position !== undefined ? ` at position ${position}` : ''} in ${param}${hint ? `; ${hint}` : ''}`, {
    param,
    ...(position !== undefined ? { position } : {}),
  });
}

/** Parses one `fn(arg) [as alias]` item written at `position` of `param`. */
export function parseMetric(item: string, param: string, position?: number): MetricRequest {
  const m = CALL.exec(item);
  if (!m) {
    bad(
      `malformed aggregate '${item}'`,
      param,
      position,
      `write count(*), count(col), count(distinct col), sum(col), avg(col), min(col) or max(col), optionally followed by 'as name'`,
    );
  }
  const fnText = m[1]!.toLowerCase();
  if (!FNS.has(fnText)) bad(`unknown aggregate function '${m[1]}'`, param, position, 'the functions are count, sum, avg, min and max');
  const inner = m[2]!;
  let fn = fnText as MetricFn;
  let field: string | undefined;
  if (inner === '*') {
    if (fn !== 'count') bad(`${fn}(*) does not exist`, param, position, 'only count(*) counts rows');
  } else {
    const words = inner.split(/\s+/);
    if (words.length === 2 && words[0]!.toLowerCase() === 'distinct') {
      if (fn !== 'count') bad(`${fn}(distinct ...) is not supported`, param, position, 'only count(distinct col)');
      fn = 'count_distinct';
      field = words[1]!;
    } else if (words.length === 1) {
      field = words[0]!;
    } else {
      bad(`malformed argument '${inner}' of ${fnText}()`, param, position, 'write one column name');
    }
    if (!COLUMN.test(field)) bad(`'${field}' is not a column name in ${fnText}()`, param, position);
  }
  let name = defaultMetricName(fn, field);
  if (m[5] !== undefined) bad(`unexpected '${m[5]}' after ${fnText}(...)`, param, position, "write 'as name' to name the output");
  if (m[3] !== undefined) {
    if (m[3].toLowerCase() !== 'as')
      bad(`unexpected '${m[3]}' after ${fnText}(...)`, param, position, "write 'as name' to name the output");
    const alias = m[4]!;
    if (!ALIAS.test(alias)) bad(`alias '${alias}' must match [a-z_][a-z0-9_]*`, param, position);
    name = alias;
  }
  return { fn, ...(field !== undefined ? { field } : {}), name, param, ...(position !== undefined ? { position } : {}) };
}

/** Two outputs may not share a name: the rows would lose one. */
export function checkDistinctNames(select: SelectItem[], param: string): void {
  const seen = new Set<string>();
  for (const s of select) {
    const name = s.kind === 'field' ? s.name : s.metric.name;
    const position = s.kind === 'field' ? s.position : s.metric.position;
    if (seen.has(name)) bad(`output name "${name}" is used twice`, param, position, "give one of them another name with 'as'");
    seen.add(name);
  }
}

/** `group=col1,col2`: column names, each once. */
export function parseGroup(items: { item: string; pos: number }[], param = 'group'): string[] {
  const out: string[] = [];
  for (const { item, pos } of items) {
    if (item === '') bad('empty column name', param, pos);
    if (!COLUMN.test(item)) bad(`'${item}' is not a column name`, param, pos);
    if (!out.includes(item)) out.push(item);
  }
  return out;
}
