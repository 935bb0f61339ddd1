// One audit record as its JSON line, written key by key. Every record has the keys Audit.recordCall
// gives it, in that order, so the text is JSON.stringify's for the same record (test/unit/audit-line.test.ts)
// at about half its cost: the file and stream sinks write one for every request.
import { toJsonSeldomBig } from '../values.js';
import type { AuditRecord } from './audit-sinks.js';

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
