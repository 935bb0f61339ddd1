// The closed set of error kinds: each kind's HTTP status, REST envelope code and MCP hint are what
// clients have always seen, and every error class and constructor lands on its kind.
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  badRequest,
  ERROR_KINDS,
  frameworkErrorKind,
  notFound,
  requestCancelled,
  StoreError,
  type ErrorKind,
} from '../../src/errors.js';
import { dataError, ViewDefinitionError } from '../../src/engine/embedded/errors.js';
import { RowBudgetExceeded } from '../../src/engine/embedded/execute.js';
import { auditUnwritable } from '../../src/ops/audit.js';
import { CircuitOpenError } from '../../src/sources/breaker.js';
import { forbidden, unauthorized } from '../../src/policy/identity.js';

describe('error kinds', () => {
  it('each kind has its status, envelope code and MCP hint', () => {
    const table = Object.fromEntries(
      Object.entries(ERROR_KINDS).map(([kind, spec]) => [
        kind,
        [spec.status, spec.envelopeCode, 'mcpHint' in spec ? spec.mcpHint : undefined],
      ]),
    );
    expect(table).toEqual({
      bad_request: [400, 400, 'query'],
      data_exception: [400, 400, undefined],
      unauthorized: [401, 401, undefined],
      forbidden: [403, 403, undefined],
      not_found: [404, 404, 'views'],
      method_not_allowed: [405, 405, undefined],
      conflict: [409, 409, undefined],
      precondition_failed: [412, 412, undefined],
      unprocessable: [422, 422, undefined],
      not_acceptable: [406, 406, undefined],
      payload_too_large: [413, 413, undefined],
      uri_too_long: [414, 414, undefined],
      unsupported_media_type: [415, 415, undefined],
      row_budget_exceeded: [422, 422, undefined],
      scan_too_costly: [422, 422, 'query'],
      rate_limited: [429, 429, 'retry'],
      request_cancelled: [499, 499, undefined],
      internal: [500, 500, undefined],
      view_misconfigured: [500, 500, undefined],
      view_definition_invalid: [500, 500, undefined],
      store_failed: [502, 502, undefined],
      store_unavailable: [503, 503, undefined],
      view_out_of_contract: [503, 503, undefined],
      view_gone: [410, 410, undefined],
      identity_provider_unavailable: [503, 503, undefined],
      audit_unwritable: [503, 503, undefined],
      store_timeout: [504, 504, undefined],
    });
  });

  it('an error reads its status, envelope code and hint from its kind', () => {
    for (const kind of Object.keys(ERROR_KINDS) as ErrorKind[]) {
      const e = new ApiError(kind, 'm', { a: 1 }, { 'Retry-After': '3' });
      expect([e.kind, e.status, e.envelopeCode, e.mcpHint]).toEqual([
        kind,
        ERROR_KINDS[kind].status,
        ERROR_KINDS[kind].envelopeCode,
        (ERROR_KINDS[kind] as { mcpHint?: string }).mcpHint,
      ]);
      expect([e.message, e.context, e.headers]).toEqual(['m', { a: 1 }, { 'Retry-After': '3' }]);
    }
  });

  it('the named constructors and error classes land on their kinds', () => {
    const sql = 'SELECT x FROM crm.t';
    const cases: [ApiError, ErrorKind, number][] = [
      [badRequest('b'), 'bad_request', 400],
      [notFound('n'), 'not_found', 404],
      [unauthorized('u'), 'unauthorized', 401],
      [forbidden('f'), 'forbidden', 403],
      [dataError('division by zero', '22012'), 'data_exception', 400],
      [new ViewDefinitionError('crm.v', sql, 7, 'no'), 'view_definition_invalid', 500],
      [new RowBudgetExceeded({ crm: 10 }, 'too many rows', {}), 'row_budget_exceeded', 422],
      [auditUnwritable(), 'audit_unwritable', 503],
      [requestCancelled(), 'request_cancelled', 499],
      [new StoreError('crm', 'unavailable', 'down'), 'store_unavailable', 503],
      [new StoreError('crm', 'timeout', 'slow'), 'store_timeout', 504],
      [new StoreError('crm', 'failed', 'broken'), 'store_failed', 502],
      [new CircuitOpenError('crm', 'unavailable', 'circuit open'), 'store_unavailable', 503],
    ];
    for (const [err, kind, status] of cases) expect([err.kind, err.status, err.envelopeCode]).toEqual([kind, status, status]);
  });

  it("the HTTP framework's own client errors keep their status", () => {
    for (const status of [400, 404, 413, 414, 415]) expect(ERROR_KINDS[frameworkErrorKind(status)].status).toBe(status);
  });
});
