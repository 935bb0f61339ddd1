// GET /admin/api/audit (docs/console.md, "Audit search"): records of the PostgreSQL audit sink
// (table viewgate_audit), filtered by time, subject, role, view, decision and status, newest first;
// `after=<id>` tails: only records newer than that id, oldest first, so repeated calls with the
// last id seen never skip one. Every value is a bound parameter; the limit is capped.
import pg from 'pg';
import type { Config } from '../config/schema.js';
import { ApiError } from '../errors.js';
import { isPostgresConfig } from '../sources/postgres/index.js';
import { pgConnection } from '../sources/postgres/ssl.js';

const MAX_AUDIT_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
const PARAMS = new Set(['from', 'to', 'subject', 'role', 'view', 'decision', 'status', 'limit', 'after']);

const COLUMNS = `id::text AS id, time, request_id AS "requestId", surface, action, subject, identity_key AS "identityKey", role,
  key_name AS "keyName", view, fields, filter, row_count AS "rowCount", decision, status, latency_ms AS "latencyMs", args,
  trace_id AS "traceId", simulated_by AS "simulatedBy"`;

/** One pool for the audit database while the server runs (closed with it). */
export class AuditSearch {
  private pool?: { url: string; pool: pg.Pool };

  async search(config: Config, query: Record<string, unknown>): Promise<{ records: unknown[] }> {
    const source = auditDatabase(config);
    const { where, params, limit, tail } = filters(query);
    params.push(limit);
    const sql = `SELECT ${COLUMNS} FROM viewgate_audit${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY viewgate_audit.id ${tail ? 'ASC' : 'DESC'} LIMIT $${params.length}`;
    try {
      const r = await this.poolFor(source).query(sql, params);
      return { records: r.rows.map((row: { time: Date }) => ({ ...row, time: row.time.toISOString() })) };
    } catch (err) {
      // No request has been audited yet: the table does not exist.
      if ((err as { code?: string }).code === '42P01') return { records: [] };
      throw err;
    }
  }

  private poolFor(source: { url: string; tls?: Parameters<typeof pgConnection>[1] }): pg.Pool {
    if (this.pool?.url !== source.url) {
      void this.pool?.pool.end();
      const pool = new pg.Pool({ ...pgConnection(source.url, source.tls), max: 2, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
      pool.on('error', () => {});
      this.pool = { url: source.url, pool };
    }
    return this.pool.pool;
  }

  async close(): Promise<void> {
    await this.pool?.pool.end();
    this.pool = undefined;
  }
}

function auditDatabase(config: Config) {
  const a = config.audit;
  const src = a.sink === 'postgres' && a.source !== undefined ? config.sources[a.source] : undefined;
  if (!src || !isPostgresConfig(src)) {
    throw new ApiError(
      'conflict',
      `audit search reads the postgres audit sink, and this server's audit sink is "${a.sink}"; set audit.sink: postgres and audit.source to search from the console`,
    );
  }
  return src;
}

function filters(query: Record<string, unknown>): { where: string[]; params: unknown[]; limit: number; tail: boolean } {
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (clause: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  for (const [name, v] of Object.entries(query)) {
    if (!PARAMS.has(name)) throw new ApiError('bad_request', `unknown parameter "${name}"; use ${[...PARAMS].join(', ')}`, { param: name });
    if (typeof v !== 'string') throw new ApiError('bad_request', `parameter "${name}" is given more than once`, { param: name });
  }
  const q = query as Record<string, string | undefined>;
  for (const name of ['from', 'to'] as const) {
    const v = q[name];
    if (v === undefined) continue;
    if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) || Number.isNaN(Date.parse(v))) {
      throw new ApiError('bad_request', `${name} must be a timestamp such as 2026-11-30T12:00:00Z, not "${v.slice(0, 40)}"`, {
        param: name,
      });
    }
    bind((n) => (name === 'from' ? `time >= ${n}::timestamptz` : `time < ${n}::timestamptz`), new Date(v).toISOString());
  }
  for (const [name, column] of [
    ['subject', 'subject'],
    ['role', 'role'],
    ['view', 'view'],
  ] as const) {
    if (q[name] !== undefined) bind((n) => `${column} = ${n}`, q[name]);
  }
  if (q.decision !== undefined) {
    if (!['allow', 'deny', 'error'].includes(q.decision))
      throw new ApiError('bad_request', 'decision is allow, deny or error', { param: 'decision' });
    bind((n) => `decision = ${n}`, q.decision);
  }
  if (q.status !== undefined) bind((n) => `status = ${n}`, integer(q.status, 'status', 100, 599));
  if (q.after !== undefined) {
    if (!/^\d{1,18}$/.test(q.after)) throw new ApiError('bad_request', 'after must be the id of a record (digits)', { param: 'after' });
    bind((n) => `id > ${n}::bigint`, q.after);
  }
  const limit = q.limit === undefined ? DEFAULT_LIMIT : Math.min(integer(q.limit, 'limit', 1, Number.MAX_SAFE_INTEGER), MAX_AUDIT_LIMIT);
  return { where, params, limit, tail: q.after !== undefined };
}

function integer(text: string, name: string, min: number, max: number): number {
  const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new ApiError('bad_request', `${name} must be a whole number from ${min} to ${max}`, { param: name });
  return n;
}
