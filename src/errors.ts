// Errors that reach a client, by kind: a closed set, each kind with the HTTP status and the error
// envelope's `code` clients see, and which hint an MCP tool error adds. Everything else is an
// `internal` 500 with a generic message (never a stack trace).

export type ErrorContext = Record<string, unknown>;

/** What an MCP tool error adds after the message (src/mcp/errors.ts). */
export type McpHint = 'views' | 'retry' | 'query';

export interface ErrorKindSpec {
  status: number;
  /** `error.code` in the REST envelope. */
  envelopeCode: number;
  mcpHint?: McpHint;
}

export const ERROR_KINDS = {
  /** The client's query or body is wrong; `context` names the parameter (and the position in a filter). */
  bad_request: { status: 400, envelopeCode: 400, mcpHint: 'query' },
  /** A row the view's expressions cannot compute (PostgreSQL's SQLSTATE class 22). */
  data_exception: { status: 400, envelopeCode: 400 },
  /** No credential, or an invalid one; answered with WWW-Authenticate. */
  unauthorized: { status: 401, envelopeCode: 401 },
  /** A valid credential that may not do this: a missing claim, an unknown role, an Origin not allowed. */
  forbidden: { status: 403, envelopeCode: 403 },
  /** No such view, row, service or route for this caller (not granted reads as not found). */
  not_found: { status: 404, envelopeCode: 404, mcpHint: 'views' },
  /** A write to a read-only view; answered with Allow. */
  method_not_allowed: { status: 405, envelopeCode: 405 },
  /** A write the store refused because another row holds the value of a unique key (docs/writes.md). */
  conflict: { status: 409, envelopeCode: 409 },
  /** If-Match names another version of the row than the stored one (docs/writes.md). */
  precondition_failed: { status: 412, envelopeCode: 412 },
  /** A write the store refused (not null, check, foreign key) or one over its bulk cap (docs/writes.md). */
  unprocessable: { status: 422, envelopeCode: 422 },
  /** The Accept header names no format the resource is served in. */
  not_acceptable: { status: 406, envelopeCode: 406 },
  payload_too_large: { status: 413, envelopeCode: 413 },
  uri_too_long: { status: 414, envelopeCode: 414 },
  unsupported_media_type: { status: 415, envelopeCode: 415 },
  /** More rows than the row budget would have to be read; a narrower query fits. */
  row_budget_exceeded: { status: 422, envelopeCode: 422 },
  /**
   * A grant's maxScanRows (docs/security.md, "Cost guards"): the plan would read a larger table
   * whole; refused before any store query runs, naming the filter or index that would help.
   */
  scan_too_costly: { status: 422, envelopeCode: 422, mcpHint: 'query' },
  /** Answered with Retry-After and the RateLimit headers. */
  rate_limited: { status: 429, envelopeCode: 429, mcpHint: 'retry' },
  /**
   * The client left before its answer (a closed connection, an MCP cancellation): the store
   * queries it started are stopped. nginx's 499; recorded, never seen by the client.
   */
  request_cancelled: { status: 499, envelopeCode: 499 },
  /** Unexpected; the server log has the details under the request id. */
  internal: { status: 500, envelopeCode: 500 },
  /** The configuration does not fit the view (grants, row filter). */
  view_misconfigured: { status: 500, envelopeCode: 500 },
  /** An embedded view's SQL is outside the supported subset or does not type-check. */
  view_definition_invalid: { status: 500, envelopeCode: 500 },
  store_failed: { status: 502, envelopeCode: 502 },
  /** A store cannot be reached, or its circuit is open. */
  store_unavailable: { status: 503, envelopeCode: 503 },
  /** The view's sources no longer fit it (docs/contracts.md, "Drift"); the detail goes to operators only. */
  view_out_of_contract: { status: 503, envelopeCode: 503 },
  /** A deprecated view after its sunset date (docs/contracts.md, "Deprecation"). */
  view_gone: { status: 410, envelopeCode: 410 },
  /** The JWT key set cannot be fetched: the credential was not judged. */
  identity_provider_unavailable: { status: 503, envelopeCode: 503 },
  /** The server fails closed and the request's audit record cannot be written. */
  audit_unwritable: { status: 503, envelopeCode: 503 },
  store_timeout: { status: 504, envelopeCode: 504 },
} as const satisfies Record<string, ErrorKindSpec>;

export type ErrorKind = keyof typeof ERROR_KINDS;

export class ApiError extends Error {
  /** The HTTP status, from the kind. */
  readonly status: number;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly context: ErrorContext = {},
    /** Extra response headers, e.g. WWW-Authenticate or Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = ERROR_KINDS[kind].status;
  }

  /** `error.code` in the REST envelope. */
  get envelopeCode(): number {
    return ERROR_KINDS[this.kind].envelopeCode;
  }

  /** The hint an MCP tool error adds, if any. */
  get mcpHint(): McpHint | undefined {
    const spec: ErrorKindSpec = ERROR_KINDS[this.kind];
    return spec.mcpHint;
  }
}

/** 400: the client's query is wrong; `context` names the parameter and, for filters, the position. */
export function badRequest(message: string, context: ErrorContext = {}): ApiError {
  return new ApiError('bad_request', message, context);
}

export function notFound(message: string, context: ErrorContext = {}): ApiError {
  return new ApiError('not_found', message, context);
}

/** 499: nobody waits for this answer any more; what the request started in the stores is stopped. */
export function requestCancelled(): ApiError {
  return new ApiError('request_cancelled', 'the client closed the request before its answer');
}

/** The statuses the HTTP framework gives its own client errors (bad JSON, body too large, ...). */
const FRAMEWORK_KINDS: ReadonlyMap<number, ErrorKind> = new Map<number, ErrorKind>([
  [400, 'bad_request'],
  [404, 'not_found'],
  [413, 'payload_too_large'],
  [414, 'uri_too_long'],
  [415, 'unsupported_media_type'],
]);

/** The kind of one of the HTTP framework's client errors, by its status; any other is a bad request. */
export function frameworkErrorKind(status: number): ErrorKind {
  return FRAMEWORK_KINDS.get(status) ?? 'bad_request';
}

/**
 * A store failed: 503 when it cannot be reached (or its circuit is open), 504 when it timed out.
 * The message names the store only; what the driver said (hosts, ports, server text) stays in
 * `detail`, for the server log and `viewgate check`, never for callers (docs/security.md).
 */
export class StoreError extends ApiError {
  /** Everything known about the failure (driver message included, passwords redacted). */
  readonly detail: string;
  /** The message with the driver's detail in place of the caller's words: for logs and check. */
  readonly operatorMessage: string;

  constructor(
    readonly source: string,
    readonly reason: 'unavailable' | 'timeout' | 'failed',
    /** Shown to callers: viewgate's own words, never a driver's. */
    publicDetail: string,
    /** The driver's message, for logs only. */
    driverDetail?: string,
  ) {
    const what =
      reason === 'timeout'
        ? `store "${source}" timed out`
        : reason === 'unavailable'
          ? `store "${source}" is unavailable`
          : `store "${source}" failed`;
    super(`store_${reason}`, `${what}: ${publicDetail}`, { source });
    this.name = 'StoreError';
    this.detail = driverDetail ?? publicDetail;
    this.operatorMessage = `${what}: ${this.detail}`;
  }
}

/** What to log or show an operator about an error: a StoreError with its detail, else the message. */
export function operatorDetail(err: unknown): string {
  if (err instanceof StoreError) return err.operatorMessage;
  return err instanceof Error ? err.message : String(err);
}
