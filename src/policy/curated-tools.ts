// Curated tools under the policy (docs/tools.md). Which tools a role may use is decided from the
// config alone, so a caller's tool list is the same on every call whatever the stores are doing: the
// role's deciding grant on the tool's view reads (rows) or aggregates (aggregate tools), every column
// the tool returns is in the role's schema, and every column it filters, orders or groups on is
// visible and unmasked (a masked one only inside count). Whether a tool fits its built view (its
// columns exist; each parameter meets a column of its type; literals fit) is checked with the
// grants, so start-up and `viewgate check` report it. A tool only narrows: the call runs as a
// query of the caller, under its row filter, masks, limits, rate limit, cache and audit.
import type { Config, GrantConfig } from '../config/schema.js';
import { parseViewId, type ViewId } from '../config/view-id.js';
import type { View } from '../engine/view.js';
import { astFields, astLeaves, mapLits, type Lit } from '../query/ast.js';
import { bindFilter } from '../query/bind.js';
import { compileTool, type CompiledTool, type ParamType } from '../query/tool-query.js';
import type { ColumnType } from '../values.js';
import { readGrant } from './grants.js';
import { CLAIM_SAMPLE, type PolicyProblem } from './validate.js';
import { isNullMask } from './mask.js';

export interface CuratedTool extends CompiledTool {
  readonly view: ViewId;
  readonly description: string;
  readonly aggregate: boolean;
  /** Columns it returns; undefined: the caller's schema (a row tool without fields). */
  readonly returned?: readonly string[];
  /** Columns it filters, orders or groups on. */
  readonly compared: readonly string[];
  /** The columns its metrics read, with the function. */
  readonly aggregated: readonly { fn: string; field: string }[];
}

/** A parameter may meet a column of its own type; an integer may also meet a float or numeric column. */
function fits(param: ParamType, column: ColumnType): boolean {
  return param === column || (param === 'int' && (column === 'float' || column === 'numeric'));
}

/** A value of each parameter type, standing in for the caller's when the filter is checked at load. */
const SAMPLE: Record<ParamType, Lit> = {
  text: { kind: 'string', value: 'x' },
  int: { kind: 'number', text: '1' },
  float: { kind: 'number', text: '1.5' },
  numeric: { kind: 'number', text: '1.5' },
  bool: { kind: 'bool', value: true },
  timestamptz: { kind: 'string', value: '2024-01-01T00:00:00Z' },
  date: { kind: 'string', value: '2024-01-01' },
};

function curated(name: string, config: Config['tools'][string]): CuratedTool {
  const compiled = compileTool(name, config);
  const q = compiled.base;
  const filterColumns = compiled.filter ? astFields(compiled.filter).map((f) => f.field) : [];
  const agg = q.aggregate;
  const compared = agg ? [...filterColumns, ...agg.group] : [...filterColumns, ...(q.order ?? []).map((o) => o.field)];
  const aggregated = agg
    ? agg.select.flatMap((s) => (s.kind === 'metric' && s.metric.field !== undefined ? [{ fn: s.metric.fn, field: s.metric.field }] : []))
    : [];
  return Object.freeze({
    ...compiled,
    view: parseViewId(config.view)!,
    description: config.description,
    aggregate: agg !== undefined,
    ...(q.fields ? { returned: Object.freeze([...q.fields]) } : {}),
    compared: Object.freeze([...new Set(compared)]),
    aggregated: Object.freeze(aggregated),
  });
}

export class CuratedTools {
  readonly all: readonly CuratedTool[];
  private readonly byRole = new Map<string, readonly CuratedTool[]>();

  constructor(private readonly config: Config) {
    // A config built in code (not loaded from a file) may leave tools out.
    this.all = Object.freeze(Object.entries(config.tools ?? {}).map(([name, t]) => curated(name, t)));
  }

  /** The tools the role may use, in config order (the same list on every call). */
  usableBy(role: string): readonly CuratedTool[] {
    let tools = this.byRole.get(role);
    if (!tools) {
      tools = Object.freeze(this.all.filter((t) => this.mayUse(role, t)));
      this.byRole.set(role, tools);
    }
    return tools;
  }

  /** The tool by name when the role may use it; any other name is a tool that does not exist for it. */
  find(role: string, name: string): CuratedTool | undefined {
    return this.usableBy(role).find((t) => t.name === name);
  }

  private mayUse(role: string, tool: CuratedTool): boolean {
    const decided = readGrant(this.config, role, tool.view);
    if (!decided) return false;
    const g: GrantConfig = decided.grant;
    if (tool.aggregate ? !g.aggregate : !g.read) return false;
    const visible = (c: string) => !g.fields || g.fields.includes(c);
    const masked = (c: string) => Object.hasOwn(g.masks, c);
    if (tool.returned?.some((c) => !visible(c))) return false;
    if (tool.compared.some((c) => !visible(c) || masked(c))) return false;
    for (const m of tool.aggregated) {
      if (!visible(m.field) || (masked(m.field) && (m.fn !== 'count' || isNullMask(g.masks[m.field])))) return false;
      // An aggregate-only grant allows no function that returns one row's value.
      if (!g.read && (m.fn === 'min' || m.fn === 'max')) return false;
    }
    return true;
  }

  /** How the tools on these built views do not fit them. */
  problems(views: readonly View[]): PolicyProblem[] {
    const out: PolicyProblem[] = [];
    for (const view of views) {
      for (const tool of this.all.filter((t) => t.view === view.id)) out.push(...toolViewProblems(tool, view));
    }
    return out;
  }
}

function toolViewProblems(tool: CuratedTool, view: View): PolicyProblem[] {
  const path = `tools.${tool.name}`;
  const types = new Map(view.columns.map((c) => [c.name, c.type]));
  const named = [...(tool.returned ?? []), ...tool.compared, ...tool.aggregated.map((m) => m.field)];
  const missing = [...new Set(named.filter((c) => !types.has(c)))];
  if (missing.length > 0) {
    return [{ path, message: `tool "${tool.name}": view "${view.id}" has no column ${missing.map((c) => `"${c}"`).join(', ')}` }];
  }
  if (!tool.filter) return [];
  const out: PolicyProblem[] = [];
  for (const leaf of astLeaves(tool.filter)) {
    const column = types.get(leaf.field)!;
    const lits =
      leaf.kind === 'cmp' || leaf.kind === 'like'
        ? [leaf.value]
        : leaf.kind === 'in'
          ? leaf.values
          : leaf.kind === 'between'
            ? [leaf.low, leaf.high]
            : [];
    let mismatched = false;
    for (const lit of lits) {
      if (lit.kind !== 'param') continue;
      const spec = tool.params[lit.name];
      if (spec && !fits(spec.type, column)) {
        mismatched = true;
        out.push({
          path: `${path}.params.${lit.name}`,
          message: `tool "${tool.name}": parameter "${lit.name}" is ${spec.type}, but the column it meets, ${leaf.field}, is ${column}`,
        });
      }
    }
    if (mismatched) continue;
    // Each comparison bound with stand-in values: a literal that cannot fit its column, or a column
    // that cannot be compared, stops start-up instead of failing every call.
    const sample = mapLits(leaf, (l) => (l.kind === 'param' ? SAMPLE[tool.params[l.name]?.type ?? 'text'] : l));
    try {
      bindFilter(sample, { columnType: (name) => types.get(name)!, claim: () => CLAIM_SAMPLE[column] });
    } catch (err) {
      out.push({ path: `${path}.filter`, message: `tool "${tool.name}" on view "${view.id}": ${(err as Error).message}` });
    }
  }
  return out;
}
