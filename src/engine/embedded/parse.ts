// View SQL -> the statement's shape (relations, joins, clauses), by the real PostgreSQL parser
// (libpg-query). Anything outside the supported SQL (docs/engine.md) is refused here, naming the
// position; expressions stay parser nodes until analyze.ts types them. Governed SQL (a caller's
// statement) also has DISTINCT, HAVING, non-recursive WITH, subqueries in FROM and
// `IN (SELECT ...)` (shapeQuery); a view's SQL does not.
import { parse as pgParse } from 'libpg-query';
import { definitionErrorOf, Refusal } from './refusal.js';

/** A parser node: `{ Tag: body }`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RawNode = Record<string, any>;

export interface RawRelation {
  source: string;
  table: string;
  alias: string;
  location: number;
  /** A subquery in FROM or a reference to a WITH query: its shape (source and table are empty). */
  query?: SyntaxView;
}

interface RawJoin {
  kind: 'inner' | 'left';
  relation: RawRelation;
  on: RawNode;
  location: number;
}

export interface RawTarget {
  /** The alias (`AS name`), if any. */
  name?: string;
  expr: RawNode;
  location: number;
}

interface RawSortItem {
  expr: RawNode;
  desc: boolean;
  nulls: 'default' | 'first' | 'last';
  location: number;
}

export interface SyntaxView {
  from: RawRelation;
  joins: RawJoin[];
  targets: RawTarget[];
  distinct: boolean;
  where?: RawNode;
  groupBy: RawNode[];
  having?: RawNode;
  orderBy: RawSortItem[];
  limit?: number;
  offset?: number;
  /** The `IN (SELECT ...)` subqueries in its expressions, by their SubLink parser node. */
  sublinks: Map<RawNode, SyntaxView>;
}

/** What a statement may contain beyond a view's SQL, and the WITH queries in scope. */
interface Dialect {
  queries: boolean;
  ctes: ReadonlyMap<string, SyntaxView>;
}

const VIEW_SQL: Dialect = { queries: false, ctes: new Map() };

export async function parseViewSql(viewId: string, sql: string): Promise<SyntaxView> {
  try {
    return shape(await parsePostgres(sql));
  } catch (err) {
    throw definitionErrorOf(viewId, sql, err);
  }
}

/** The parse tree of `sql` by PostgreSQL's own parser; a syntax error is a Refusal at its byte offset. */
export async function parsePostgres(sql: string): Promise<RawNode> {
  try {
    return (await pgParse(sql)) as unknown as RawNode;
  } catch (err) {
    const e = err as { message?: string; sqlDetails?: { cursorPosition?: number } };
    const cursor = e.sqlDetails?.cursorPosition;
    throw new Refusal(`syntax error: ${e.message ?? String(err)}`, cursor === undefined ? undefined : charToByte(sql, Math.max(0, cursor)));
  }
}

function charToByte(sql: string, chars: number): number {
  return Buffer.byteLength(sql.slice(0, chars), 'utf8');
}

/** Every view (not subquery) the statement reads, subqueries included, in the order written. */
export function viewReferences(syntax: SyntaxView): RawRelation[] {
  const out: RawRelation[] = [];
  for (const r of [syntax.from, ...syntax.joins.map((j) => j.relation)]) out.push(...(r.query ? viewReferences(r.query) : [r]));
  for (const sub of syntax.sublinks.values()) out.push(...viewReferences(sub));
  return out;
}

/** The node's tag and body. */
export function unwrap(node: RawNode): [string, RawNode] {
  const tag = Object.keys(node)[0]!;
  return [tag, node[tag] as RawNode];
}

/** The best location of a node or of its first located descendant. */
export function locationOf(node: RawNode | undefined): number | undefined {
  if (!node || typeof node !== 'object') return undefined;
  if (typeof node.location === 'number' && node.location >= 0) return node.location;
  for (const v of Object.values(node)) {
    if (v && typeof v === 'object') {
      const l = Array.isArray(v) ? v.map((x) => locationOf(x as RawNode)).find((x) => x !== undefined) : locationOf(v as RawNode);
      if (l !== undefined) return l;
    }
  }
  return undefined;
}

function shape(tree: RawNode): SyntaxView {
  const stmts = (tree.stmts ?? []) as RawNode[];
  if (stmts.length !== 1)
    throw new Refusal(`a view is exactly one SELECT statement (found ${stmts.length} statements)`, stmts[1]?.stmt_location);
  const [tag, sel] = unwrap(stmts[0]!.stmt as RawNode);
  if (tag !== 'SelectStmt') throw new Refusal(`a view is a SELECT statement, not ${tag.replace(/Stmt$/, '')}`, 0);
  return shapeSelect(sel, VIEW_SQL);
}

/** A governed statement's shape (its one SelectStmt node, already through the allow-list). */
export function shapeQuery(stmt: RawNode): SyntaxView {
  const [tag, sel] = unwrap(stmt);
  if (tag !== 'SelectStmt') throw new Refusal(`only SELECT is allowed, not ${tag.replace(/Stmt$/, '')}`, 0);
  return shapeSelect(sel, { queries: true, ctes: new Map() });
}

function shapeSelect(sel: RawNode, outer: Dialect): SyntaxView {
  if (sel.op && sel.op !== 'SETOP_NONE') throw new Refusal('UNION, INTERSECT and EXCEPT are not supported', locationOf(sel.rarg));
  const refuse = (what: string, node: RawNode | undefined): never => {
    throw new Refusal(`${what} is not supported in embedded views`, locationOf(node));
  };
  const dialect = outer.queries && sel.withClause ? withQueries(sel.withClause as RawNode, outer) : outer;
  if (sel.withClause && !dialect.queries) refuse('WITH', sel.withClause);
  const distinct = sel.distinctClause !== undefined;
  if (distinct && !dialect.queries) refuse('DISTINCT', sel.distinctClause[0] ?? sel.targetList?.[0]);
  if (distinct && (sel.distinctClause as (RawNode | null)[]).some((d) => d && Object.keys(d).length > 0))
    throw new Refusal('DISTINCT ON is not supported: use DISTINCT or GROUP BY', locationOf(sel.distinctClause));
  if (sel.havingClause && !dialect.queries) refuse('HAVING', sel.havingClause);
  if (sel.windowClause) refuse('WINDOW', sel.windowClause[0]);
  if (sel.intoClause) refuse('SELECT INTO', sel.intoClause);
  if (sel.lockingClause) refuse('FOR UPDATE/SHARE', sel.lockingClause[0]);
  if (sel.valuesLists) refuse('VALUES', sel.valuesLists[0]);
  if (sel.groupDistinct) refuse('GROUP BY DISTINCT', sel.groupClause?.[0]);
  if (sel.limitOption === 'LIMIT_OPTION_WITH_TIES') refuse('FETCH ... WITH TIES', sel.limitCount);
  const fromClause = (sel.fromClause ?? []) as RawNode[];
  if (fromClause.length === 0) throw new Refusal('a view needs a FROM clause', 0);
  if (fromClause.length > 1)
    throw new Refusal('comma-separated FROM lists are not supported: write JOIN ... ON', locationOf(fromClause[1]));
  const joins: RawJoin[] = [];
  const from = flattenFrom(fromClause[0]!, joins, dialect);
  const targets = ((sel.targetList ?? []) as RawNode[]).map((t): RawTarget => {
    const [, rt] = unwrap(t);
    const val = rt.val as RawNode;
    const [vt, vb] = unwrap(val);
    if (vt === 'ColumnRef' && (vb.fields as RawNode[]).some((f) => 'A_Star' in f)) {
      throw new Refusal('SELECT * is not supported: list the columns', rt.location as number);
    }
    return { ...(rt.name ? { name: rt.name as string } : {}), expr: val, location: (rt.location as number) ?? locationOf(val) ?? 0 };
  });
  if (targets.length === 0) throw new Refusal('a view needs at least one output column', 0);
  const groupBy = ((sel.groupClause ?? []) as RawNode[]).map((g) => {
    const [gt] = unwrap(g);
    if (gt === 'GroupingSet') refuse('GROUPING SETS, ROLLUP and CUBE', g);
    return g;
  });
  const orderBy = ((sel.sortClause ?? []) as RawNode[]).map((s): RawSortItem => {
    const [, sb] = unwrap(s);
    if (sb.useOp) refuse('ORDER BY ... USING', s);
    const dir = sb.sortby_dir as string | undefined;
    const nulls = sb.sortby_nulls as string | undefined;
    return {
      expr: sb.node as RawNode,
      desc: dir === 'SORTBY_DESC',
      nulls: nulls === 'SORTBY_NULLS_FIRST' ? 'first' : nulls === 'SORTBY_NULLS_LAST' ? 'last' : 'default',
      location: locationOf(sb.node as RawNode) ?? 0,
    };
  });
  const sublinks = new Map<RawNode, SyntaxView>();
  if (dialect.queries) {
    const exprs = [
      targets.map((t) => t.expr),
      sel.whereClause,
      sel.havingClause,
      orderBy.map((o) => o.expr),
      groupBy,
      joins.map((j) => j.on),
    ];
    findSublinks(exprs, dialect, sublinks);
  }
  return {
    from,
    joins,
    targets,
    distinct,
    ...(sel.whereClause ? { where: sel.whereClause as RawNode } : {}),
    groupBy,
    ...(sel.havingClause ? { having: sel.havingClause as RawNode } : {}),
    orderBy,
    sublinks,
    ...(sel.limitCount ? limitValue('limit', sel.limitCount as RawNode) : {}),
    ...(sel.limitOffset ? limitValue('offset', sel.limitOffset as RawNode) : {}),
  };
}

function limitValue(which: 'limit' | 'offset', node: RawNode): { limit?: number; offset?: number } {
  const [tag, body] = unwrap(node);
  if (tag === 'A_Const' && body.isnull) return {}; // LIMIT NULL / LIMIT ALL
  if (tag === 'A_Const' && (body.ival || Object.keys(body).every((k) => k === 'location' || k === 'ival'))) {
    const n = Number(body.ival?.ival ?? 0);
    if (n < 0) throw new Refusal(`${which.toUpperCase()} must not be negative`, body.location as number);
    return { [which]: n };
  }
  throw new Refusal(`${which.toUpperCase()} must be an integer constant`, locationOf(node));
}

function flattenFrom(node: RawNode, joins: RawJoin[], dialect: Dialect): RawRelation {
  const [tag, body] = unwrap(node);
  if (tag === 'RangeVar') return relation(body, dialect);
  if (tag === 'RangeSubselect' && dialect.queries) return subquery(body, dialect);
  if (tag === 'JoinExpr') {
    const left = flattenFrom(body.larg as RawNode, joins, dialect);
    const [rtag, rbody] = unwrap(body.rarg as RawNode);
    const at = locationOf(body.rarg as RawNode) ?? 0;
    const derived = rtag === 'RangeSubselect' && dialect.queries;
    if (rtag !== 'RangeVar' && !derived) {
      throw new Refusal(
        rtag === 'RangeSubselect' ? 'subqueries are not supported' : 'parenthesized joins are not supported: write a chain of JOIN ... ON',
        at,
      );
    }
    if (body.isNatural) throw new Refusal('NATURAL JOIN is not supported: write JOIN ... ON', at);
    if (body.usingClause) throw new Refusal('JOIN ... USING is not supported: write JOIN ... ON', at);
    if (body.alias) throw new Refusal('an alias on a join is not supported', at);
    const jt = body.jointype as string | undefined;
    const kind = jt === undefined || jt === 'JOIN_INNER' ? 'inner' : jt === 'JOIN_LEFT' ? 'left' : undefined;
    if (!kind) throw new Refusal(`${(jt ?? '').replace('JOIN_', '')} JOIN is not supported: only INNER and LEFT joins`, at);
    if (!body.quals) throw new Refusal('CROSS JOIN is not supported: every join needs ON with an equality', at);
    joins.push({ kind, relation: derived ? subquery(rbody, dialect) : relation(rbody, dialect), on: body.quals as RawNode, location: at });
    return left;
  }
  if (tag === 'RangeSubselect') throw new Refusal('subqueries are not supported', locationOf(body));
  if (tag === 'RangeFunction') throw new Refusal('functions in FROM are not supported', locationOf(body));
  throw new Refusal(`${tag} in FROM is not supported`, locationOf(body));
}

/** `(SELECT ...) alias` in FROM. */
function subquery(body: RawNode, dialect: Dialect): RawRelation {
  const location = locationOf(body) ?? 0;
  if (body.lateral) throw new Refusal('LATERAL subqueries are not supported', location);
  const alias = body.alias?.aliasname as string | undefined;
  if (!alias) throw new Refusal('a subquery in FROM needs an alias: (SELECT ...) AS name', location);
  if (body.alias?.colnames) throw new Refusal('column aliases on a subquery are not supported: alias the columns inside it', location);
  const [tag, sel] = unwrap(body.subquery as RawNode);
  if (tag !== 'SelectStmt') throw new Refusal('a subquery in FROM is a SELECT', location);
  return { source: '', table: alias, alias, location, query: shapeSelect(sel, dialect) };
}

/** The scope of a WITH clause: each (non-recursive) query sees the ones before it. */
function withQueries(clause: RawNode, outer: Dialect): Dialect {
  const body = (clause.WithClause ?? clause) as RawNode;
  if (body.recursive) throw new Refusal('WITH RECURSIVE is not supported', locationOf(body));
  const ctes = new Map(outer.ctes);
  for (const node of (body.ctes ?? []) as RawNode[]) {
    const [, cte] = unwrap(node);
    const at = (cte.location as number | undefined) ?? locationOf(cte) ?? 0;
    const name = cte.ctename as string;
    if (cte.aliascolnames) throw new Refusal(`column aliases on WITH query "${name}" are not supported: alias the columns inside it`, at);
    const [tag, sel] = unwrap(cte.ctequery as RawNode);
    if (tag !== 'SelectStmt') throw new Refusal(`WITH query "${name}" must be a SELECT`, at);
    if (ctes.has(name) && !outer.ctes.has(name)) throw new Refusal(`WITH query name "${name}" specified more than once`, at);
    ctes.set(name, shapeSelect(sel, { queries: true, ctes }));
  }
  return { queries: true, ctes };
}

/** Records each `IN (SELECT ...)` under these parser nodes (not inside nested SELECTs, which record their own). */
function findSublinks(node: unknown, dialect: Dialect, out: Map<RawNode, SyntaxView>): void {
  if (Array.isArray(node)) {
    for (const x of node) findSublinks(x, dialect, out);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as RawNode;
  const link = obj.SubLink as RawNode | undefined;
  if (!link) {
    for (const v of Object.values(obj)) findSublinks(v, dialect, out);
    return;
  }
  const at = locationOf(link) ?? 0;
  if (link.subLinkType !== 'ANY_SUBLINK' || link.operName)
    throw new Refusal('only IN (SELECT ...) subqueries are supported (not EXISTS, ANY/ALL or scalar subqueries)', at);
  const [tag, sel] = unwrap(link.subselect as RawNode);
  if (tag !== 'SelectStmt') throw new Refusal('IN (...) holds a SELECT', at);
  out.set(link, shapeSelect(sel, dialect));
  findSublinks(link.testexpr, dialect, out);
}

function relation(rv: RawNode, dialect: Dialect): RawRelation {
  const location = (rv.location as number) ?? 0;
  if (rv.alias?.colnames) throw new Refusal('column aliases on a table are not supported', location);
  const catalog = rv.catalogname as string | undefined;
  const schema = rv.schemaname as string | undefined;
  const rel = rv.relname as string;
  const cte = schema ? undefined : dialect.ctes.get(rel);
  if (cte) {
    const alias = (rv.alias?.aliasname as string | undefined) ?? rel;
    return { source: '', table: alias, alias, location, query: cte };
  }
  if (!schema) throw new Refusal(`table "${rel}" needs its source: write source.table (e.g. crm.${rel})`, location);
  const [source, table] = catalog ? [catalog, `${schema}.${rel}`] : [schema, rel];
  const alias = (rv.alias?.aliasname as string | undefined) ?? rel;
  if (alias.includes('.')) throw new Refusal(`alias "${alias}" must not contain a dot`, location);
  return { source, table, alias, location };
}
