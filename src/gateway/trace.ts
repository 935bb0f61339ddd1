// The trace of one request: notes the pipeline takes while it runs (which view, which fields, the
// cache and rate-limit decisions, ...), frozen into a Trace when the request is done, and the
// audit entry built from it.
import type { AuditEntry } from '../ops/audit.js';
import type { Identity } from '../policy/identity.js';
import type { GatewayRequest, Trace } from './request.js';

/** What the pipeline has learned about a request so far; only the gateway writes it. */
export interface TraceNotes {
  view?: string;
  fields?: string[];
  filter?: string;
  rowCount?: number;
  cache?: Trace['cache'];
  rateLimit?: Trace['rateLimit'];
  /** What the audit record keeps of the request when the surface gave no arguments (a write: the keys written). */
  args?: unknown;
  deprecation?: Trace['deprecation'];
  /** The OpenTelemetry trace id of the request, when it is traced (docs/operations.md, "Traces"). */
  traceId?: string;
}

export function traceOf(
  request: GatewayRequest,
  identity: Identity | undefined,
  notes: TraceNotes,
  status: number,
  latencyMs: number,
): Trace {
  return Object.freeze({
    requestId: request.requestId,
    surface: request.surface,
    action: request.action,
    ...(identity ? { identity } : {}),
    ...(notes.view !== undefined ? { view: notes.view } : {}),
    ...(notes.fields ? { fields: Object.freeze([...notes.fields]) } : {}),
    ...(notes.filter !== undefined ? { filter: notes.filter } : {}),
    ...(notes.rowCount !== undefined ? { rowCount: notes.rowCount } : {}),
    ...(request.args !== undefined ? { args: request.args } : notes.args !== undefined ? { args: notes.args } : {}),
    // The gateway makes both notes afresh for each request: frozen as they are, not copied.
    ...(notes.cache ? { cache: Object.freeze(notes.cache) } : {}),
    ...(notes.rateLimit ? { rateLimit: Object.freeze(notes.rateLimit) } : {}),
    ...(notes.deprecation ? { deprecation: Object.freeze({ ...notes.deprecation }) } : {}),
    ...(notes.traceId !== undefined ? { traceId: notes.traceId } : {}),
    ...(request.simulatedBy !== undefined ? { simulatedBy: request.simulatedBy } : {}),
    status,
    latencyMs,
  });
}

export function auditEntryOf(trace: Trace): AuditEntry {
  return {
    requestId: trace.requestId,
    surface: trace.surface,
    action: trace.action,
    ...(trace.identity ? { identity: trace.identity } : {}),
    ...(trace.view !== undefined ? { view: trace.view } : {}),
    ...(trace.fields ? { fields: [...trace.fields] } : {}),
    ...(trace.filter !== undefined ? { filter: trace.filter } : {}),
    ...(trace.rowCount !== undefined ? { rowCount: trace.rowCount } : {}),
    status: trace.status,
    latencyMs: trace.latencyMs,
    ...(trace.args !== undefined ? { args: trace.args } : {}),
    ...(trace.traceId !== undefined ? { traceId: trace.traceId } : {}),
    ...(trace.simulatedBy !== undefined ? { simulatedBy: trace.simulatedBy } : {}),
  };
}
