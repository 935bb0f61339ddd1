// `hub apply`: brings a hub database to its plan in one transaction. Each object is read from the
// catalog first and only created, altered or replaced when it differs, so a second apply changes
// nothing. Objects viewgate made carry a comment with a hash of their definition; a changed
// definition replaces the object (and the viewgate-made views that depend on it, which are then
// recreated further down the plan). An object of the same name that viewgate did not make stops
// the apply instead of being replaced.
import type pg from 'pg';
import { redact } from '../sources/store-errors.js';
import type { HubPlan } from './ddl.js';
import { ident, literal, MARKER, markerComment, qualified } from './names.js';
import {
  createStatements,
  describeObject,
  grantTargetSql,
  importSql,
  optionValue,
  type HubObject,
  type ManagedObject,
  type OptionValue,
} from './objects.js';
import { secretsOf } from './render.js';

export interface Change {
  /** + created, ~ changed or replaced, - dropped, = unchanged */
  action: '+' | '~' | '-' | '=';
  what: string;
  detail?: string;
}

export interface ApplyOptions {
  /** Roll back at the end: report what would change. */
  dryRun?: boolean;
}

type Db = Pick<pg.ClientBase, 'query'>;

export class HubApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubApplyError';
  }
}

export async function applyPlan(client: pg.ClientBase, plan: HubPlan, opts: ApplyOptions = {}): Promise<Change[]> {
  const secrets = secretsOf(plan).map((s) => s.value);
  const changes: Change[] = [];
  let current = 'the transaction';
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL standard_conforming_strings = on');
    // Two applies at once would race on the same objects; the second waits for the first.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('viewgate hub apply'))");
    const applier = new Applier(client, changes);
    for (const o of plan.objects) {
      current = describeObject(o);
      await applier.apply(o);
    }
    current = 'objects that are no longer configured';
    await applier.dropOrphans(plan);
    await client.query(opts.dryRun ? 'ROLLBACK' : 'COMMIT');
    return changes;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    if (err instanceof HubApplyError) throw err;
    const e = err as { message?: string; hint?: string; detail?: string };
    const extra = [e.detail, e.hint].filter(Boolean).join(' ');
    throw new HubApplyError(redact(`${current}: ${e.message ?? String(err)}${extra ? ` (${extra})` : ''}`, secrets));
  }
}

const RELKIND: Record<Exclude<ManagedObject['type'], 'FUNCTION'>, string> = {
  VIEW: 'v',
  'MATERIALIZED VIEW': 'm',
  INDEX: 'i',
  'FOREIGN TABLE': 'f',
  TABLE: 'r',
};
const DROP_KIND: Record<string, string> = { v: 'VIEW', m: 'MATERIALIZED VIEW', i: 'INDEX', f: 'FOREIGN TABLE', r: 'TABLE' };

interface Rel {
  oid: number;
  relkind: string;
  schema: string;
  name: string;
  comment: string | null;
}

/** key=value option arrays as PostgreSQL stores them. */
function optionMap(options: string[] | null): Map<string, string> {
  return new Map((options ?? []).map((o) => [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)]));
}

const isManaged = (comment: string | null): boolean => comment?.startsWith(MARKER) ?? false;

class Applier {
  constructor(
    private readonly db: Db,
    private readonly changes: Change[],
  ) {}

  private note(action: Change['action'], o: HubObject | string, detail?: string): void {
    this.changes.push({ action, what: typeof o === 'string' ? o : describeObject(o), ...(detail ? { detail } : {}) });
  }

  private async run(statements: string[]): Promise<void> {
    for (const s of statements) await this.db.query(s);
  }

  async apply(o: HubObject): Promise<void> {
    switch (o.kind) {
      case 'extension': {
        const r = await this.db.query('SELECT 1 FROM pg_catalog.pg_extension WHERE extname = $1', [o.name]);
        if (r.rowCount) return this.note('=', o);
        try {
          await this.run(createStatements(o, 'value'));
        } catch (err) {
          const hint = o.name === 'mysql_fdw' ? ' (Debian/Ubuntu: apt-get install postgresql-15-mysql-fdw)' : '';
          throw new HubApplyError(`extension ${o.name}: ${(err as Error).message}${hint}`);
        }
        return this.note('+', o);
      }
      case 'schema': {
        const r = await this.db.query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [o.name]);
        if (r.rowCount) return this.note('=', o);
        await this.run(createStatements(o, 'value'));
        return this.note('+', o);
      }
      case 'server':
        return this.server(o);
      case 'user mapping':
        return this.mapping(o);
      case 'import':
        return this.importTables(o);
      case 'managed':
        return this.managed(o);
      case 'populate': {
        const r = await this.db.query('SELECT ispopulated FROM pg_catalog.pg_matviews WHERE schemaname = $1 AND matviewname = $2', [
          o.schema,
          o.name,
        ]);
        if (r.rows[0]?.ispopulated !== false) return this.note('=', o);
        await this.run(createStatements(o, 'value'));
        return this.note('+', o, 'first refresh');
      }
      case 'grant':
        return this.grant(o);
    }
  }

  private async server(o: Extract<HubObject, { kind: 'server' }>): Promise<void> {
    const r = await this.db.query(
      `SELECT w.fdwname, s.srvoptions FROM pg_catalog.pg_foreign_server s
         JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw WHERE s.srvname = $1`,
      [o.name],
    );
    const row = r.rows[0] as { fdwname: string; srvoptions: string[] | null } | undefined;
    if (!row) {
      await this.run(createStatements(o, 'value'));
      return this.note('+', o);
    }
    if (row.fdwname !== o.wrapper) {
      throw new HubApplyError(
        `server ${o.name} exists with wrapper ${row.fdwname}, not ${o.wrapper}; drop it (DROP SERVER ${ident(o.name)} CASCADE) and apply again`,
      );
    }
    // Options someone added by hand (fetch_size, use_remote_estimate ...) are kept.
    const have = optionMap(row.srvoptions);
    const edits = Object.entries(o.options)
      .filter(([k, v]) => have.get(k) !== v)
      .map(([k, v]) => `${have.has(k) ? 'SET' : 'ADD'} ${k} ${literal(v)}`);
    if (edits.length === 0) return this.note('=', o);
    await this.db.query(`ALTER SERVER ${ident(o.name)} OPTIONS (${edits.join(', ')})`);
    this.note(
      '~',
      o,
      `options ${Object.keys(o.options)
        .filter((k) => have.get(k) !== o.options[k])
        .join(', ')}`,
    );
  }

  private async mapping(o: Extract<HubObject, { kind: 'user mapping' }>): Promise<void> {
    const r = await this.db.query('SELECT umoptions FROM pg_catalog.pg_user_mappings WHERE srvname = $1 AND umuser = 0', [o.server]);
    if (r.rowCount === 0) {
      await this.run(createStatements(o, 'value'));
      return this.note('+', o);
    }
    const opts = (r.rows[0] as { umoptions: string[] | null }).umoptions;
    if (opts === null) return this.note('=', o, 'its options are not readable by this role; left as they are');
    const have = optionMap(opts);
    const want = new Map(Object.entries(o.options).map(([k, v]): [string, OptionValue] => [k, v]));
    const plain = (v: OptionValue) => (typeof v === 'string' ? v : v.value);
    const edits = [
      ...[...want]
        .filter(([k, v]) => have.get(k) !== plain(v))
        .map(([k, v]) => `${have.has(k) ? 'SET' : 'ADD'} ${k} ${optionValue(v, 'value')}`),
      ...[...have.keys()].filter((k) => !want.has(k)).map((k) => `DROP ${k}`),
    ];
    if (edits.length === 0) return this.note('=', o);
    await this.db.query(`ALTER USER MAPPING FOR PUBLIC SERVER ${ident(o.server)} OPTIONS (${edits.join(', ')})`);
    this.note('~', o, 'credentials changed');
  }

  private async importTables(o: Extract<HubObject, { kind: 'import' }>): Promise<void> {
    const existing = async (): Promise<Set<string>> => {
      const r = await this.db.query(
        `SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'f', 'p')`,
        [o.schema],
      );
      return new Set(r.rows.map((x: { relname: string }) => x.relname));
    };
    const before = await existing();
    const followed = await this.followRemoteColumns(o);
    if (o.tables) {
      const missing = o.tables.filter((t) => !before.has(t));
      if (missing.length === 0) return followed ? undefined : this.note('=', o);
      await this.db.query(importSql(o, missing));
      return this.note('+', o, `imported ${missing.join(', ')}`);
    }
    // A whole remote schema: import what is not there yet (this asks the source for its tables).
    await this.db.query(importSql(o, undefined, [...before]));
    const added = [...(await existing())].filter((t) => !before.has(t));
    if (added.length === 0) return followed ? undefined : this.note('=', o);
    this.note('+', o, `imported ${added.join(', ')}`);
  }

  /**
   * Foreign tables imported before follow the remote tables' columns (docs/contracts.md, "Drift"):
   * each is imported again into a scratch schema and, where its columns (names, types) differ, it
   * replaces the old one; viewgate's views on it are dropped and recreated later in the plan.
   * Returns whether any changed.
   */
  private async followRemoteColumns(o: Extract<HubObject, { kind: 'import' }>): Promise<boolean> {
    const r = await this.db.query(
      `SELECT c.relname FROM pg_catalog.pg_foreign_table ft
         JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
        WHERE n.nspname = $1 AND s.srvname = $2`,
      [o.schema, o.server],
    );
    const imported = (r.rows as { relname: string }[]).map((x) => x.relname).filter((t) => !o.tables || o.tables.includes(t));
    if (imported.length === 0) return false;
    const scratch = `viewgate_reimport_${process.pid}`;
    // Inside the apply's transaction: a failure rolls the scratch schema back with everything else.
    await this.db.query(`CREATE SCHEMA ${ident(scratch)}`);
    await this.db.query(importSql({ ...o, schema: scratch }, imported));
    const columns = async (schema: string, table: string): Promise<string> => {
      const c = await this.db.query(
        `SELECT a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) AS col
             FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [schema, table],
      );
      return (c.rows as { col: string }[]).map((x) => x.col).join(', ');
    };
    let changed = false;
    for (const table of imported) {
      const [was, now] = [await columns(o.schema, table), await columns(scratch, table)];
      if (now === '' || was === now) continue;
      const rel = (await this.relation(o.schema, table))!;
      await this.dropRelation(rel);
      await this.db.query(`ALTER FOREIGN TABLE ${qualified(scratch, table)} SET SCHEMA ${ident(o.schema)}`);
      this.note('~', `foreign table ${o.schema}.${table}`, `remote columns changed: (${was}) -> (${now})`);
      changed = true;
    }
    await this.db.query(`DROP SCHEMA ${ident(scratch)} CASCADE`);
    return changed;
  }

  private async relation(schema: string, name: string): Promise<Rel | undefined> {
    const r = await this.db.query(
      `SELECT c.oid::int AS oid, c.relkind, n.nspname AS schema, c.relname AS name, pg_catalog.obj_description(c.oid, 'pg_class') AS comment
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, name],
    );
    return r.rows[0] as Rel | undefined;
  }

  private async managed(o: ManagedObject): Promise<void> {
    if (o.type === 'FUNCTION') return this.managedFunction(o);
    const rel = await this.relation(o.schema, o.name);
    if (!rel) {
      await this.run(createStatements(o, 'value'));
      return this.note('+', o);
    }
    if (!isManaged(rel.comment)) {
      throw new HubApplyError(
        `${describeObject(o)} already exists and was not made by viewgate; rename or drop it, or move the service to another schema`,
      );
    }
    if (rel.comment === markerComment(o.hash) && rel.relkind === RELKIND[o.type]) return this.note('=', o);
    await this.dropRelation(rel);
    await this.run(createStatements(o, 'value'));
    this.note('~', o, 'definition changed: replaced');
  }

  private async managedFunction(o: ManagedObject): Promise<void> {
    const r = await this.db.query(
      `SELECT p.oid::int AS oid, pg_catalog.obj_description(p.oid, 'pg_proc') AS comment
         FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = $1 AND p.proname = $2 AND p.pronargs = 0`,
      [o.schema, o.name],
    );
    const row = r.rows[0] as { oid: number; comment: string | null } | undefined;
    if (!row) {
      await this.run(createStatements(o, 'value'));
      return this.note('+', o);
    }
    if (!isManaged(row.comment))
      throw new HubApplyError(`${describeObject(o)} already exists and was not made by viewgate; rename or drop it`);
    if (row.comment === markerComment(o.hash)) return this.note('=', o);
    await this.db.query(`DROP FUNCTION ${qualified(o.schema, o.name)}()`);
    await this.run(createStatements(o, 'value'));
    this.note('~', o, 'definition changed: replaced');
  }

  /**
   * Drops a relation after the views that depend on it, deepest first. Every one of those views must
   * be viewgate's (it is recreated later in the plan); anything else depending on it stops the apply.
   */
  private async dropRelation(rel: Rel, recreated = true): Promise<void> {
    const r = await this.db.query(
      `WITH RECURSIVE deps(oid, depth) AS (
         SELECT r.ev_class, 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
          WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
            AND d.refobjid = $1 AND r.ev_class <> $1
         UNION
         SELECT r.ev_class, deps.depth + 1 FROM deps
           JOIN pg_catalog.pg_depend d ON d.refobjid = deps.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass
           JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_catalog.pg_rewrite'::regclass
          WHERE r.ev_class <> deps.oid AND deps.depth < 50
       )
       SELECT c.oid::int AS oid, c.relkind, n.nspname AS schema, c.relname AS name,
              pg_catalog.obj_description(c.oid, 'pg_class') AS comment, max(deps.depth) AS depth
         FROM deps JOIN pg_catalog.pg_class c ON c.oid = deps.oid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        GROUP BY 1, 2, 3, 4, 5 ORDER BY max(deps.depth) DESC`,
      [rel.oid],
    );
    const deps = r.rows as (Rel & { depth: number })[];
    const foreign = deps.filter((d) => !isManaged(d.comment));
    if (foreign.length > 0) {
      throw new HubApplyError(
        `${rel.schema}.${rel.name} must be replaced, but ${foreign.map((d) => `${d.schema}.${d.name}`).join(', ')} depend${foreign.length === 1 ? 's' : ''} on it and ${foreign.length === 1 ? 'was' : 'were'} not made by viewgate; drop ${foreign.length === 1 ? 'it' : 'them'} first`,
      );
    }
    for (const d of deps) {
      await this.db.query(`DROP ${DROP_KIND[d.relkind]} ${qualified(d.schema, d.name)}`);
      this.note(
        '-',
        `${DROP_KIND[d.relkind]!.toLowerCase()} ${d.schema}.${d.name}`,
        `depends on ${rel.schema}.${rel.name}${recreated ? '; recreated below' : ''}`,
      );
    }
    await this.db.query(`DROP ${DROP_KIND[rel.relkind]} ${qualified(rel.schema, rel.name)}`);
  }

  private async grant(o: Extract<HubObject, { kind: 'grant' }>): Promise<void> {
    const t = o.target;
    const check =
      t.on === 'SCHEMA'
        ? { sql: 'SELECT pg_catalog.has_schema_privilege($1, $2, $3) AS ok', arg: t.schema }
        : t.on === 'TABLE'
          ? { sql: 'SELECT pg_catalog.has_table_privilege($1, $2, $3) AS ok', arg: qualified(t.schema, t.name) }
          : { sql: 'SELECT pg_catalog.has_function_privilege($1, $2, $3) AS ok', arg: `${qualified(t.schema, t.name)}()` };
    let ok: boolean;
    try {
      ok = (await this.db.query(check.sql, [o.grantee, check.arg, o.privilege])).rows[0].ok as boolean;
    } catch (err) {
      if ((err as { code?: string }).code === '42704') {
        throw new HubApplyError(
          `the hub's login role "${o.grantee}" (the user in the hub source URL) does not exist; create it first (CREATE ROLE ${ident(o.grantee)} LOGIN)`,
        );
      }
      throw err;
    }
    if (ok) return this.note('=', o);
    await this.db.query(`GRANT ${o.privilege} ON ${grantTargetSql(t)} TO ${ident(o.grantee)}`);
    this.note('+', o);
  }

  /** Drops what viewgate made in the service schemas that the config no longer asks for. */
  async dropOrphans(plan: HubPlan): Promise<void> {
    const wanted = new Set(
      plan.objects.flatMap((o) => (o.kind === 'managed' ? [`${o.type === 'FUNCTION' ? 'f' : 'r'}:${o.schema}.${o.name}`] : [])),
    );
    const rels = await this.db.query(
      `SELECT c.oid::int AS oid, c.relkind, n.nspname AS schema, c.relname AS name, pg_catalog.obj_description(c.oid, 'pg_class') AS comment
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY($1) AND pg_catalog.obj_description(c.oid, 'pg_class') LIKE $2
        ORDER BY CASE c.relkind WHEN 'v' THEN 0 WHEN 'm' THEN 1 WHEN 'i' THEN 2 ELSE 3 END`,
      [plan.ownedSchemas, `${MARKER}%`],
    );
    for (const rel of rels.rows as Rel[]) {
      if (wanted.has(`r:${rel.schema}.${rel.name}`)) continue;
      const still = await this.relation(rel.schema, rel.name);
      if (!still) continue;
      await this.dropRelation(still, false);
      this.note('-', `${DROP_KIND[rel.relkind]!.toLowerCase()} ${rel.schema}.${rel.name}`, 'no longer configured');
    }
    const fns = await this.db.query(
      `SELECT n.nspname AS schema, p.proname AS name FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY($1) AND p.pronargs = 0 AND pg_catalog.obj_description(p.oid, 'pg_proc') LIKE $2`,
      [plan.ownedSchemas, `${MARKER}%`],
    );
    for (const f of fns.rows as { schema: string; name: string }[]) {
      if (wanted.has(`f:${f.schema}.${f.name}`)) continue;
      await this.db.query(`DROP FUNCTION ${qualified(f.schema, f.name)}()`);
      this.note('-', `function ${f.schema}.${f.name}()`, 'no longer configured');
    }
  }
}
