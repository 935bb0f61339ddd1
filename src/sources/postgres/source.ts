// PostgreSQL source (pg). Every session runs with TimeZone UTC and the source's statement_timeout;
// every value arrives as text and is converted by the column's introspected type. A statement
// whose reader went away is cancelled (cancel.ts).
import pg from 'pg';
import { requestCancelled } from '../../errors.js';
import type { CompareOp } from '../../query/predicate.js';
import { canonicalTimestamp, type ColumnType, type Value } from '../../values.js';
import { splitTableName, type Scalar, type SqlColumn, type AggregateDialect, type SqlDialect, type SqlTable } from '../sql/common.js';
import { SqlSource } from '../sql/source.js';
import type { ForeignRead, NativeQuery, PlanScans, StoreLimits } from '../source.js';
import { fullScanOf, type TableFacts } from '../sql/full-scans.js';
import { foreignScanNodes, pageReads, servedByIndex, wholeReads, type ForeignScanNode, type PgPlanNode } from './full-scans.js';
import { cancelOnAbort } from './cancel.js';
import { pgConnection } from './ssl.js';
import { pgDenied, pgReason, stalePlan } from './errors.js';
import type { Writer } from '../write.js';
import type { DriverError } from '../store-errors.js';
import { groupKeys } from '../sql/write.js';
import { encodePg, pgConstraint, pgWriteConnection, PG_UNIQUE_KEYS } from './write.js';
import { inTransaction, readPrelude } from './passthrough.js';
import { currentRead } from '../read-context.js';
import type { SqlSourceOptions } from '../sql/source.js';
import type { Cancel } from '../../cancellation.js';

export const TYPE_MAP: Record<string, ColumnType> = {
  bool: 'bool',
  int2: 'int',
  int4: 'int',
  int8: 'int',
  float4: 'float',
  float8: 'float',
  numeric: 'numeric',
  timestamptz: 'timestamptz',
  timestamp: 'timestamptz',
  date: 'date',
  json: 'jsonb',
  jsonb: 'jsonb',
  bytea: 'bytea',
};

/** Text types compared as they are; other types mapped to text (uuid, enums, ...) are compared as `::text`. */
const NATIVE_TEXT = new Set(['text', 'varchar', 'bpchar', 'name']);

const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

function castType(col: SqlColumn): string {
  switch (col.type) {
    case 'int':
      return 'int8'; // also for int2/int4 columns, so an out-of-range value compares instead of failing
    case 'float':
      return col.base === 'float4' ? 'float4' : 'float8';
    case 'timestamptz':
      return col.base === 'timestamp' ? 'timestamp' : 'timestamptz';
    case 'numeric':
    case 'bool':
    case 'date':
      return col.type;
    default:
      return 'text';
  }
}

function paramValue(col: SqlColumn, v: Scalar): unknown {
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (col.type === 'bool') return v === true ? 'true' : 'false';
  return v;
}

/** The column as a comparison operand: text-typed columns of other native types are compared as text. */
function operand(col: SqlColumn): string {
  return col.type === 'text' && !NATIVE_TEXT.has(col.base) ? `${ident(col.name)}::text` : ident(col.name);
}

// Equality needs no COLLATE: with deterministic collations it is byte equality, and leaving it off
// keeps an index on the column usable. Ordering, ranges and LIKE use "C" (code-point order).
export const pgDialect: SqlDialect = {
  quoteIdent: ident,
  compare(col, op: CompareOp, value, params) {
    const p = `${params.add(paramValue(col, value))}::${castType(col)}`;
    const collate = col.type === 'text' && op !== '=' && op !== '<>' ? ' COLLATE "C"' : '';
    return `(${operand(col)}${collate} ${op} ${p})`;
  },
  inList(col, values, params) {
    return `(${operand(col)} = ANY(${params.add(values.map((v) => paramValue(col, v)))}::${castType(col)}[]))`;
  },
  like(col, pattern, params) {
    return `(${operand(col)} COLLATE "C" LIKE ${params.add(pattern)}::text)`;
  },
  constant: (v) => (v === null ? 'NULL::boolean' : v ? 'TRUE' : 'FALSE'),
  order(col, desc) {
    const collate = col.type === 'text' ? ' COLLATE "C"' : '';
    return `${operand(col)}${collate} ${desc ? 'DESC NULLS FIRST' : 'ASC NULLS LAST'}`;
  },
  joinEquals(parent, child) {
    return `${operand(parent)} = ${operand(child)}`;
  },
  limit(limit, offset, params) {
    const parts: string[] = [];
    if (limit !== undefined) parts.push(`LIMIT ${params.add(limit)}`);
    if (offset) parts.push(`OFFSET ${params.add(offset)}`);
    return parts.join(' ');
  },
  aggregate: pgAggregate(),
};

/**
 * PostgreSQL computes its own result types exactly; only base types whose aggregates are the value
 * model's are pushed: float4 sums are float4 there (float8 here), bpchar equality ignores trailing
 * blanks, and other types mapped to text (enums, ...) order by their own rules.
 */
function pgAggregate(): AggregateDialect {
  const PUSHED = new Set(['int2', 'int4', 'int8', 'numeric', 'text', 'varchar', 'date', 'timestamptz', 'timestamp', 'bool', 'uuid']);
  const int8: SqlColumn = { name: '', type: 'int', nullable: true, nativeType: 'bigint', base: 'int8' };
  const numeric: SqlColumn = { name: '', type: 'numeric', nullable: true, nativeType: 'numeric', base: 'numeric' };
  return {
    groupKey: (col) => (PUSHED.has(col.base) ? operand(col) : undefined),
    metric(fn, col) {
      if (!col) return fn === 'count' ? 'count(*)' : undefined;
      if (!PUSHED.has(col.base)) return undefined;
      switch (fn) {
        case 'count':
          return `count(${ident(col.name)})`;
        case 'count_distinct':
          return `count(DISTINCT ${operand(col)})`;
        case 'sum':
        case 'avg':
          return col.type === 'int' || col.type === 'numeric' ? `${fn}(${ident(col.name)})` : undefined;
        case 'min':
        case 'max':
          if (col.type === 'bool') return undefined;
          return `${fn}(${operand(col)}${col.type === 'text' ? ' COLLATE "C"' : ''})`;
      }
    },
    resultColumn(fn, col) {
      if (fn === 'count' || fn === 'count_distinct') return int8;
      if (fn === 'min' || fn === 'max') return col!;
      if (fn === 'sum' && (col!.base === 'int2' || col!.base === 'int4')) return int8;
      return numeric;
    },
  };
}

/** A timestamptz as PostgreSQL prints it in the sessions opened here (TimeZone=UTC, DateStyle=ISO), years 1 to 9999. */
const PG_UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/;

/**
 * The canonical form of a timestamptz PostgreSQL printed: its usual shape is valid already, so it
 * is only rearranged; any other ('infinity', BC, another session time zone) is parsed.
 */
function pgTimestamp(s: string): string {
  const m = PG_UTC_TIMESTAMP.exec(s);
  if (m) return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}Z`;
  return canonicalTimestamp(s) ?? s; // 'infinity' stays as PostgreSQL prints it
}

export function decode(col: SqlColumn, raw: unknown): Value {
  if (raw === null || raw === undefined) return null;
  const s = raw as string;
  switch (col.type) {
    case 'bool':
      return s === 't';
    case 'int':
      return BigInt(s);
    case 'float':
      return Number(s);
    case 'timestamptz':
      return pgTimestamp(s);
    case 'jsonb':
      return JSON.parse(s) as Value;
    case 'bytea':
      return Buffer.from(s.slice(2), 'hex').toString('base64'); // bytea_output=hex: "\x0102..."
    default:
      return s; // numeric and date as PostgreSQL prints them (DateStyle ISO), text
  }
}

// Raw text for every type: the value model decides the conversion, not pg's defaults (which
// would turn timestamps into millisecond Dates and dates into local-time Dates).
const rawText = (v: string): string => v;
const RAW_TYPES = { getTypeParser: () => rawText } as unknown as pg.CustomTypesConfig;

/** A bind join's keys travel as one array parameter (= ANY($1)), so only the statement's size bounds them. */
const POSTGRES_LIMITS: StoreLimits = { maxKeysPerStatement: 1_000_000 };

/**
 * Named (prepared) statements, one name per SQL text for the whole process: a pooled connection
 * parses and plans a statement once and then only binds it. The first MAX_NAMED_STATEMENTS texts get
 * a name and later ones run unnamed, so no connection ever holds more prepared statements than that
 * (pg never deallocates them).
 */
const MAX_NAMED_STATEMENTS = 256;

/** A statement as pg is asked for it: its name (when prepared), text and row shape. */
type StatementConfig = Readonly<{ name?: string; text: string; rowMode: 'array' }>;
const namedStatements = new Map<string, StatementConfig>();

function statementConfig(text: string, prepared: boolean): StatementConfig {
  if (!prepared) return { text, rowMode: 'array' };
  let config = namedStatements.get(text);
  if (config === undefined) {
    if (namedStatements.size >= MAX_NAMED_STATEMENTS) return { text, rowMode: 'array' };
    config = { name: `vg_${namedStatements.size}`, text, rowMode: 'array' };
    namedStatements.set(text, config);
  }
  return config;
}

async function queryRows(client: pg.ClientBase, text: string, values: unknown[], prepared = true): Promise<unknown[][]> {
  // pg copies the own properties of a query's config on every call (about 2 us for four), keeping
  // its prototype: the statement's fixed settings sit on the prototype, the values come apart.
  const config = Object.create(statementConfig(text, prepared)) as pg.QueryArrayConfig;
  return (await client.query(config, values)).rows;
}

/**
 * Runs a read with its prepared statement and, when PostgreSQL refuses that statement because a
 * table's columns changed type since the connection prepared it (a compatible migration such as
 * numeric(12,2) -> numeric(14,2)), once more unprepared: every pooled connection holds the stale
 * statement, and callers must not see the migration fail. The failed attempt's connection is
 * discarded (a failed read's always is), so the stale statement goes with it.
 */
async function withStalePlanRetry<T>(attempt: (prepared: boolean) => Promise<T>): Promise<T> {
  try {
    return await attempt(true);
  } catch (err) {
    if (!stalePlan(err as DriverError)) throw err;
    return attempt(false);
  }
}

export class PostgresSource extends SqlSource<pg.Pool> {
  readonly kind = 'postgres';
  readonly limits = POSTGRES_LIMITS;
  protected readonly dialect = pgDialect;
  protected readonly placeholders = 'dollar';
  protected readonly decode = decode;
  protected readonly classify = pgReason;
  protected override readonly denied = pgDenied;
  private writeSide?: Writer;
  /** Every read carries the caller's identity (docs/security.md, "Identity passthrough"). */
  private readonly passthrough: boolean;

  constructor(opts: SqlSourceOptions & { passthrough?: boolean }) {
    super(opts);
    this.passthrough = opts.passthrough === true;
  }

  /** Writes in one transaction per unit of work (docs/writes.md). */
  get writer(): Writer {
    return (this.writeSide ??= this.sqlWriter({
      connect: () => pgWriteConnection(this.getPool()),
      begin: 'BEGIN',
      returning: true,
      encode: encodePg,
      constraint: (err, table) => pgConstraint(this.name, err, table),
      failure: (err) => this.storeError(err),
      uniqueKeys: async (table) => groupKeys(await this.run(PG_UNIQUE_KEYS, [table.sql])),
    }));
  }

  protected createPool(): pg.Pool {
    // Settings from the URL's own `options` parameter are kept; ours come first so theirs win.
    const { connectionString, ssl } = pgConnection(this.url, this.tls);
    const url = new URL(connectionString);
    const userOptions = url.searchParams.get('options');
    if (userOptions !== null) url.searchParams.delete('options');
    const options = ['-c TimeZone=UTC', '-c DateStyle=ISO', '-c bytea_output=hex', userOptions ?? ''].join(' ').trim();
    const pool = new pg.Pool({
      connectionString: url.toString(),
      ssl,
      options,
      statement_timeout: this.timeoutMs,
      connectionTimeoutMillis: this.connectTimeoutMs,
      max: this.poolSize,
      types: RAW_TYPES,
    });
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', () => {});
    return pool;
  }

  /**
   * A read with the caller's identity (passthrough) or the request's trace id runs in a READ ONLY
   * transaction that sets them first; any other read is the statement alone.
   */
  protected override read(text: string, values: unknown[], signal?: Cancel): Promise<unknown[][]> {
    const prelude = readPrelude(this.passthrough, currentRead());
    if (!prelude) return this.run(text, values, signal);
    return this.run(text, values, signal, (pool) =>
      withStalePlanRetry((prepared) =>
        inTransaction(
          pool,
          { begin: 'BEGIN READ ONLY', prelude, discardOnError: true },
          (client) => queryRows(client, text, values, prepared),
          signal,
        ),
      ),
    );
  }

  protected execute(pool: pg.Pool, text: string, values: unknown[], signal?: Cancel): Promise<unknown[][]> {
    return withStalePlanRetry((prepared) => this.executeOnce(pool, text, values, prepared, signal));
  }

  private async executeOnce(pool: pg.Pool, text: string, values: unknown[], prepared: boolean, signal?: Cancel): Promise<unknown[][]> {
    const client = await pool.connect();
    // Waiting for a pool slot may have outlasted the reader.
    if (signal?.aborted) {
      client.release();
      throw requestCancelled();
    }
    const guard = cancelOnAbort(client, signal);
    let failed = false;
    try {
      return await queryRows(client, text, values, prepared);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      guard.done();
      // As pool.query: a client whose statement failed is not reused, nor one a cancel was sent to.
      client.release(failed || guard.cancelled);
    }
  }

  protected async fullScans(native: NativeQuery): Promise<PlanScans> {
    const plan = await this.genericPlan(native);
    const judged = await Promise.all(
      wholeReads(plan).map(async (r) => {
        const facts = await this.tableFacts(r.schema, r.table);
        return servedByIndex(r.condition, facts.indexed) ? [] : [fullScanOf(`${r.schema}.${r.table}`, facts, r.condition)];
      }),
    );
    const pages = await Promise.all(
      pageReads(plan).map(async (r) => fullScanOf(`${r.schema}.${r.table}`, await this.tableFacts(r.schema, r.table), '')),
    );
    const foreign = foreignScanNodes(plan);
    return {
      fullScans: judged.flat(),
      ...(pages.length > 0 ? { pageScans: pages } : {}),
      ...(foreign.length > 0 ? { foreignReads: await Promise.all(foreign.map((f) => this.foreignRead(f))) } : {}),
    };
  }

  /** A foreign scan with the server and wrapper of its table, from the catalog. */
  private async foreignRead(scan: ForeignScanNode): Promise<ForeignRead> {
    const rows = await this.run(
      `SELECT s.srvname, w.fdwname FROM pg_catalog.pg_foreign_table ft
         JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
         JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
        WHERE n.nspname = $1 AND c.relname = $2`,
      [scan.schema, scan.table],
    );
    const [server, wrapper] = (rows[0] ?? ['', '']) as [string, string];
    return { table: `${scan.schema}.${scan.table}`, server, wrapper, ...(scan.remote !== undefined ? { remote: scan.remote } : {}) };
  }

  /**
   * The generic plan of `native` (src/sources/postgres/full-scans.ts): prepared and explained in a
   * read-only transaction, never executed; the parameters are NULLs the generic plan never reads.
   */
  private async genericPlan(native: NativeQuery): Promise<PgPlanNode> {
    const client = await this.getPool()
      .connect()
      .catch((err: unknown) => {
        throw this.storeError(err);
      });
    let failed = false;
    try {
      await client.query('BEGIN READ ONLY');
      await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
      await client.query(`PREPARE viewgate_cost_guard AS ${native.text}`);
      const args = native.params.length > 0 ? `(${native.params.map(() => 'NULL').join(', ')})` : '';
      const res = await client.query({ text: `EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE viewgate_cost_guard${args}`, rowMode: 'array' });
      await client.query('DEALLOCATE viewgate_cost_guard');
      await client.query('COMMIT');
      const json: unknown = (res.rows as unknown[][])[0]![0];
      return (JSON.parse(String(json)) as { Plan: PgPlanNode }[])[0]!.Plan;
    } catch (err) {
      failed = true;
      throw this.storeError(err);
    } finally {
      // A failure leaves the transaction or the prepared statement behind: that connection is not reused.
      client.release(failed);
    }
  }

  /**
   * A table's size is its statistic. One never analyzed (-1 since PostgreSQL 14, 0 before) is
   * counted, unless its file is empty: an empty hub materialized view, which viewgate's login may
   * not read directly, keeps -1 after its refresh.
   */
  private async tableFacts(schema: string, table: string): Promise<TableFacts> {
    const rows = await this.run(
      `SELECT CASE WHEN c.reltuples > 0 OR (c.reltuples = 0 AND current_setting('server_version_num')::int >= 140000) THEN c.reltuples
                   WHEN pg_catalog.pg_relation_size(c.oid) = 0 THEN 0 ELSE -1 END::float8::text,
              (SELECT coalesce(json_agg(DISTINCT a.attname), '[]') FROM pg_catalog.pg_index i
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = c.oid),
              (SELECT coalesce(json_agg(a.attname ORDER BY a.attnum), '[]') FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table],
    );
    const [reltuples, indexed, columns] = (rows[0] ?? ['-1', '[]', '[]']) as [string, string, string];
    const quoted = `${this.dialect.quoteIdent(schema)}.${this.dialect.quoteIdent(table)}`;
    const count = async (): Promise<number> => Number((await this.run(`SELECT count(*) FROM ${quoted}`, []))[0]![0]);
    return {
      rows: Number(reltuples) >= 0 ? Number(reltuples) : await count(),
      columns: JSON.parse(columns) as string[],
      indexed: JSON.parse(indexed) as string[],
    };
  }

  protected async loadTable(name: string): Promise<SqlTable> {
    const { schema, table } = splitTableName(name);
    const rel = await this.run(
      `SELECT c.oid, n.nspname, c.relname, pg_catalog.obj_description(c.oid, 'pg_class') FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = $1 AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
          AND (CASE WHEN $2::text IS NULL THEN pg_catalog.pg_table_is_visible(c.oid) ELSE n.nspname = $2 END)`,
      [table, schema ?? null],
    );
    const found = rel[0] as [string, string, string, string | null] | undefined;
    if (!found) throw this.noSuchTable(name);
    const [oid, nsp, relname, tableComment] = found;
    const cols = await this.run(
      `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
              CASE WHEN t.typtype = 'd' THEN bt.typname ELSE t.typname END, t.typtype = 'e', NOT a.attnotnull,
              pg_catalog.col_description(a.attrelid, a.attnum)
         FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [oid],
    );
    const pk = await this.run(
      `SELECT a.attname FROM pg_catalog.pg_index i
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1 AND i.indisprimary
        ORDER BY k.ord`,
      [oid],
    );
    const columns = (cols as [string, string, string, string, string, string | null][]).map(
      ([attname, native, base, isEnum, nullable, comment]) => ({
        name: attname,
        type: isEnum === 't' ? 'text' : (TYPE_MAP[base] ?? 'text'),
        nullable: nullable === 't',
        nativeType: native,
        base,
        ...this.comment(comment),
      }),
    ) satisfies SqlColumn[];
    return this.sqlTable(
      name,
      nsp,
      relname,
      columns,
      (pk as [string][]).map((r) => r[0]),
      this.comment(tableComment).description,
    );
  }
}
