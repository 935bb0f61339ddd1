// The trace of one gateway request (docs/architecture.md, "The pipeline"): frozen when the request
// is done, so nothing that reads it (the audit record, metrics, a surface's headers) can change it,
// and the audit entry built from it carries exactly what the record needs.
import { describe, expect, it } from 'vitest';
import type { GatewayRequest } from '../../src/gateway/request.js';
import { auditEntryOf, traceOf, type TraceNotes } from '../../src/gateway/trace.js';
import type { Identity } from '../../src/policy/identity.js';

const identity: Identity = { subject: 'key:ops', identityKey: 'key:ops', role: 'internal', method: 'api-key', keyName: 'ops', claims: {} };
const request: GatewayRequest = {
  requestId: 'r1',
  surface: 'mcp',
  action: 'query_view',
  caller: { identity },
  operation: { op: 'query', view: 'crm.customers', parse: () => ({}) },
  args: { view: 'crm.customers', limit: 2 },
};
const rate = { count: 10, perMs: 60_000, text: '10/minute' };
const decision = { allowed: true, limit: 10, remaining: 9, retryAfterMs: 0, resetMs: 6_000 };

describe('the trace of a gateway request', () => {
  it('is frozen, nested parts included, and later notes do not reach it', () => {
    const notes: TraceNotes = {
      view: 'crm.customers',
      fields: ['customer_id'],
      cache: { hit: true, maxAgeMs: 5_000 },
      rateLimit: { rate, decision },
    };
    const trace = traceOf(request, identity, notes, 200, 12.5);
    expect(Object.isFrozen(trace)).toBe(true);
    expect(Object.isFrozen(trace.fields)).toBe(true);
    expect(Object.isFrozen(trace.cache)).toBe(true);
    expect(Object.isFrozen(trace.rateLimit)).toBe(true);
    notes.fields!.push('email');
    notes.view = 'crm.orders';
    expect(trace).toMatchObject({
      requestId: 'r1',
      surface: 'mcp',
      action: 'query_view',
      view: 'crm.customers',
      fields: ['customer_id'],
      status: 200,
      latencyMs: 12.5,
    });
    expect(() => {
      (trace as { status: number }).status = 503;
    }).toThrow(TypeError);
  });

  it('leaves out what the request never reached', () => {
    const trace = traceOf({ ...request, args: undefined }, undefined, {}, 401, 1);
    expect(Object.keys(trace).sort()).toEqual(['action', 'latencyMs', 'requestId', 'status', 'surface']);
  });

  it('gives the audit entry the record needs, and nothing of the cache or rate limit', () => {
    const trace = traceOf(
      request,
      identity,
      { view: 'crm.customers', fields: ['customer_id'], filter: 'customer_id = 1', rowCount: 1, cache: { hit: false, maxAgeMs: 1 } },
      200,
      3,
    );
    expect(auditEntryOf(trace)).toEqual({
      requestId: 'r1',
      surface: 'mcp',
      action: 'query_view',
      identity,
      view: 'crm.customers',
      fields: ['customer_id'],
      filter: 'customer_id = 1',
      rowCount: 1,
      status: 200,
      latencyMs: 3,
      args: { view: 'crm.customers', limit: 2 },
    });
  });
});
