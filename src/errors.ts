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

/** A store failed: 503 when it cannot be reached (or its circuit is open), 504 when it timed out. */
export class StoreError extends ApiError {
  constructor(
    readonly source: string,
    readonly reason: 'unavailable' | 'timeout' | 'failed',
    detail: string,
  ) {
    const status = reason === 'timeout' ? 504 : reason === 'unavailable' ? 503 : 502;
    const what =
      reason === 'timeout'
        ? `store "${source}" timed out`
        : reason === 'unavailable'
          ? `store "${source}" is unavailable`
          : `store "${source}" failed`;
    super(status, `${what}: ${detail}`, { source });
    this.name = 'StoreError';
  }
}
