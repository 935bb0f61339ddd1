// auditLine (src/ops/audit-line.ts) writes a record as JSON.stringify does, key for key (the keys
// in the order Audit.recordCall sets them).
import { describe, expect, it } from 'vitest';
import { auditLine } from '../../src/ops/audit-line.js';
import type { AuditRecord } from '../../src/ops/audit-line.js';
import { isoNow } from '../../src/ops/audit.js';

const base: AuditRecord = {
  time: '2026-12-03T10:41:15.575Z',
  requestId: 'req-7',
  surface: 'mcp',
  action: 'query_view',
  subject: 'alice@example.com',
  identityKey: 'jwt:https://idp.example/|alice',
  role: 'analyst',
  keyName: 'ci',
  view: 'app.orders',
  fields: ['order_id', 'status'],
  filter: "status = 'open'",
  rowCount: 12,
  decision: 'allow',
  status: 200,
  latencyMs: 0.37,
};

// Strings JSON must escape, and some it must not.
const HARD = [
  '',
  'plain',
  'a "quoted" word',
  'back\\slash',
  'line\nbreak\ttab\r',
  '\u0000\u001f\u007f',
  'lone \ud800 high',
  'lone \udc00 low',
  'pair \ud83d\ude00',
  '\u2028\u2029',
  'é ü 漢字',
  "name = 'x' and y > 2",
];

describe('auditLine', () => {
  it('is JSON.stringify of the record, with every optional key present or absent', () => {
    expect(auditLine(base)).toBe(JSON.stringify(base));
    const optional = ['subject', 'identityKey', 'role', 'keyName', 'view', 'fields', 'filter', 'rowCount'] as const;
    for (const k of optional) {
      const r = { ...base, [k]: undefined };
      expect(auditLine(r)).toBe(JSON.stringify(r));
    }
    const minimal: AuditRecord = {
      time: base.time,
      requestId: 'r',
      surface: 'mcp',
      action: 'connect',
      decision: 'deny',
      status: 401,
      latencyMs: 0,
    };
    expect(auditLine(minimal)).toBe(JSON.stringify(minimal));
    const full: AuditRecord = {
      ...base,
      args: { view: 'app.orders', limit: 5, nested: [1, null, true] },
      traceId: 'abc123',
      simulatedBy: 'sso:admin@example.com',
    };
    expect(auditLine(full)).toBe(JSON.stringify(full));
    expect(JSON.parse(auditLine(full))).toEqual(full);
  });

  it('escapes every string field as JSON does', () => {
    for (const s of HARD) {
      const r: AuditRecord = {
        ...base,
        requestId: s,
        action: s,
        subject: s,
        view: s,
        fields: [s, 'x', s],
        filter: s,
        args: { [s]: s },
        traceId: s,
      };
      expect(auditLine(r)).toBe(JSON.stringify(r));
    }
  });

  it('writes numbers, empty lists and null arguments as JSON does, and leaves out arguments JSON cannot write', () => {
    for (const n of [0, -0, 1e21, 1.5e-7, 12345.678, Number.NaN, Infinity]) {
      const r = { ...base, rowCount: n, latencyMs: n, status: 503 };
      expect(auditLine(r)).toBe(JSON.stringify(r));
    }
    for (const args of [null, [], {}, 'text', 0, () => 1]) {
      const r = { ...base, fields: [], args };
      expect(auditLine(r)).toBe(JSON.stringify(r));
    }
  });

  it('writes a bigint in the arguments as bare digits (a write key)', () => {
    expect(auditLine({ ...base, args: { keys: [9007199254740993n] } })).toContain('"args":{"keys":[9007199254740993]}');
  });
});

describe('isoNow', () => {
  it('is toISOString of the same millisecond, across seconds, back and forth', () => {
    const t0 = Date.UTC(2026, 11, 31, 23, 59, 59, 998);
    for (const ms of [t0, t0, t0 + 1, t0 + 2, t0 + 3, t0 + 1001, t0 - 5000, 0, 999, 1000, t0 + 999_999]) {
      expect(isoNow(ms)).toBe(new Date(ms).toISOString());
    }
    expect(isoNow()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
