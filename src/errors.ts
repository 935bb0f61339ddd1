// Errors that reach a client. Everything else is a 500 with a generic message (never a stack trace).

export type ErrorContext = Record<string, unknown>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly context: ErrorContext = {},
    /** Extra response headers, e.g. WWW-Authenticate or Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 400: the client's query is wrong; `context` names the parameter and, for filters, the position. */
export function badRequest(message: string, context: ErrorContext = {}): ApiError {
  return new ApiError(400, message, context);
}

export function notFound(message: string, context: ErrorContext = {}): ApiError {
  return new ApiError(404, message, context);
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
    const status = reason === 'timeout' ? 504 : reason === 'unavailable' ? 503 : 502;
    const what =
      reason === 'timeout'
        ? `store "${source}" timed out`
        : reason === 'unavailable'
          ? `store "${source}" is unavailable`
          : `store "${source}" failed`;
    super(status, `${what}: ${publicDetail}`, { source });
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
