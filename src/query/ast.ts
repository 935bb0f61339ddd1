// The parsed filter, before types: literals are kept as written and bound to column types later
// (src/query/bind.ts). Both the text grammar and the MCP structured form produce this AST.

/**
 * Where a node came from, for error context: a 0-based character (code point) offset into the
 * filter text, or a JSON path such as `filter.and[1]` for structured filters.
 */
export type Pos = number | string;

export type Lit =
  | { kind: 'string'; value: string; pos?: Pos }
  /** The number as written (`-12`, `1.50`, `9223372036854775807`, `1e3`): never rounded through a double. */
  | { kind: 'number'; text: string; pos?: Pos }
  | { kind: 'bool'; value: boolean; pos?: Pos }
  /** Only valid inside `in` lists. */
  | { kind: 'null'; pos?: Pos }
  /** `{claims.a.b}` -> ['a', 'b']; row filters and curated tools only. */
  | { kind: 'claim'; path: string[]; pos?: Pos }
  /** `{params.x}`: a curated tool's parameter, replaced by the caller's value before binding (src/query/tool-params.ts). */
  | { kind: 'param'; name: string; pos?: Pos };

export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type LikeMode = 'like' | 'contains' | 'starts' | 'ends';

export type FilterAst =
  | { kind: 'and'; args: FilterAst[] }
  | { kind: 'or'; args: FilterAst[] }
  | { kind: 'not'; arg: FilterAst }
  | { kind: 'cmp'; field: string; op: CmpOp; value: Lit; pos?: Pos }
  | { kind: 'like'; field: string; mode: LikeMode; negated: boolean; value: Lit; pos?: Pos }
  /** A claim holding an array contributes all its elements to the list. */
  | { kind: 'in'; field: string; negated: boolean; values: Lit[]; pos?: Pos }
  | { kind: 'isnull'; field: string; negated: boolean; pos?: Pos }
  | { kind: 'between'; field: string; negated: boolean; low: Lit; high: Lit; pos?: Pos };

export interface FieldRef {
  field: string;
  pos?: Pos;
}

/** Every field the filter names, in order of appearance (repeats included). */
export function astFields(ast: FilterAst, out: FieldRef[] = []): FieldRef[] {
  switch (ast.kind) {
    case 'and':
    case 'or':
      for (const a of ast.args) astFields(a, out);
      break;
    case 'not':
      astFields(ast.arg, out);
      break;
    default:
      out.push(ast.pos === undefined ? { field: ast.field } : { field: ast.field, pos: ast.pos });
  }
  return out;
}

/** The literals of one leaf. */
function leafLits(ast: FilterAst): Lit[] {
  switch (ast.kind) {
    case 'cmp':
    case 'like':
      return [ast.value];
    case 'in':
      return ast.values;
    case 'between':
      return [ast.low, ast.high];
    default:
      return [];
  }
}

/** Every claim path the filter reads (de-duplicated), e.g. for a cache key over claim values. */
export function astClaims(ast: FilterAst): string[][] {
  const seen = new Map<string, string[]>();
  const visit = (n: FilterAst): void => {
    if (n.kind === 'and' || n.kind === 'or') n.args.forEach(visit);
    else if (n.kind === 'not') visit(n.arg);
    else for (const l of leafLits(n)) if (l.kind === 'claim') seen.set(JSON.stringify(l.path), l.path);
  };
  visit(ast);
  return [...seen.values()];
}

/** Every parameter name the filter reads (de-duplicated, in order of appearance). */
export function astParams(ast: FilterAst): string[] {
  const seen = new Set<string>();
  const visit = (n: FilterAst): void => {
    if (n.kind === 'and' || n.kind === 'or') n.args.forEach(visit);
    else if (n.kind === 'not') visit(n.arg);
    else for (const l of leafLits(n)) if (l.kind === 'param') seen.add(l.name);
  };
  visit(ast);
  return [...seen];
}

/** The comparisons of a filter (its leaves), with their literals. */
export function astLeaves(ast: FilterAst): Exclude<FilterAst, { kind: 'and' | 'or' | 'not' }>[] {
  if (ast.kind === 'and' || ast.kind === 'or') return ast.args.flatMap(astLeaves);
  if (ast.kind === 'not') return astLeaves(ast.arg);
  return [ast];
}

/** A copy with every literal replaced by `f(literal)`. */
export function mapLits(ast: FilterAst, f: (lit: Lit) => Lit): FilterAst {
  switch (ast.kind) {
    case 'and':
    case 'or':
      return { ...ast, args: ast.args.map((a) => mapLits(a, f)) };
    case 'not':
      return { ...ast, arg: mapLits(ast.arg, f) };
    case 'cmp':
    case 'like':
      return { ...ast, value: f(ast.value) };
    case 'in':
      return { ...ast, values: ast.values.map(f) };
    case 'between':
      return { ...ast, low: f(ast.low), high: f(ast.high) };
    case 'isnull':
      return ast;
  }
}

/** A copy without positions, for comparing ASTs from different sources. */
export function stripPositions(ast: FilterAst): FilterAst {
  const lit = (l: Lit): Lit => {
    const { pos: _pos, ...rest } = l;
    return rest as Lit;
  };
  switch (ast.kind) {
    case 'and':
    case 'or':
      return { kind: ast.kind, args: ast.args.map(stripPositions) };
    case 'not':
      return { kind: 'not', arg: stripPositions(ast.arg) };
    case 'cmp':
      return { kind: 'cmp', field: ast.field, op: ast.op, value: lit(ast.value) };
    case 'like':
      return { kind: 'like', field: ast.field, mode: ast.mode, negated: ast.negated, value: lit(ast.value) };
    case 'in':
      return { kind: 'in', field: ast.field, negated: ast.negated, values: ast.values.map(lit) };
    case 'isnull':
      return { kind: 'isnull', field: ast.field, negated: ast.negated };
    case 'between':
      return { kind: 'between', field: ast.field, negated: ast.negated, low: lit(ast.low), high: lit(ast.high) };
  }
}

/** Error context for a position: `{param, position}` for text filters, `{param, path}` for structured ones. */
export function posContext(param: string, pos: Pos | undefined): Record<string, unknown> {
  if (typeof pos === 'number') return { param, position: pos };
  if (typeof pos === 'string') return { param, path: pos };
  return { param };
}

/** " at position 12" / " at filter.and[1]" / "" for messages. */
export function posText(pos: Pos | undefined): string {
  if (typeof pos === 'number') return ` at position ${pos}`;
  if (typeof pos === 'string') return ` at ${pos}`;
  return '';
}
