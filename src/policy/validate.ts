// Checks the policy part of a config against the views it decides for (start-up, `check`, MCP
// stdio, and a view first built later):
// - grants against the views they decide for: fields and masks name real columns; row filters
//   parse, name only the view's output columns, and their literals fit the column types;
// - a view's rowSecurity that the gateway enforces (embedded engine) the same way as a row filter;
// - auth.jwt: the verifier can be built (a PEM that parses, algorithms of the key's family).
// A wildcard grant is checked only against the views it actually decides for: a more specific
// grant on a view replaces it there (see grants.ts).
import type { Config, GrantConfig } from '../config/schema.js';
import type { View } from '../engine/view.js';
import { astFields, type FilterAst } from '../query/ast.js';
import { bindFilter } from '../query/bind.js';
import { ApiError } from '../errors.js';
import type { ColumnType } from '../values.js';
import type { ConfigRowFilters } from './config-filters.js';
import { decidingGrant } from './grants.js';
import { JwtVerifier } from './jwt.js';
import { grantsWrites } from './write-access.js';

export interface PolicyProblem {
  path: string;
  message: string;
}

/** A view whose grants do not fit it (e.g. a row filter naming a column it does not output). */
export class MisconfiguredView extends ApiError {
  constructor(
    readonly view: View,
    readonly problems: PolicyProblem[],
  ) {
    super(
      'view_misconfigured',
      `view "${view.id}" is not served: the configuration's grants do not fit it; \`viewgate check\` names the problem`,
      { view: view.id },
    );
  }
}

const quoteList = (names: string[]) => names.map((n) => `"${n}"`).join(', ');

export function policyProblems(config: Config, filters: ConfigRowFilters, views: readonly View[]): PolicyProblem[] {
  const out: PolicyProblem[] = [...authProblems(config)];
  for (const view of views) {
    const rs = filters.ofView(view.id);
    if (rs?.enforcedBy === 'gateway') out.push(...rowSecurityProblems(view, rs.filter.ast, rs.filter.error));
  }
  for (const [roleName, role] of Object.entries(config.roles)) {
    for (const [key, grant] of Object.entries(role.grants)) {
      const path = `roles.${roleName}.grants.${key}`;
      const exact = key !== '*' && !key.endsWith('.*');
      const parsed = grant.rowFilter ? filters.ofGrant(grant) : undefined;
      if (parsed && !parsed.ast) out.push({ path: `${path}.rowFilter`, message: (parsed.error as Error).message });
      const rowFilter = parsed?.ast;
      for (const view of views.filter((v) => decidingGrant(role.grants, v.id)?.key === key)) {
        const cols = new Set(view.columns.map((c) => c.name));
        const missing = (names: string[]) => names.filter((n) => !cols.has(n));
        if (exact) {
          const f = missing(grant.fields ?? []);
          if (f.length) out.push({ path: `${path}.fields`, message: `view "${view.id}" has no column ${quoteList(f)}` });
          const m = missing(Object.keys(grant.masks));
          if (m.length) out.push({ path: `${path}.masks`, message: `view "${view.id}" has no column ${quoteList(m)}` });
        }
        if (rowFilter) out.push(...rowFilterProblems(rowFilter, view, `${path}.rowFilter`));
        if (exact) out.push(...writeProblems(config, grant, view, `${path}.write`));
        const distinctOn = typeof grant.minGroupSize === 'object' ? grant.minGroupSize.distinctOn : undefined;
        if (distinctOn !== undefined && !cols.has(distinctOn)) {
          out.push({ path: `${path}.minGroupSize.distinctOn`, message: `view "${view.id}" has no column "${distinctOn}"` });
        }
      }
      if (grant.write && grantsWrites(grant) && !grant.read) {
        out.push({
          path: `${path}.write`,
          message: 'writing needs read: true on the same grant (a caller who may not read a view cannot write it)',
        });
      }
      if (Object.values(grant.masks).includes('hash') && !config.masking.hashSecret) {
        out.push({ path: `${path}.masks`, message: 'the hash mask needs masking.hashSecret' });
      }
    }
  }
  return out;
}

/**
 * A grant naming one view with write rights (docs/writes.md): the view must be writable, and the
 * columns it lists and references must be columns the role may set.
 */
function writeProblems(config: Config, grant: GrantConfig, view: View, path: string): PolicyProblem[] {
  const w = grant.write;
  if (!w || !grantsWrites(grant)) return [];
  if (!view.write) {
    return [
      {
        path,
        message:
          `view "${view.id}" cannot be written: only tables of a service bound to one PostgreSQL, MySQL or MongoDB source, ` +
          'whose key is a primary or unique key of the table, can be (federated, hub and SQLite views are read-only)',
      },
    ];
  }
  const out: PolicyProblem[] = [];
  const cols = new Set(view.columns.map((c) => c.name));
  const why = (n: string): string | undefined =>
    !cols.has(n)
      ? 'does not exist'
      : grant.fields && !grant.fields.includes(n)
        ? 'is hidden from the role'
        : Object.hasOwn(grant.masks, n)
          ? 'is masked for the role'
          : view.key.includes(n)
            ? 'is a key column (keys are given on insert, never changed)'
            : undefined;
  for (const n of w.fields ?? []) {
    const problem = why(n);
    if (problem) out.push({ path: `${path}.fields`, message: `column "${n}" of view "${view.id}" ${problem}, so it cannot be writable` });
  }
  for (const [n, target] of Object.entries(w.references)) {
    if (!cols.has(n)) out.push({ path: `${path}.references.${n}`, message: `view "${view.id}" has no column "${n}"` });
    const [svc, name] = target.split('.') as [string, string];
    const s = Object.hasOwn(config.services, svc) ? config.services[svc]! : undefined;
    const known =
      s &&
      ('views' in s ? Object.hasOwn(s.views, name) : s.tables.some((t) => (typeof t === 'string' ? t : t.name).split('.').pop() === name));
    if (!known) out.push({ path: `${path}.references.${n}`, message: `no view "${target}" is configured` });
  }
  return out;
}

/** A view's rowSecurity is checked like a grant's row filter: it parses and names only the view's outputs. */
function rowSecurityProblems(view: View, ast: FilterAst | undefined, error: unknown): PolicyProblem[] {
  const path = `services.${view.service}.views.${view.name}.rowSecurity`;
  return ast ? rowFilterProblems(ast, view, path) : [{ path, message: (error as Error).message }];
}

function rowFilterProblems(ast: FilterAst, view: View, path: string): PolicyProblem[] {
  const names = [...new Set(astFields(ast).map((f) => f.field))];
  const bad = names.filter((n) => !view.columns.some((c) => c.name === n));
  if (bad.length) {
    return [
      {
        path,
        message: `names ${quoteList(bad)}, which view "${view.id}" does not output; a row filter (and rowSecurity) may only use the view's columns`,
      },
    ];
  }
  // Each comparison is bound now, claims standing in as a value of the column's type, so a literal
  // that cannot fit its column (customer_id = 'x') or a column that cannot be compared (jsonb)
  // stops start-up instead of failing every request.
  const types = new Map(view.columns.map((c) => [c.name, c.type]));
  const out: PolicyProblem[] = [];
  for (const leaf of leaves(ast)) {
    const type = 'field' in leaf ? types.get(leaf.field)! : 'text';
    try {
      bindFilter(leaf, { param: 'rowFilter', columnType: (name) => types.get(name)!, claim: () => CLAIM_SAMPLE[type] });
    } catch (err) {
      out.push({ path, message: `for view "${view.id}": ${(err as Error).message}` });
    }
  }
  return out;
}

/** A claim value that fits each column type, for the load-time checks (row filters, curated tools). */
export const CLAIM_SAMPLE: Record<ColumnType, unknown> = {
  text: 'x',
  int: 1,
  float: 1,
  numeric: '1',
  bool: true,
  timestamptz: '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  jsonb: 'x',
  bytea: 'x',
};

function leaves(ast: FilterAst): FilterAst[] {
  if (ast.kind === 'and' || ast.kind === 'or') return ast.args.flatMap(leaves);
  if (ast.kind === 'not') return leaves(ast.arg);
  return [ast];
}

/** The JWT verifier is built the way the server builds it; what stops it is a config problem. */
function authProblems(config: Config): PolicyProblem[] {
  if (!config.auth.jwt) return [];
  try {
    new JwtVerifier(config.auth.jwt);
    return [];
  } catch (err) {
    return [{ path: 'auth.jwt', message: (err as Error).message }];
  }
}
