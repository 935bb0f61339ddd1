// One audit record per REST request and MCP tool call (docs/security.md, "Audit"), written by the
// gateway from its trace of the request; requests the pipeline never ran are recorded through the
// gateway too (src/http/request-audit.ts, src/mcp/stdio-audit.ts). A failing sink is never silent:
// it is logged and counted, and with failClosed the request fails with 503. The sinks, and how
// they batch the records that arrive together, are in src/ops/audit-sinks.ts.
import type { Config } from '../config/schema.js';
import type { Logger } from './logger.js';
import type { Identity } from '../policy/identity.js';
import { ApiError } from '../errors.js';
import { AuditDropped, type AuditRecord, type AuditSink } from './audit-sinks.js';

export { sinkFor, type AuditRecord, type AuditSink } from './audit-sinks.js';

/** What one finished request tells its record; the gateway builds it from the request's trace. */
export interface AuditEntry {
  requestId: string;
  surface: AuditRecord['surface'];
  action: string;
  identity?: Identity;
  view?: string;
  fields?: readonly string[];
  filter?: string;
  rowCount?: number;
  status: number;
  latencyMs: number;
  args?: unknown;
  traceId?: string;
  simulatedBy?: string;
}

let isoMs = -1;
let isoText = '';
let secondStart = -1;
/** "YYYY-MM-DDTHH:MM:SS." of the second that began at secondStart. */
let secondText = '';

/**
 * The current time as an ISO string; made once per millisecond, however many records share it,
 * and from the second's text made once per second (a Date and its text cost more than the rest).
 */
export function isoNow(ms = Date.now()): string {
  if (ms !== isoMs) {
    const within = ms - secondStart;
    if (within < 0 || within >= 1000) {
      secondStart = ms - (ms % 1000);
      secondText = new Date(secondStart).toISOString().slice(0, 20);
    }
    isoMs = ms;
    isoText = `${secondText}${String(ms - secondStart).padStart(3, '0')}Z`;
  }
  return isoText;
}

/** allow below 400; deny for 401, 403 and 404 (not granted reads as not found); error otherwise. */
function decisionFor(status: number): AuditRecord['decision'] {
  return status < 400 ? 'allow' : status === 401 || status === 403 || status === 404 || status === 405 ? 'deny' : 'error';
}

/** The 503 a server that fails closed answers when a request's record cannot be written. */
export function auditUnwritable(): ApiError {
  return new ApiError('audit_unwritable', 'the audit log cannot be written, and this server refuses requests it cannot audit');
}

export class Audit {
  failures = 0;
  /** Records refused because the sink was not keeping up (AuditDropped). */
  dropped = 0;
  private lastDropWarning = -Infinity;
  private readonly sink?: AuditSink;

  constructor(
    readonly config: Config['audit'],
    private readonly log: Logger,
    sink: AuditSink | undefined,
  ) {
    this.sink = sink;
  }

  /**
   * Writes one record; resolves false when the sink failed or dropped it (the caller decides on
   * failClosed). The sink writes it with the records that arrive with it, in one batch.
   */
  async record(r: AuditRecord): Promise<boolean> {
    if (!this.sink) return true;
    try {
      await this.sink.write([r]);
      return true;
    } catch (err) {
      this.notWritten(err, r);
      return false;
    }
  }

  /** record() for a server that fails open: nothing waits, and a sink that batches makes no promise per record. */
  private send(r: AuditRecord): void {
    const sink = this.sink;
    if (!sink) return;
    if (!sink.send) {
      void this.record(r);
      return;
    }
    try {
      sink.send(r, (err) => err !== undefined && this.notWritten(err, r));
    } catch (err) {
      this.notWritten(err, r);
    }
  }

  /** A record the sink dropped or failed to write: counted and logged. */
  private notWritten(err: unknown, r: AuditRecord): void {
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
  }

  /**
   * The record of one finished request. Failing open, returns nothing (nobody waits for the
   * write); failing closed, a promise of the 503 to answer instead when the write failed.
   */
  recordCall(e: AuditEntry): Promise<ApiError | undefined> | undefined {
    // Every key always present (JSON leaves the undefined ones out), the optional ones after:
    // one shape for every record, and no object made per optional field.
    const r: AuditRecord = {
      time: isoNow(),
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
    };
    if (e.args !== undefined) r.args = e.args;
    if (e.traceId !== undefined) r.traceId = e.traceId;
    if (e.simulatedBy !== undefined) r.simulatedBy = e.simulatedBy;
    // Failing open, the answer does not wait for the write (a failure is logged and counted);
    // failing closed, it must know the record is written.
    if (!this.failClosed) {
      this.send(r);
      return undefined;
    }
    return this.record(r).then((ok) => (ok ? undefined : auditUnwritable()));
  }

  get failClosed(): boolean {
    return this.config.failClosed;
  }

  /** Waits until every record handed over so far is written or has failed (graceful shutdown, tests). */
  async flush(): Promise<void> {
    await this.sink?.flush?.();
    // Let the continuations of the writes just settled count their failures (record()).
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Writes what is still waiting, then closes the sink. */
  async close(): Promise<void> {
    await this.sink?.close();
  }
}
