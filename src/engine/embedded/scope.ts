// Names in the view's SQL: FROM entries bound to the sources' tables, column references resolved
// against the relations in scope.
import type { TableInfo } from '../../sources/source.js';
import type { Expr, Relation, ViewModel } from './ast.js';
import type { RawNode, RawRelation } from './parse.js';
import { Refusal } from './refusal.js';
import { columnTypeOf, sqlTypeOfColumn } from './sql-types.js';

export type TableLookup = (source: string, table: string, location: number) => Promise<{ kind: string; info: TableInfo }>;

/** The relations an expression may name, and whether aggregates are allowed where it stands. */
export interface Scope {
  relations: Relation[];
  allowAggregates: boolean;
  /** The analyzed `IN (SELECT ...)` subqueries that may stand here, by their SubLink parser node. */
  sublinks?: ReadonlyMap<RawNode, { index: number; model: ViewModel }>;
}

/** A subquery in FROM or a WITH query, analyzed. */
export type AnalyzeQuery = (raw: RawRelation) => Promise<ViewModel>;

/** The FROM and JOIN entries bound to their tables (or analyzed, for subqueries), each alias used once. */
export async function bindRelations(raws: RawRelation[], lookup: TableLookup, analyzeQuery?: AnalyzeQuery): Promise<Relation[]> {
  const relations = await Promise.all(
    raws.map((r, i) => (r.query && analyzeQuery ? derivedRelation(r, i, analyzeQuery) : resolveRelation(r, i, lookup))),
  );
  const seen = new Set<string>();
  raws.forEach((r) => {
    if (seen.has(r.alias)) throw new Refusal(`table name "${r.alias}" is used more than once: give each table its own alias`, r.location);
    seen.add(r.alias);
  });
  return relations;
}

async function resolveRelation(raw: RawRelation, index: number, lookup: TableLookup): Promise<Relation> {
  const { kind, info } = await lookup(raw.source, raw.table, raw.location);
  return {
    index,
    alias: raw.alias,
    source: raw.source,
    sourceKind: kind,
    table: raw.table,
    info,
    columns: new Map(
      info.columns.map((c) => [
        c.name,
        { type: sqlTypeOfColumn(c), nullable: c.nullable, ...(c.description ? { description: c.description } : {}) },
      ]),
    ),
    primaryKey: info.primaryKey,
  };
}

/** Source name of the relations that are subqueries (no service can be named so). */
export const SUBQUERY_SOURCE = '(subquery)';

async function derivedRelation(raw: RawRelation, index: number, analyzeQuery: AnalyzeQuery): Promise<Relation> {
  const query = await analyzeQuery(raw);
  return {
    index,
    alias: raw.alias,
    source: SUBQUERY_SOURCE,
    sourceKind: 'subquery',
    table: raw.alias,
    info: {
      name: raw.alias,
      columns: query.outputs.map((o) => ({ name: o.name, type: columnTypeOf(o.type), nullable: o.nullable, nativeType: o.type })),
      primaryKey: [],
    },
    columns: new Map(query.outputs.map((o) => [o.name, { type: o.type, nullable: o.nullable }])),
    primaryKey: [],
    query,
  };
}

export function columnRef(b: RawNode, scope: Scope, loc: number): Expr {
  const fields = (b.fields as RawNode[]).map((f) => f.String?.sval as string);
  if (fields.length === 1) {
    const name = fields[0]!;
    const hits = scope.relations.filter((r) => r.columns.has(name));
    if (hits.length === 0) throw new Refusal(`column "${name}" does not exist in ${scope.relations.map((r) => r.alias).join(', ')}`, loc);
    if (hits.length > 1)
      throw new Refusal(`column reference "${name}" is ambiguous: qualify it (${hits.map((h) => `${h.alias}.${name}`).join(' or ')})`, loc);
    const r = hits[0]!;
    return { kind: 'column', rel: r.index, column: name, type: r.columns.get(name)!.type };
  }
  if (fields.length === 2) {
    const [alias, name] = fields as [string, string];
    const r = scope.relations.find((x) => x.alias === alias);
    if (!r) throw new Refusal(`missing FROM-clause entry for table "${alias}"`, loc);
    const c = r.columns.get(name);
    if (!c)
      throw new Refusal(`column ${alias}.${name} does not exist; ${r.source}.${r.table} has ${[...r.columns.keys()].join(', ')}`, loc);
    return { kind: 'column', rel: r.index, column: name, type: c.type };
  }
  throw new Refusal('column references are written alias.column', loc);
}
