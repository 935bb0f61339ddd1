// A curated tool (docs/tools.md) as a query: compiled once from its config (the filter parsed with
// `{params.x}` and `{claims.x}`, the fixed fields, order, limit or aggregate as a ClientQuery), and
// per call the caller's arguments checked against each parameter's type, enum, min, max and
// pattern and put into the filter as literals. Values never become text that is parsed: they
// replace the parameter nodes of the parsed filter, and govern() binds them to the column's type
// like any literal. A top-level `and` conjunct that reads an absent optional parameter is dropped.
import { Decimal } from 'decimal.js';
import type { CuratedToolConfig, ToolParamConfig } from '../config/schema.js';
import { registerToolCheck } from '../config/tools.js';
import { ApiError, badRequest } from '../errors.js';
import { astParams, mapLits, type FilterAst } from './ast.js';
import { tryCoerce, type Scalar, type ScalarLit } from './bind.js';
import { parseToolAggregate, parseToolQuery, type ClientQuery } from './client-query.js';
import { formatLit } from './filter-format.js';
import { parseFilter } from './filter-parser.js';

export type ParamType = ToolParamConfig['type'];

/** Argument names a tool's parameters cannot take: the paging argument every tool has. */
const RESERVED_ARGS = ['cursor'] as const;

export interface CompiledTool {
  readonly name: string;
  readonly config: CuratedToolConfig;
  readonly params: Readonly<Record<string, ToolParamConfig>>;
  /** The filter as written, parameters and claims unbound. */
  readonly filter?: FilterAst;
  /** The fixed part of every call: fields, order and limit, or the aggregate with its order and limit. */
  readonly base: ClientQuery;
}

/** A config problem of one tool, with the key it is under (`filter`, `params.since`, ...). */
class ToolConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

/** Compiles a tool's config; a ToolConfigError names the key that is wrong. */
export function compileTool(name: string, config: CuratedToolConfig): CompiledTool {
  // A parse error names the argument it is about: the config key of the same name, or `key`.
  const at = <T>(key: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const param = String(err.context.param ?? '').replace(/\[.*$/, '');
      const topLevel = ['fields', 'order', 'limit'].includes(param);
      throw new ToolConfigError(topLevel ? param : param && key === 'aggregate' ? `aggregate.${param}` : key, err.message);
    }
  };
  const filter = config.filter ? at('filter', () => parseFilter(config.filter!, { allowClaims: true, allowParams: true })) : undefined;
  let base: ClientQuery;
  if (config.aggregate) {
    if (config.fields) throw new ToolConfigError('fields', 'an aggregate tool returns its group_by columns and metrics; remove fields');
    const a = config.aggregate;
    base = at('aggregate', () =>
      parseToolAggregate({
        group_by: a.group_by,
        metrics: a.metrics,
        ...(a.having ? { having: a.having } : {}),
        ...(config.order ? { order: config.order } : {}),
        ...(config.limit !== undefined ? { limit: config.limit } : {}),
      }),
    );
  } else {
    base = at('fields', () =>
      parseToolQuery({
        ...(config.fields ? { fields: config.fields } : {}),
        ...(config.order ? { order: config.order } : {}),
        ...(config.limit !== undefined ? { limit: config.limit } : {}),
      }),
    );
  }
  for (const [p, spec] of Object.entries(config.params)) checkParamSpec(p, spec);
  return Object.freeze({ name, config, params: config.params, ...(filter ? { filter } : {}), base });
}

/** What a parameter declares must fit its type: enum values, bounds, pattern, example. */
function checkParamSpec(name: string, spec: ToolParamConfig): void {
  const key = `params.${name}`;
  if ((RESERVED_ARGS as readonly string[]).includes(name)) {
    throw new ToolConfigError(key, `"${name}" is the paging argument of every tool; name the parameter otherwise`);
  }
  if (spec.pattern !== undefined) {
    if (spec.type !== 'text') throw new ToolConfigError(`${key}.pattern`, `pattern checks text; the parameter is ${spec.type}`);
    try {
      new RegExp(spec.pattern, 'u');
    } catch (err) {
      throw new ToolConfigError(`${key}.pattern`, `not a regular expression: ${(err as Error).message}`);
    }
  }
  for (const bound of ['min', 'max'] as const) {
    const v = spec[bound];
    if (v === undefined) continue;
    if (spec.type === 'text' || spec.type === 'bool') {
      throw new ToolConfigError(`${key}.${bound}`, `${bound} bounds numbers, dates and timestamps; the parameter is ${spec.type}`);
    }
    fitting(`${key}.${bound}`, spec.type, v);
  }
  if (
    spec.min !== undefined &&
    spec.max !== undefined &&
    compare(spec.type, fitting('', spec.type, spec.min), fitting('', spec.type, spec.max)) > 0
  ) {
    throw new ToolConfigError(`${key}.min`, 'min is above max');
  }
  spec.enum?.forEach((v, i) => fitting(`${key}.enum.${i}`, spec.type, v));
  if (spec.example !== undefined) {
    try {
      paramLit(name, spec, spec.example);
    } catch (err) {
      throw new ToolConfigError(`${key}.example`, (err as Error).message);
    }
  }
}

/** A config value of the parameter's type, coerced; a ToolConfigError when it is not one. */
function fitting(key: string, type: ParamType, v: string | number | boolean): Scalar {
  const lit = rawLit(v);
  if (!lit) throw new ToolConfigError(key, `${JSON.stringify(v)} is not exact: write integers beyond 2^53 in quotes`);
  const r = tryCoerce(type, lit);
  if ('problem' in r) throw new ToolConfigError(key, `${JSON.stringify(v)} ${r.problem}`);
  return r.value;
}

/** The literal a JSON (MCP) or text (REST) value is, or undefined when it cannot be one. */
function rawLit(raw: unknown): ScalarLit | undefined {
  if (typeof raw === 'string') return { kind: 'string', value: raw };
  if (typeof raw === 'boolean') return { kind: 'bool', value: raw };
  if (typeof raw === 'number' && Number.isFinite(raw) && (!Number.isInteger(raw) || Number.isSafeInteger(raw))) {
    return { kind: 'number', text: String(raw) };
  }
  return undefined;
}

const TYPE_TEXT: Record<ParamType, string> = {
  text: 'text',
  int: 'a whole number',
  float: 'a number',
  numeric: 'a number',
  bool: 'true or false',
  timestamptz: "a timestamp (ISO 8601, e.g. '2024-05-01T10:00:00Z'; no offset means UTC)",
  date: "a date ('YYYY-MM-DD')",
};

/** Orders two coerced values of one type: numbers exactly, dates and timestamps by their canonical UTC text. */
function compare(type: ParamType, a: Scalar, b: Scalar): number {
  if (type === 'int' || type === 'float' || type === 'numeric') return new Decimal(String(a)).comparedTo(new Decimal(String(b)));
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The caller's value of one parameter as a literal of the filter, once it is a value of the
 * declared type inside enum, min, max and pattern; otherwise a 400 naming the parameter.
 */
function paramLit(name: string, spec: ToolParamConfig, raw: unknown): ScalarLit {
  const fail = (message: string) => badRequest(`parameter "${name}" ${message}`, { param: name });
  const lit = rawLit(raw);
  if (!lit) throw fail(`must be ${TYPE_TEXT[spec.type]}, not ${Array.isArray(raw) ? 'a list' : raw === null ? 'null' : `a ${typeof raw}`}`);
  const r = tryCoerce(spec.type, lit);
  if ('problem' in r) throw fail(`must be ${TYPE_TEXT[spec.type]}; ${formatLit(lit)} ${r.problem}`);
  const value = r.value;
  if (typeof value === 'string' && value.includes('\u0000')) throw fail('cannot contain the NUL character (U+0000)');
  if (spec.enum && !spec.enum.some((e) => compare(spec.type, fitting('', spec.type, e), value) === 0)) {
    throw fail(`must be one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}, not ${formatLit(lit)}`);
  }
  if (spec.min !== undefined && compare(spec.type, value, fitting('', spec.type, spec.min)) < 0) {
    throw fail(`must be at least ${JSON.stringify(spec.min)}, not ${formatLit(lit)}`);
  }
  if (spec.max !== undefined && compare(spec.type, value, fitting('', spec.type, spec.max)) > 0) {
    throw fail(`must be at most ${JSON.stringify(spec.max)}, not ${formatLit(lit)}`);
  }
  if (spec.pattern !== undefined && !new RegExp(spec.pattern, 'u').test(String(value))) {
    throw fail(`must match the pattern ${spec.pattern}, not ${formatLit(lit)}`);
  }
  return lit;
}

/**
 * One call of the tool as a ClientQuery: its fixed part, the filter with the caller's values in
 * place of the parameters (conjuncts of absent optional ones dropped), and the cursor if given.
 * An argument the tool does not take, a missing required one and a bad value are 400s naming it.
 */
export function toolQuery(tool: CompiledTool, args: Record<string, unknown>, cursor?: unknown): ClientQuery {
  const names = Object.keys(tool.params);
  for (const name of Object.keys(args)) {
    if (!Object.hasOwn(tool.params, name)) {
      throw badRequest(
        `tool "${tool.name}" has no parameter "${name}"; its parameters are: ${names.length ? names.join(', ') : '(none)'}, and cursor for the next page`,
        { param: name },
      );
    }
  }
  const values = new Map<string, ScalarLit>();
  for (const [name, spec] of Object.entries(tool.params)) {
    const raw = args[name];
    if (raw === undefined || raw === null) {
      if (!spec.optional) throw badRequest(`parameter "${name}" is required`, { param: name });
      continue;
    }
    values.set(name, paramLit(name, spec, raw));
  }
  const q: ClientQuery = { ...tool.base };
  const filter = tool.filter && bindParams(tool.filter, values);
  if (filter) q.filter = filter;
  const paging = cursor !== undefined && cursor !== null ? parseToolQuery({ cursor: cursor as string }) : undefined;
  if (paging?.cursor !== undefined) q.cursor = paging.cursor;
  return q;
}

/** The filter with the values in place of the parameters; top-level conjuncts that read an absent one dropped. */
function bindParams(filter: FilterAst, values: ReadonlyMap<string, ScalarLit>): FilterAst | undefined {
  const kept = (filter.kind === 'and' ? filter.args : [filter]).filter((c) => astParams(c).every((p) => values.has(p)));
  const bound = kept.map((c) => mapLits(c, (l) => (l.kind === 'param' ? values.get(l.name)! : l)));
  if (bound.length === 0) return undefined;
  return bound.length === 1 ? bound[0] : { kind: 'and', args: bound };
}

/** The load-time check of one tool's config that needs the parser (src/config/tools.ts). */
function checkToolConfig(name: string, config: CuratedToolConfig): { key: string; message: string }[] {
  let compiled: CompiledTool;
  try {
    compiled = compileTool(name, config);
  } catch (err) {
    if (err instanceof ToolConfigError) return [{ key: err.key, message: err.message }];
    throw err;
  }
  const out: { key: string; message: string }[] = [];
  const used = compiled.filter ? astParams(compiled.filter) : [];
  for (const p of used) {
    if (!Object.hasOwn(config.params, p))
      out.push({ key: 'filter', message: `the filter reads {params.${p}}, which params does not declare` });
  }
  for (const p of Object.keys(config.params)) {
    if (!used.includes(p)) out.push({ key: `params.${p}`, message: `parameter "${p}" is declared but the filter does not use it` });
  }
  return out;
}

registerToolCheck(checkToolConfig);
