// Where audit records go (docs/security.md, "Audit"): JSON lines on stdout (stderr under MCP
// stdio), JSON lines appended to a file, or rows in a PostgreSQL table. Each sink collects the
// records that arrive close together and writes them as one batch (src/ops/audit-batch.ts): one
// write to the output or the file, one INSERT per batch; what waits for a slow way out is bounded.
import fs from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Config } from '../config/schema.js';
import { isPostgresConfig } from '../sources/postgres/index.js';
import { pgConnection } from '../sources/postgres/ssl.js';
import type { StoreTls } from '../config/tls.js';
import { toJson } from '../values.js';
import { auditLine, type AuditRecord } from './audit-line.js';
import { Batcher, type BatchTarget, type Settle } from './audit-batch.js';
import { DEFAULT_OUTPUT_LIMITS, type BoundedOutput } from './output.js';

export type { AuditRecord } from './audit-line.js';

export interface AuditSink {
  /** Settles once these records are written, or rejects (AuditDropped: refused because the way out is full). */
  write(records: AuditRecord[]): Promise<void>;
  /** write() of one record without a promise: `settle` is told the outcome (a sink that batches). */
  send?(record: AuditRecord, settle: Settle): void;
  /** Waits until every record handed to `write` so far is written or has failed (a sink that buffers). */
  flush?(): Promise<void>;
  /** Flushes, then releases the file or the pool. */
  close(): Promise<void>;
}

/**
 * A record refused because the way out is full (a reader that stopped reading, a stalled disk or
 * database): counted as dropped, and with failClosed the request fails with 503 (docs/operations.md,
 * "Slow or stalled log consumers").
 */
export class AuditDropped extends Error {
  constructor(where: string) {
    super(`audit record dropped: ${where} is not keeping up`);
  }
}

/** A batch this large is written without waiting for the next turn of the event loop. */
const MAX_BATCH_RECORDS = 256;

/** Bytes of records waiting for the file or the database, above which records are dropped. */
const PENDING_LIMIT = 8 << 20;

/**
 * How long a record of a server that fails open waits for others to share its write. Failing
 * closed, each request waits for its own record, so a batch is written at the next turn of the
 * event loop instead.
 */
export const FAIL_OPEN_WINDOW_MS = 20;

/** A sink that queues each record and writes the batches they form, one at a time. */
abstract class BatchingSink<T> implements AuditSink {
  private readonly batches: Batcher<T>;

  constructor(where: string, maxPendingBytes: number, maxDelayMs: number) {
    const target: BatchTarget<T> = { write: (items) => this.writeBatch(items) };
    this.batches = new Batcher(target, { maxRecords: MAX_BATCH_RECORDS, maxPendingBytes, maxDelayMs }, () => new AuditDropped(where));
  }

  /** One record as this sink writes it, and about how many bytes it holds while it waits. */
  protected abstract encode(record: AuditRecord): { item: T; bytes: number };

  /** Writes one batch, as BatchTarget.write. */
  protected abstract writeBatch(items: T[]): Promise<void | (Error | undefined)[]>;

  write(records: AuditRecord[]): Promise<void> {
    if (records.length === 1) return this.queue(records[0]!);
    return Promise.all(records.map((r) => this.queue(r))).then(() => {});
  }

  private queue(record: AuditRecord): Promise<void> {
    const { item, bytes } = this.encode(record);
    return this.batches.add(item, bytes);
  }

  send(record: AuditRecord, settle: Settle): void {
    const { item, bytes } = this.encode(record);
    this.batches.send(item, bytes, settle);
  }

  flush(): Promise<void> {
    return this.batches.drain();
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

/** JSON lines on the process's stdout (stderr under MCP stdio), through the bounded output. */
class StreamSink extends BatchingSink<string> {
  constructor(
    private readonly output: BoundedOutput,
    maxDelayMs: number,
  ) {
    // Records wait here for the batch window at most: the output's own bound applies.
    super('the audit output stream', DEFAULT_OUTPUT_LIMITS.audit, maxDelayMs);
  }

  protected encode(record: AuditRecord): { item: string; bytes: number } {
    const line = `{"audit":${auditLine(record)}}\n`;
    return { item: line, bytes: line.length };
  }

  /** Each record the output has no room for is dropped on its own, as it would be written alone. */
  protected async writeBatch(lines: string[]): Promise<(Error | undefined)[]> {
    return this.output.writeLines(lines, 'audit').map((kept) => (kept ? undefined : new AuditDropped('the audit output stream')));
  }
}

const openFile = promisify(fs.open);
const closeFile = promisify(fs.close);

/** Writes all of `bytes` at the end of the file `fd` was opened for appending. */
function writeAll(fd: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const from = (offset: number) =>
      fs.write(fd, bytes, offset, bytes.length - offset, null, (err, written) => {
        if (err) reject(err);
        else if (offset + written < bytes.length) from(offset + written);
        else resolve();
      });
    from(0);
  });
}

/**
 * Appends JSON lines to one file, kept open (log rotation: use copytruncate). One write(2) per
 * batch on the file descriptor: FileHandle.appendFile costs about twice the CPU for the same bytes.
 */
class FileSink extends BatchingSink<string> {
  private fd?: Promise<number>;

  constructor(
    private readonly path: string,
    maxDelayMs: number,
  ) {
    super(`the audit file ${path}`, PENDING_LIMIT, maxDelayMs);
  }

  protected encode(record: AuditRecord): { item: string; bytes: number } {
    const line = auditLine(record) + '\n';
    return { item: line, bytes: Buffer.byteLength(line) };
  }

  protected async writeBatch(lines: string[]): Promise<void> {
    // Records name people, filters and row counts: a new file is readable by its owner only.
    this.fd ??= openFile(this.path, 'a', 0o600);
    try {
      await writeAll(await this.fd, Buffer.from(lines.join(''), 'utf8'));
    } catch (err) {
      const fd = this.fd;
      this.fd = undefined;
      await fd?.then((f) => closeFile(f)).catch(() => {});
      throw err;
    }
  }

  override async close(): Promise<void> {
    await this.flush();
    const fd = this.fd;
    this.fd = undefined;
    if (fd) await closeFile(await fd);
  }
}

/** The columns of viewgate_audit a record fills, in the order of PostgresSink's row values. */
const COLUMNS = [
  ['time', 'timestamptz'],
  ['request_id', 'text'],
  ['surface', 'text'],
  ['action', 'text'],
  ['subject', 'text'],
  ['role', 'text'],
  ['key_name', 'text'],
  ['view', 'text'],
  ['fields', 'text'],
  ['filter', 'text'],
  ['row_count', 'integer'],
  ['decision', 'text'],
  ['status', 'integer'],
  ['latency_ms', 'double precision'],
  ['args', 'text'],
  ['identity_key', 'text'],
  ['trace_id', 'text'],
  ['simulated_by', 'text'],
] as const;

type Row = (string | number | null)[];

/**
 * One INSERT for a whole batch: each column travels as one array parameter, unnested in step. A
 * row's fields (text[]) cannot be an element of an array of arrays (rows name different numbers of
 * fields), so each travels as a JSON array; args as JSON text, as jsonb.
 */
const INSERT_BATCH = `INSERT INTO viewgate_audit (${COLUMNS.map(([c]) => c).join(', ')})
  SELECT ${COLUMNS.map(([c]) =>
    c === 'fields'
      ? 'CASE WHEN r.fields IS NULL THEN NULL ELSE ARRAY(SELECT json_array_elements_text(r.fields::json)) END'
      : c === 'args'
        ? 'r.args::jsonb'
        : `r.${c}`,
  ).join(', ')}
  FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')}) WITH ORDINALITY
    AS r(${COLUMNS.map(([c]) => c).join(', ')}, n)
  ORDER BY r.n`;

/** A data exception or constraint violation: what one row holds, not the connection or the table. */
function isDataError(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** Rows in table viewgate_audit (created if missing) of a postgres source. */
class PostgresSink extends BatchingSink<Row> {
  private readonly pool: pg.Pool;
  private ready?: Promise<void>;

  constructor(url: string, tls: StoreTls | undefined, maxDelayMs: number) {
    super('the audit database', PENDING_LIMIT, maxDelayMs);
    // Bounded waits: an unreachable audit database must fail the write (and, with failClosed, the
    // request), never hang it.
    this.pool = new pg.Pool({ ...pgConnection(url, tls), max: 2, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
    this.pool.on('error', () => {});
  }

  private ensureTable(): Promise<void> {
    this.ready ??= this.pool
      .query(
        `CREATE TABLE IF NOT EXISTS viewgate_audit (
           id bigserial PRIMARY KEY, time timestamptz NOT NULL, request_id text NOT NULL, surface text NOT NULL,
           action text NOT NULL, subject text, role text, key_name text, view text, fields text[], filter text,
           row_count integer, decision text NOT NULL, status integer NOT NULL, latency_ms double precision, args jsonb,
           identity_key text, trace_id text, simulated_by text)`,
      )
      // A table made by an older viewgate lacks the later columns; each is added only when missing (no ALTER otherwise).
      .then(() =>
        this.pool.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'viewgate_audit'
             AND column_name IN ('identity_key', 'trace_id', 'simulated_by') AND table_schema = ANY (current_schemas(false))`,
        ),
      )
      .then(async (r) => {
        const present = new Set(r.rows.map((c) => c.column_name));
        for (const column of ['identity_key', 'trace_id', 'simulated_by'].filter((c) => !present.has(c)))
          await this.pool.query(`ALTER TABLE viewgate_audit ADD COLUMN IF NOT EXISTS ${column} text`);
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

  protected encode(r: AuditRecord): { item: Row; bytes: number } {
    const row: Row = [
      r.time,
      r.requestId,
      r.surface,
      r.action,
      r.subject ?? null,
      r.role ?? null,
      r.keyName ?? null,
      r.view ?? null,
      r.fields ? JSON.stringify(r.fields) : null,
      r.filter ?? null,
      r.rowCount ?? null,
      r.decision,
      r.status,
      r.latencyMs,
      r.args === undefined ? null : toJson(r.args),
      r.identityKey ?? null,
      r.traceId ?? null,
      r.simulatedBy ?? null,
    ];
    return { item: row, bytes: row.reduce<number>((n, v) => n + (typeof v === 'string' ? v.length : 8), 0) };
  }

  protected async writeBatch(rows: Row[]): Promise<void | (Error | undefined)[]> {
    await this.ensureTable();
    try {
      await this.insert(rows);
    } catch (err) {
      if (rows.length === 1 || !isDataError(err)) throw err;
      // What one record holds (a NUL character, say) fails the whole INSERT: each row alone, so it fails alone.
      const refused: (Error | undefined)[] = [];
      for (const row of rows) {
        try {
          await this.insert([row]);
          refused.push(undefined);
        } catch (e) {
          refused.push(e as Error);
        }
      }
      return refused;
    }
  }

  private async insert(rows: Row[]): Promise<void> {
    await this.pool.query(
      INSERT_BATCH,
      COLUMNS.map((_, i) => rows.map((row) => row[i])),
    );
  }

  override async close(): Promise<void> {
    await this.flush();
    await this.pool.end();
  }
}

/** `output` is the process's stdout, or stderr under MCP stdio (stdout carries only the protocol there). */
export function sinkFor(config: Config, output: BoundedOutput): AuditSink | undefined {
  const a = config.audit;
  const window = a.failClosed ? 0 : FAIL_OPEN_WINDOW_MS;
  switch (a.sink) {
    case 'file':
      return new FileSink(a.path ?? './audit.log', window);
    case 'postgres': {
      const src = config.sources[a.source!];
      if (!src || !isPostgresConfig(src)) throw new Error(`the audit source "${a.source}" is not a postgres source`);
      return new PostgresSink(src.url, src.tls, window);
    }
    case 'stdout':
      return new StreamSink(output, window);
    case 'off':
      return undefined;
  }
}
