// `rowSecurity` (the filter grammar with {claims.x}) compiled into the WHERE clause of a hub
// security-barrier view. Claims come from the transaction-local `request.jwt.claims` setting that
// viewgate sets for every read; the exempt roles from `viewgate.role`.
//
// A claim value is converted to the column's type by jsonb_populate_record over the base
// relation's own row type, so PostgreSQL resolves the type when the view is created and the DDL
// needs no catalog lookups (`hub plan` works offline). Each claim expression is a scalar subquery:
// PostgreSQL evaluates it once per query (an InitPlan), can use an index on the column, and can
// ship the comparison to postgres_fdw/mysql_fdw as a parameter.
//
// A missing claim gives no rows: the WHERE requires every claim it names to be present.
import type { RowSecurity } from '../config/row-security.js';
import { astClaims, type FilterAst, type Lit } from '../query/ast.js';
import { escapeLike } from '../query/bind.js';
import { parseFilter } from '../query/filter-parser.js';
import { HubConfigError, ident, literal } from './names.js';

/** The claims JSON of the current transaction; '' (a reset placeholder) and unset are both NULL. */
const CLAIMS_SQL = "NULLIF(current_setting('request.jwt.claims', true), '')::jsonb";
const ROLE_SQL = "COALESCE(current_setting('viewgate.role', true), '')";

export function parseRowSecurity(rs: RowSecurity, path: string): FilterAst {
  try {
    return parseFilter(rs.filter, { allowClaims: true, param: 'rowSecurity' });
  } catch (err) {
    throw new HubConfigError(path, `rowSecurity does not parse: ${(err as Error).message}`);
  }
}

/** `(SELECT COALESCE(current_setting('viewgate.role', true), '') IN ('internal'))`: never NULL. */
export function exemptSql(roles: string[]): string {
  return `(SELECT ${ROLE_SQL} IN (${roles.map(literal).join(', ')}))`;
}

function claimJson(path: string[]): string {
  return path.length === 1 ? `${CLAIMS_SQL} -> ${literal(path[0]!)}` : `${CLAIMS_SQL} #> ARRAY[${path.map(literal).join(', ')}]`;
}

export class RowSecurityCompiler {
  /** `base` is the quoted relation whose row type gives the columns' types. */
  constructor(
    private readonly base: string,
    private readonly alias: string,
    private readonly path: string,
  ) {}

  /**
   * The view's WHERE: the filter, behind a guard that every claim it names is present. Without the
   * guard a missing claim would only make its own comparison unknown, and `x in ('a', {claims.t})`
   * or `... or label is null` could still match rows.
   */
  where(ast: FilterAst): string {
    const paths = astClaims(ast);
    const pred = this.compile(ast);
    if (paths.length === 0) return pred;
    const present = paths.map((p) => `COALESCE(jsonb_typeof(${claimJson(p)}), 'null') <> 'null'`).join(' AND ');
    return `(SELECT ${present})
  AND ${pred}`;
  }

  compile(ast: FilterAst): string {
    switch (ast.kind) {
      case 'and':
      case 'or':
        return `(${ast.args.map((a) => this.compile(a)).join(ast.kind === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(NOT ${this.compile(ast.arg)})`;
      case 'isnull':
        return `(${this.col(ast.field)} IS ${ast.negated ? 'NOT ' : ''}NULL)`;
      case 'cmp': {
        const op = ast.op === '!=' ? '<>' : ast.op;
        return `(${this.col(ast.field)} ${op} ${this.value(ast.field, ast.value)})`;
      }
      case 'between':
        return `(${this.col(ast.field)} ${ast.negated ? 'NOT ' : ''}BETWEEN ${this.value(ast.field, ast.low)} AND ${this.value(ast.field, ast.high)})`;
      case 'like':
        return `(${this.col(ast.field)} ${ast.negated ? 'NOT ' : ''}LIKE ${this.pattern(ast.mode, ast.value)})`;
      case 'in': {
        const lits = ast.values.filter((v) => v.kind !== 'claim');
        const claims = ast.values.filter((v): v is Extract<Lit, { kind: 'claim' }> => v.kind === 'claim');
        const parts = [
          ...(lits.length > 0
            ? [`${this.col(ast.field)} IN (${lits.map((l) => (l.kind === 'null' ? 'NULL' : this.value(ast.field, l))).join(', ')})`]
            : []),
          ...claims.map((c) => `${this.col(ast.field)} IN (${this.claimList(ast.field, c.path)})`),
        ];
        const any = parts.length === 1 ? `(${parts[0]})` : `(${parts.join(' OR ')})`;
        return ast.negated ? `(NOT ${any})` : any;
      }
    }
  }

  private col(field: string): string {
    return `${this.alias}.${ident(field)}`;
  }

  /** A literal stays untyped ('12.5'), so PostgreSQL reads it as the column's type. */
  private value(field: string, lit: Lit): string {
    switch (lit.kind) {
      case 'string':
        return literal(lit.value);
      case 'number':
        return literal(lit.text);
      case 'bool':
        return literal(String(lit.value));
      case 'null':
        throw new HubConfigError(this.path, `rowSecurity compares ${field} with null; use 'is null' or 'is not null'`);
      case 'claim':
        return this.claimScalar(field, lit.path);
      case 'param':
        throw new HubConfigError(this.path, 'rowSecurity cannot use {params.x}: parameters belong to curated tools');
    }
  }

  private typed(field: string, json: string): string {
    return `jsonb_populate_record(NULL::${this.base}, jsonb_build_object(${literal(field)}, ${json})) AS c`;
  }

  private claimScalar(field: string, path: string[]): string {
    return `(SELECT c.${ident(field)} FROM ${this.typed(field, claimJson(path))})`;
  }

  /** A list claim gives every element; a scalar claim is a list of one. */
  private claimList(field: string, path: string[]): string {
    const j = claimJson(path);
    const arr = `CASE jsonb_typeof(${j}) WHEN 'array' THEN ${j} ELSE jsonb_build_array(${j}) END`;
    return `SELECT c.${ident(field)} FROM jsonb_array_elements(${arr}) AS e(x), ${this.typed(field, 'e.x')}`;
  }

  private pattern(mode: 'like' | 'contains' | 'starts' | 'ends', lit: Lit): string {
    if (lit.kind === 'claim') {
      if (mode === 'like') throw new HubConfigError(this.path, "a claim cannot be a 'like' pattern");
      // The claim is literal text: its %, _ and \ are escaped.
      const text = `replace(replace(replace(${CLAIMS_SQL} ${lit.path.length === 1 ? '->>' : '#>>'} ${
        lit.path.length === 1 ? literal(lit.path[0]!) : `ARRAY[${lit.path.map(literal).join(', ')}]`
      }, '\\', '\\\\'), '%', '\\%'), '_', '\\_')`;
      const pre = mode === 'starts' ? '' : `'%' || `;
      const post = mode === 'ends' ? '' : ` || '%'`;
      return `(SELECT ${pre}${text}${post})`;
    }
    if (lit.kind !== 'string' && lit.kind !== 'number' && lit.kind !== 'bool') {
      throw new HubConfigError(this.path, 'a like pattern must be a string');
    }
    const text = lit.kind === 'string' ? lit.value : lit.kind === 'number' ? lit.text : String(lit.value);
    if (mode === 'like') return literal(text);
    const esc = escapeLike(text);
    return literal(mode === 'contains' ? `%${esc}%` : mode === 'starts' ? `${esc}%` : `%${esc}`);
  }
}
