// One audit record as its JSON line, written key by key. Every record has the keys Audit.recordCall
// gives it, in that order, so the text is JSON.stringify's for the same record (test/unit/audit-line.test.ts)
// at about half its cost: the file and stream sinks write one for every request.
import { toJsonSeldomBig } from '../values.js';

/** One audit record, as every sink receives it (src/ops/audit-sinks.ts). */
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
  fields?: readonly string[];
  filter?: string;
  rowCount?: number;
  decision: 'allow' | 'deny' | 'error';
  status: number;
  latencyMs: number;
  args?: unknown;
  /** The request's OpenTelemetry trace id (telemetry configured). */
  traceId?: string;
  /** The identity key of the person who ran this request in the console's simulator (docs/console.md). */
  simulatedBy?: string;
}

/** What JSON writes other than as itself: quotes, backslashes, control characters, lone surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quoted(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function numberText(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

function optional(key: string, v: string | undefined): string {
  return v === undefined ? '' : `,"${key}":${quoted(v)}`;
}

export function auditLine(r: AuditRecord): string {
  let s = `{"time":${quoted(r.time)},"requestId":${quoted(r.requestId)},"surface":${quoted(r.surface)},"action":${quoted(r.action)}`;
  s += optional('subject', r.subject) + optional('identityKey', r.identityKey) + optional('role', r.role);
  s += optional('keyName', r.keyName) + optional('view', r.view);
  if (r.fields !== undefined) {
    s += ',"fields":[';
    for (let i = 0; i < r.fields.length; i++) s += (i === 0 ? '' : ',') + quoted(r.fields[i]!);
    s += ']';
  }
  s += optional('filter', r.filter);
  if (r.rowCount !== undefined) s += `,"rowCount":${numberText(r.rowCount)}`;
  s += `,"decision":${quoted(r.decision)},"status":${numberText(r.status)},"latencyMs":${numberText(r.latencyMs)}`;
  // JSON leaves out a key whose value it cannot write (a function, a symbol).
  if (r.args !== undefined && typeof r.args !== 'function' && typeof r.args !== 'symbol') s += `,"args":${toJsonSeldomBig(r.args)}`;
  return s + optional('traceId', r.traceId) + optional('simulatedBy', r.simulatedBy) + '}';
}
