// One audit record per REST request and MCP tool call (docs/security.md, "Audit"), written by the
// gateway from its trace of the request; requests the pipeline never ran are recorded through the
// gateway too (src/http/request-audit.ts, src/mcp/stdio-audit.ts). A failing sink is never silent:
// it is logged and counted, and with failClosed the request fails with 503.
import { open, type FileHandle } from 'node:fs/promises';
import pg from 'pg';
import type { Config } from '../config/schema.js';
import { isPostgresConfig } from '../sources/postgres/index.js';
import type { Logger } from './logger.js';
import type { Identity } from '../policy/identity.js';
import { ApiError } from '../errors.js';
import { toJson } from '../values.js';
import type { BoundedOutput } from './output.js';

export interface AuditRecord {
  time: string;
  requestId: string;
  surface: 'rest' | 'mcp';
  /** REST route or MCP tool name. */
  action: string;
  subject?: string;
  /** The principal as rate limits see it (docs/security.md "Identity key"). */
  identityKey?: string;
  role?: string;
  keyName?: string;
  view?: string;
  fields?: string[];
  filter?: string;
  rowCount?: number;
  decision: 'allow' | 'deny' | 'error';
  status: number;
  latencyMs: number;
  args?: unknown;
}

/** What one finished request tells its record; the gateway builds it from the request's trace. */
export interface AuditEntry {
  requestId: string;
  surface: AuditRecord['surface'];
  action: string;
  identity?: Identity;
  view?: string;
  fields?: string[];
  filter?: string;
  rowCount?: number;
  status: number;
  latencyMs: number;
  args?: unknown;
}

/** allow below 400; deny for 401, 403 and 404 (not granted reads as not found); error otherwise. */
function decisionFor(status: number): AuditRecord['decision'] {
  return status < 400 ? 'allow' : status === 401 || status === 403 || status === 404 || status === 405 ? 'deny' : 'error';
}

/** The 503 a server that fails closed answers when a request's record cannot be written. */
export function auditUnwritable(): ApiError {
  return new ApiError('audit_unwritable', 'the audit log cannot be written, and this server refuses requests it cannot audit');
}

export interface AuditSink {
  write(records: AuditRecord[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A record refused because the way out is full (a reader that stopped reading, a stalled disk):
 * counted as dropped, and with failClosed the request fails with 503 (docs/operations.md, "Slow or
 * stalled log consumers").
 */
class AuditDropped extends Error {
  constructor(where: string) {
    super(`audit record dropped: ${where} is not keeping up`);
  }
}

/** JSON lines on the process's stdout (stderr under MCP stdio), through the bounded output. */
class StreamSink implements AuditSink {
  constructor(private readonly output: BoundedOutput) {}

  async write(records: AuditRecord[]): Promise<void> {
    const text = records.map((r) => toJson({ audit: r }) + '\n').join('');
    if (!this.output.write(text, 'audit')) throw new AuditDropped('the audit output stream');
  }

  async close(): Promise<void> {}
}

/** Bytes of records handed to the file but not yet written, above which records are dropped. */
const FILE_PENDING_LIMIT = 8 << 20;

/** Appends JSON lines to one file, kept open (log rotation: use copytruncate). */
class FileSink implements AuditSink {
  private handle?: Promise<FileHandle>;
  private pending = 0;

  constructor(private readonly path: string) {}

  async write(records: AuditRecord[]): Promise<void> {
    const text = records.map((r) => toJson(r) + '\n').join('');
    const bytes = Buffer.byteLength(text);
    if (this.pending + bytes > FILE_PENDING_LIMIT) throw new AuditDropped(`the audit file ${this.path}`);
    this.pending += bytes;
    // Records name people, filters and row counts: a new file is readable by its owner only.
    this.handle ??= open(this.path, 'a', 0o600);
    try {
      await (await this.handle).appendFile(text, 'utf8');
    } catch (err) {
      const h = this.handle;
      this.handle = undefined;
      await h?.then((f) => f.close()).catch(() => {});
      throw err;
    } finally {
      this.pending -= bytes;
    }
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await (await h).close();
  }
}

/** Rows in table viewgate_audit (created if missing) of a postgres source. */
class PostgresSink implements AuditSink {
  private readonly pool: pg.Pool;
  private ready?: Promise<void>;

  constructor(url: string) {
    // Bounded waits: an unreachable audit database must fail the write (and, with failClosed, the
    // request), never hang it.
    this.pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
    this.pool.on('error', () => {});
  }

  private ensureTable(): Promise<void> {
    this.ready ??= this.pool
      .query(
        `CREATE TABLE IF NOT EXISTS viewgate_audit (
           id bigserial PRIMARY KEY, time timestamptz NOT NULL, request_id text NOT NULL, surface text NOT NULL,
           action text NOT NULL, subject text, role text, key_name text, view text, fields text[], filter text,
           row_count integer, decision text NOT NULL, status integer NOT NULL, latency_ms double precision, args jsonb,
           identity_key text)`,
      )
      // A table made by an older viewgate lacks identity_key; added only when missing (no ALTER otherwise).
      .then(() =>
        this.pool.query(
          `SELECT 1 FROM information_schema.columns WHERE table_name = 'viewgate_audit' AND column_name = 'identity_key'
             AND table_schema = ANY (current_schemas(false))`,
        ),
      )
      .then(async (r) => {
        if (r.rowCount === 0) await this.pool.query('ALTER TABLE viewgate_audit ADD COLUMN IF NOT EXISTS identity_key text');
      })
      .then(
        () => undefined,
        (err: unknown) => {
          this.ready = undefined;
          throw err;
        },
      );
    return this.ready;
  }

  async write(records: AuditRecord[]): Promise<void> {
    await this.ensureTable();
    for (const r of records) {
      await this.pool.query(
        `INSERT INTO viewgate_audit (time, request_id, surface, action, subject, role, key_name, view, fields, filter,
           row_count, decision, status, latency_ms, args, identity_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`,
        [
          r.time,
          r.requestId,
          r.surface,
          r.action,
          r.subject ?? null,
          r.role ?? null,
          r.keyName ?? null,
          r.view ?? null,
          r.fields ?? null,
          r.filter ?? null,
          r.rowCount ?? null,
          r.decision,
          r.status,
          r.latencyMs,
          r.args === undefined ? null : toJson(r.args),
          r.identityKey ?? null,
        ],
      );
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** `output` is the process's stdout, or stderr under MCP stdio (stdout carries only the protocol there). */
export function sinkFor(config: Config, output: BoundedOutput): AuditSink | undefined {
  const a = config.audit;
  switch (a.sink) {
    case 'file':
      return new FileSink(a.path ?? './audit.log');
    case 'postgres': {
      const src = config.sources[a.source!];
      if (!src || !isPostgresConfig(src)) throw new Error(`the audit source "${a.source}" is not a postgres source`);
      return new PostgresSink(src.url);
    }
    case 'stdout':
      return new StreamSink(output);
    case 'off':
      return undefined;
  }
}

export class Audit {
  failures = 0;
  /** Records refused because the sink was not keeping up (AuditDropped). */
  dropped = 0;
  private lastDropWarning = -Infinity;
  private readonly sink?: AuditSink;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    readonly config: Config['audit'],
    private readonly log: Logger,
    sink: AuditSink | undefined,
  ) {
    this.sink = sink;
  }

  /** Writes one record; resolves false when the sink failed (the caller decides on failClosed). */
  async record(r: AuditRecord): Promise<boolean> {
    if (!this.sink) return true;
    const p = this.sink.write([r]);
    const tracked = p.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(tracked);
    try {
      await p;
      return true;
    } catch (err) {
      if (err instanceof AuditDropped) {
        this.dropped++;
        // One warning a minute, not one per request: the log may be stalled by the same reader.
        if (performance.now() - this.lastDropWarning > 60_000) {
          this.lastDropWarning = performance.now();
          this.log.warn({ dropped: this.dropped }, `${err.message}; records are being dropped (viewgate_audit_dropped_total)`);
        }
      } else {
        this.failures++;
        this.log.error({ err, requestId: r.requestId }, 'audit write failed');
      }
      return false;
    } finally {
      this.inFlight.delete(tracked);
    }
  }

  /**
   * The record of one finished request. Returns the 503 to answer instead when the write failed
   * and the server fails closed.
   */
  async recordCall(e: AuditEntry): Promise<ApiError | undefined> {
    const ok = await this.record({
      time: new Date().toISOString(),
      requestId: e.requestId,
      surface: e.surface,
      action: e.action,
      subject: e.identity?.subject,
      identityKey: e.identity?.identityKey,
      role: e.identity?.role,
      keyName: e.identity?.keyName,
      view: e.view,
      fields: e.fields,
      filter: e.filter,
      rowCount: e.rowCount,
      decision: decisionFor(e.status),
      status: e.status,
      latencyMs: Math.round(e.latencyMs * 100) / 100,
      ...(e.args !== undefined ? { args: e.args } : {}),
    });
    if (ok || !this.failClosed) return undefined;
    return auditUnwritable();
  }

  get failClosed(): boolean {
    return this.config.failClosed;
  }

  /** Waits for pending writes (graceful shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.sink?.close();
  }
}
