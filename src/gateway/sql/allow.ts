// The allow-list of governed SQL (docs/sql.md): the caller's statement, parsed by the real
// PostgreSQL parser, is walked node by node before anything else looks at it. A node outside the
// list is a 400 naming the construct and its position; nothing the list does not name reaches the
// embedded engine's analysis.
import { badRequest, type ApiError } from '../../errors.js';
import { locationOf, parsePostgres, type RawNode } from '../../engine/embedded/parse.js';
import { Refusal } from '../../engine/embedded/refusal.js';
import { linePos } from '../../engine/embedded/errors.js';
import { SCALAR_FUNCTIONS } from '../../engine/embedded/functions.js';

/** Parser nodes a governed statement may contain. */
const NODES = new Set([
  'SelectStmt',
  'ResTarget',
  'ColumnRef',
  'String',
  'A_Star',
  'A_Const',
  'Integer',
  'Float',
  'Boolean',
  'A_Expr',
  'BoolExpr',
  'NullTest',
  'TypeCast',
  'TypeName',
  'CaseExpr',
  'CaseWhen',
  'CoalesceExpr',
  'MinMaxExpr',
  'FuncCall',
  'RangeVar',
  'Alias',
  'JoinExpr',
  'SortBy',
  'List',
  'WithClause',
  'CommonTableExpr',
  'RangeSubselect',
  'SubLink',
]);

/** What a refused node is called in the error. */
const NAMES: Record<string, string> = {
  RangeFunction: 'a function in FROM',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  ParamRef: 'a parameter ($n)',
  SQLValueFunction: 'a session value function (current_user, now(), ...)',
  WindowDef: 'a window (OVER)',
  LockingClause: 'FOR UPDATE/SHARE',
  IntoClause: 'SELECT INTO',
  A_ArrayExpr: 'ARRAY[...]',
  A_Indirection: 'subscripts and field selection',
  RowExpr: 'a row constructor',
  CollateClause: 'COLLATE',
  NullIfExpr: 'NULLIF',
  BooleanTest: 'IS TRUE/IS FALSE',
  GroupingSet: 'GROUPING SETS, ROLLUP and CUBE',
  XmlExpr: 'XML functions',
  RangeTableSample: 'TABLESAMPLE',
  CurrentOfExpr: 'CURRENT OF',
};

/** The functions a statement may call: the aggregates the engine computes exactly. */
export const SQL_FUNCTIONS = ['count', 'sum', 'avg', 'min', 'max'] as const;

export { SCALAR_FUNCTIONS };

/** Every function a statement may call: the aggregates and the scalar functions (functions.ts). */
const FUNCTIONS: readonly string[] = [...SQL_FUNCTIONS, ...SCALAR_FUNCTIONS];

/** Clauses of SELECT refused with the construct's name. */
const SELECT_CLAUSES: [string, string][] = [
  ['windowClause', 'WINDOW'],
  ['intoClause', 'SELECT INTO'],
  ['lockingClause', 'FOR UPDATE/SHARE'],
  ['valuesLists', 'VALUES'],
];

/** A 400 naming the problem and where it is in the text (line and column, 1-based). */
export function sqlError(sql: string, message: string, location: number | undefined): ApiError {
  if (location === undefined) return badRequest(`sql: ${message}`, { param: 'sql' });
  const at = linePos(sql, location);
  return badRequest(`sql at line ${at.line}, column ${at.column}: ${message}`, { param: 'sql', ...at });
}

/** Parses `sql` and refuses anything outside the allow-list; returns the one SELECT's tree. */
export async function allowedStatement(sql: string): Promise<RawNode> {
  if (sql.includes('\u0000')) throw sqlError(sql, 'the statement cannot contain the NUL character (U+0000)', undefined);
  const tree = await parsePostgres(sql).catch((err: unknown) => {
    throw err instanceof Refusal ? sqlError(sql, err.message, err.location) : err;
  });
  const stmts = (tree.stmts ?? []) as RawNode[];
  if (stmts.length === 0) throw sqlError(sql, 'no statement: send one SELECT', undefined);
  if (stmts.length > 1)
    throw sqlError(sql, `one SELECT statement only (found ${stmts.length} statements)`, stmts[1]?.stmt_location as number);
  const stmt = stmts[0]!.stmt as RawNode;
  const tag = Object.keys(stmt)[0]!;
  if (tag !== 'SelectStmt') throw sqlError(sql, `only SELECT is allowed, not ${tag.replace(/Stmt$/, '')}`, 0);
  walk(sql, stmt, undefined);
  return stmt;
}

function walk(sql: string, node: unknown, near: number | undefined): void {
  if (Array.isArray(node)) {
    for (const x of node) walk(sql, x, near);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as RawNode;
  const keys = Object.keys(obj);
  const isNode = keys.length === 1 && /^[A-Z]/.test(keys[0]!);
  if (!isNode) {
    for (const v of Object.values(obj)) walk(sql, v, near);
    return;
  }
  const tag = keys[0]!;
  const body = obj[tag] as RawNode;
  const at = locationOf(body) ?? near;
  if (!NODES.has(tag)) throw sqlError(sql, `${NAMES[tag] ?? tag} is not allowed in governed SQL (docs/sql.md lists what is)`, at);
  if (tag === 'SelectStmt') checkSelect(sql, body, at);
  if (tag === 'FuncCall') checkFunction(sql, body, at);
  if (tag === 'A_Expr') checkOperator(sql, body, at);
  if (tag === 'TypeName' && (body.arrayBounds || body.setof)) throw sqlError(sql, 'array and SETOF types are not allowed', at);
  if (tag === 'CommonTableExpr' && !(body.ctequery as RawNode | undefined)?.SelectStmt)
    throw sqlError(sql, `WITH query "${String(body.ctename)}" must be a SELECT (no INSERT, UPDATE or DELETE)`, at);
  if (tag === 'SubLink' && (body.subLinkType !== 'ANY_SUBLINK' || body.operName))
    throw sqlError(sql, 'only IN (SELECT ...) subqueries are allowed (not EXISTS, ANY/ALL or scalar subqueries)', at);
  if (tag === 'RangeSubselect' && body.lateral) throw sqlError(sql, 'LATERAL is not allowed', at);
  for (const v of Object.values(body)) walk(sql, v, at);
}

function checkSelect(sql: string, sel: RawNode, at: number | undefined): void {
  if (sel.op && sel.op !== 'SETOP_NONE') throw sqlError(sql, 'UNION, INTERSECT and EXCEPT are not allowed', locationOf(sel.rarg) ?? at);
  for (const [key, name] of SELECT_CLAUSES) {
    if (sel[key]) throw sqlError(sql, `${name} is not allowed in governed SQL`, locationOf(sel[key] as RawNode) ?? at);
  }
  const withClause = (sel.withClause?.WithClause ?? sel.withClause) as RawNode | undefined;
  if (withClause?.recursive) throw sqlError(sql, 'WITH RECURSIVE is not allowed in governed SQL', locationOf(withClause) ?? at);
  if (!sel.fromClause) throw sqlError(sql, 'a statement reads views: add FROM service.view', at);
}

function checkFunction(sql: string, f: RawNode, at: number | undefined): void {
  const names = ((f.funcname ?? []) as RawNode[]).map((n) => String(n.String?.sval ?? ''));
  const name = names.join('.');
  // The parser writes SQL-syntax calls (TRIM, SUBSTRING ... FROM, POSITION ... IN) as pg_catalog.name.
  const bare = names.length === 1 || (names.length === 2 && names[0] === 'pg_catalog');
  if (!bare || !FUNCTIONS.includes(names[names.length - 1]!)) {
    throw sqlError(sql, `function ${name}() is not allowed; the functions are ${FUNCTIONS.join(', ')} (docs/sql.md)`, at);
  }
  if (f.over) throw sqlError(sql, `window functions (${name}() OVER) are not allowed`, at);
  if (f.agg_filter) throw sqlError(sql, `${name}() FILTER (...) is not allowed: use CASE inside the aggregate`, at);
  if (f.agg_order || f.agg_within_group) throw sqlError(sql, `ordered aggregates are not allowed`, at);
  if (f.func_variadic) throw sqlError(sql, 'VARIADIC is not allowed', at);
}

/** The operators of the engine's expression language; any other (e.g. `@@`, `~`, `->`) is refused here. */
const OPERATORS = new Set(['=', '<>', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '||', '~~', '!~~', '~~*', '!~~*']);

function checkOperator(sql: string, e: RawNode, at: number | undefined): void {
  const names = ((e.name ?? []) as RawNode[]).map((n) => String(n.String?.sval ?? ''));
  if (names.length !== 1) throw sqlError(sql, `operator ${names.join('.')} is not allowed`, at);
  const kind = e.kind as string;
  if (kind === 'AEXPR_OP' && !OPERATORS.has(names[0]!)) throw sqlError(sql, `operator ${names[0]} is not allowed`, at);
}
