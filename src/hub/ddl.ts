// The hub's DDL from the config: one HubPlan per hub database, the ordered list of objects that
// `hub plan` prints and `hub apply` applies. Needs no database: everything comes from the config.
//
// Per service S on a hub:
//   S_internal.V      the view's SQL: a view, or a materialized view (WITH NO DATA, then populated
//                     by its refresh function) with the unique index on `key` and the listed indexes
//   S_internal.refresh_V()  SECURITY DEFINER: REFRESH ... CONCURRENTLY, one at a time per view
//   S_internal.refreshes    when each materialized view was last refreshed
//   S.V               the security-barrier view clients read: rowSecurity compiled into its WHERE
// The hub source's user (viewgate's login) may read S.V and run the refresh functions, nothing else.
import { parse } from 'libpg-query';
import type { Config, ViewConfig } from '../config/schema.js';
import { parseCron } from './cron.js';
import { isPostgresConfig } from '../sources/postgres/index.js';
import { foreignObjects } from './foreign.js';
import { hubServices, type HubService } from './services.js';
import {
  checkedName,
  definitionHash,
  fittedName,
  HubConfigError,
  ident,
  internalSchema,
  literal,
  qualified,
  REFRESH_TABLE,
  refreshFunction,
} from './names.js';
import { objectKey, type HubObject, type ManagedObject } from './objects.js';
import { exemptSql, parseRowSecurity, RowSecurityCompiler } from './row-security.js';
import { rowSecurityOf } from '../config/row-security.js';
import type { StoreTls } from '../config/tls.js';

export interface HubPlan {
  /** The hub source's name. */
  hub: string;
  url: string;
  /** The hub source's tls block. */
  tls?: StoreTls;
  /** The login viewgate reads with (the hub URL's user); it gets read access to the service schemas. */
  grantee?: string;
  services: string[];
  objects: HubObject[];
  /** Schemas whose viewgate-made objects apply owns: what it made there and no longer needs is dropped. */
  ownedSchemas: string[];
}

/** The plans for every hub service, or only those named (service names). */
export async function planHubs(config: Config, only?: string[]): Promise<HubPlan[]> {
  const services = hubServices(config);
  for (const name of only ?? []) {
    if (!services.some(([s]) => s === name)) {
      throw new HubConfigError(
        `services.${name}`,
        `no hub service "${name}"; hub services are: ${services.map(([s]) => s).join(', ') || '(none)'}`,
      );
    }
  }
  const byHub = new Map<string, [string, HubService][]>();
  for (const entry of services) {
    if (only && !only.includes(entry[0])) continue;
    byHub.set(entry[1].source, [...(byHub.get(entry[1].source) ?? []), entry]);
  }
  const plans: HubPlan[] = [];
  for (const [hub, svcs] of byHub) plans.push(await planHub(config, hub, svcs));
  return plans;
}

async function planHub(config: Config, hub: string, services: [string, HubService][]): Promise<HubPlan> {
  const src = config.sources[hub];
  if (!src || !isPostgresConfig(src))
    throw new HubConfigError(`services.${services[0]![0]}.source`, `the hub "${hub}" must be a postgres source`);
  const user = safeUser(src.url);
  // Every foreign object comes before every service object: replacing a foreign table drops the
  // views on it, which must come later in the plan to be recreated.
  const extensions: HubObject[] = [];
  const foreign: HubObject[] = [];
  const views: HubObject[] = [];
  const owned = new Set<string>();
  const serviceSchemas = new Set(services.flatMap(([s]) => [s, internalSchema(s)]));
  for (const [svcName, svc] of services) {
    for (const [srcName, m] of Object.entries(svc.foreign ?? {})) {
      const path = `services.${svcName}.foreign.${srcName}`;
      const fsrc = config.sources[srcName];
      if (!fsrc) throw new HubConfigError(path, `unknown source "${srcName}"`);
      if (serviceSchemas.has(m.schema))
        throw new HubConfigError(
          `${path}.schema`,
          `"${m.schema}" is a service schema on this hub; choose another schema for foreign tables`,
        );
      for (const o of foreignObjects(srcName, fsrc, m, path)) (o.kind === 'extension' ? extensions : foreign).push(o);
    }
    views.push(...(await serviceObjects(svcName, svc, user)));
    owned.add(svcName).add(internalSchema(svcName));
  }
  return {
    hub,
    url: src.url,
    ...(src.tls ? { tls: src.tls } : {}),
    ...(user ? { grantee: user } : {}),
    services: services.map(([s]) => s),
    objects: merge([...extensions, ...foreign, ...views]),
    ownedSchemas: [...owned],
  };
}

function safeUser(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.username ? decodeURIComponent(u.username) : undefined;
  } catch {
    return undefined;
  }
}

/** One object per identity; two services asking for the same object differently is a config error. */
function merge(objects: HubObject[]): HubObject[] {
  const seen = new Map<string, string>();
  const out: HubObject[] = [];
  for (const o of objects) {
    const key = objectKey(o);
    const body = JSON.stringify(o);
    const prev = seen.get(key);
    if (prev === undefined) {
      seen.set(key, body);
      out.push(o);
    } else if (prev !== body) {
      throw new HubConfigError('services', `two hub services define ${key.split(':').slice(1).join(' ')} differently`);
    }
  }
  return out;
}

function managed(type: ManagedObject['type'], schema: string, name: string, statements: string[]): ManagedObject {
  return { kind: 'managed', type, schema, name, statements, hash: definitionHash(statements) };
}

async function serviceObjects(svcName: string, svc: HubService, grantee: string | undefined): Promise<HubObject[]> {
  checkedName(svcName, `services.${svcName}`);
  const internal = checkedName(internalSchema(svcName), `services.${svcName}`);
  const out: HubObject[] = [
    { kind: 'schema', name: svcName },
    { kind: 'schema', name: internal },
  ];
  const grants: HubObject[] = [];
  const grant = (privilege: 'USAGE' | 'SELECT' | 'EXECUTE', target: Extract<HubObject, { kind: 'grant' }>['target']) => {
    if (grantee) grants.push({ kind: 'grant', privilege, target, grantee });
  };
  grant('USAGE', { on: 'SCHEMA', schema: svcName });
  const materialized = Object.values(svc.views).some((v) => v.materialize);
  if (materialized) {
    out.push(
      managed('TABLE', internal, REFRESH_TABLE, [
        `CREATE TABLE ${qualified(internal, REFRESH_TABLE)} (\n  view_name text PRIMARY KEY,\n  refreshed_at timestamptz NOT NULL,\n  duration_ms double precision NOT NULL\n)`,
      ]),
    );
    grant('USAGE', { on: 'SCHEMA', schema: internal });
    grant('SELECT', { on: 'TABLE', schema: internal, name: REFRESH_TABLE });
  }
  for (const [viewName, view] of Object.entries(svc.views)) {
    const path = `services.${svcName}.views.${viewName}`;
    checkedName(viewName, path);
    const sql = await viewSql(view.sql, `${path}.sql`);
    const base = qualified(internal, viewName);
    if (view.materialize) {
      if (!view.key)
        throw new HubConfigError(
          `${path}.materialize`,
          'a materialized view needs a `key` (REFRESH ... CONCURRENTLY needs a unique index on it)',
        );
      if (view.materialize.refresh) {
        try {
          parseCron(view.materialize.refresh);
        } catch (err) {
          throw new HubConfigError(`${path}.materialize.refresh`, (err as Error).message);
        }
      }
      out.push(managed('MATERIALIZED VIEW', internal, viewName, [`CREATE MATERIALIZED VIEW ${base} AS\n${sql}\nWITH NO DATA`]));
      const keyIndex = fittedName(`${viewName}__key`);
      out.push(
        managed('INDEX', internal, keyIndex, [`CREATE UNIQUE INDEX ${ident(keyIndex)} ON ${base} (${view.key.map(ident).join(', ')})`]),
      );
      for (const cols of view.materialize.indexes) {
        const name = fittedName(`${viewName}__${cols.join('__')}`);
        if (name === keyIndex) continue;
        out.push(managed('INDEX', internal, name, [`CREATE INDEX ${ident(name)} ON ${base} (${cols.map(ident).join(', ')})`]));
      }
      const fn = checkedName(refreshFunction(viewName), path);
      out.push(managed('FUNCTION', internal, fn, refreshFunctionSql(svcName, internal, viewName, fn)));
      out.push({ kind: 'populate', schema: internal, name: viewName, refresh: qualified(internal, fn) });
      grant('EXECUTE', { on: 'FUNCTION', schema: internal, name: fn });
    } else {
      out.push(managed('VIEW', internal, viewName, [`CREATE VIEW ${base} AS\n${sql}`]));
    }
    out.push(managed('VIEW', svcName, viewName, [securityBarrierView(svcName, viewName, base, view, path)]));
    grant('SELECT', { on: 'TABLE', schema: svcName, name: viewName });
  }
  return [...out, ...grants];
}

/** The view's SQL as one SELECT (checked with PostgreSQL's parser), without a trailing `;`. */
async function viewSql(text: string, path: string): Promise<string> {
  const sql = text.trim().replace(/;\s*$/, '').trimEnd();
  let stmts: { stmt?: Record<string, unknown> }[];
  try {
    stmts = (await parse(sql)).stmts ?? [];
  } catch (err) {
    throw new HubConfigError(path, `the hub SQL does not parse: ${(err as Error).message}`);
  }
  if (stmts.length !== 1 || !stmts[0]!.stmt || !('SelectStmt' in stmts[0]!.stmt)) {
    throw new HubConfigError(path, 'the hub SQL must be exactly one SELECT statement');
  }
  return sql;
}

function securityBarrierView(svc: string, name: string, base: string, view: ViewConfig, path: string): string {
  const head = `CREATE VIEW ${qualified(svc, name)} WITH (security_barrier) AS\n`;
  const from = `SELECT v.* FROM ${base} AS v`;
  const rs = rowSecurityOf(view);
  if (!rs) return `${head}${from}`;
  const pred = new RowSecurityCompiler(base, 'v', `${path}.rowSecurity`).where(parseRowSecurity(rs, `${path}.rowSecurity`));
  if (rs.exemptRoles.length === 0) return `${head}${from}\nWHERE ${pred}`;
  // Two branches rather than `exempt OR pred`: each gets a one-time filter, so the tenant branch
  // can still use an index on the filtered column (an OR with a parameter cannot).
  const exempt = exemptSql(rs.exemptRoles);
  return `${head}${from}\nWHERE ${exempt}\nUNION ALL\n${from}\nWHERE NOT ${exempt}\n  AND ${pred}`;
}

function refreshFunctionSql(svc: string, internal: string, view: string, fn: string): string[] {
  const mv = qualified(internal, view);
  const f = qualified(internal, fn);
  const body = `
DECLARE
  started timestamptz := clock_timestamp();
  finished timestamptz;
BEGIN
  -- One refresh at a time per view, across every process: a second caller skips instead of queueing.
  IF NOT pg_try_advisory_xact_lock(hashtext(${literal(`viewgate refresh ${svc}.${view}`)})) THEN
    RETURN NULL;
  END IF;
  IF (SELECT m.ispopulated FROM pg_matviews m WHERE m.schemaname = ${literal(internal)} AND m.matviewname = ${literal(view)}) THEN
    REFRESH MATERIALIZED VIEW CONCURRENTLY ${mv};
  ELSE
    REFRESH MATERIALIZED VIEW ${mv};
  END IF;
  finished := clock_timestamp();
  INSERT INTO ${qualified(internal, REFRESH_TABLE)} (view_name, refreshed_at, duration_ms)
  VALUES (${literal(view)}, finished, 1000 * extract(epoch FROM finished - started))
  ON CONFLICT (view_name) DO UPDATE SET refreshed_at = excluded.refreshed_at, duration_ms = excluded.duration_ms;
  RETURN finished;
END
`;
  return [
    `CREATE FUNCTION ${f}() RETURNS timestamptz\nLANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp\nAS $viewgate$${body}$viewgate$`,
    `REVOKE ALL ON FUNCTION ${f}() FROM PUBLIC`,
  ];
}
