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

type Writable<T> = { -readonly [K in keyof T]: T[K] };

// Both are built field by field: conditional spreads cost every request an object per field.
export function traceOf(
  request: GatewayRequest,
  identity: Identity | undefined,
  notes: TraceNotes,
  status: number,
  latencyMs: number,
): Trace {
  const t: Writable<Trace> = { requestId: request.requestId, surface: request.surface, action: request.action } as Writable<Trace>;
  if (identity) t.identity = identity;
  if (notes.view !== undefined) t.view = notes.view;
  if (notes.fields) t.fields = Object.freeze([...notes.fields]);
  if (notes.filter !== undefined) t.filter = notes.filter;
  if (notes.rowCount !== undefined) t.rowCount = notes.rowCount;
  if (request.args !== undefined) t.args = request.args;
  else if (notes.args !== undefined) t.args = notes.args;
  // The gateway makes both notes afresh for each request: frozen as they are, not copied.
  if (notes.cache) t.cache = Object.freeze(notes.cache);
  if (notes.rateLimit) t.rateLimit = Object.freeze(notes.rateLimit);
  if (notes.deprecation) t.deprecation = Object.freeze({ ...notes.deprecation });
  if (notes.traceId !== undefined) t.traceId = notes.traceId;
  if (request.simulatedBy !== undefined) t.simulatedBy = request.simulatedBy;
  t.status = status;
  t.latencyMs = latencyMs;
  return Object.freeze(t);
}

export function auditEntryOf(trace: Trace): AuditEntry {
  const e: AuditEntry = { requestId: trace.requestId, surface: trace.surface, action: trace.action } as AuditEntry;
  if (trace.identity) e.identity = trace.identity;
  if (trace.view !== undefined) e.view = trace.view;
  if (trace.fields) e.fields = trace.fields;
  if (trace.filter !== undefined) e.filter = trace.filter;
  if (trace.rowCount !== undefined) e.rowCount = trace.rowCount;
  e.status = trace.status;
  e.latencyMs = trace.latencyMs;
  if (trace.args !== undefined) e.args = trace.args;
  if (trace.traceId !== undefined) e.traceId = trace.traceId;
  if (trace.simulatedBy !== undefined) e.simulatedBy = trace.simulatedBy;
  return e;
}
