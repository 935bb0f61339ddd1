// Any failure as the ApiError a caller is answered with; never a stack trace. The caller is told a
// store's name; the log gets what the driver said (docs/security.md).
import { ApiError, frameworkErrorKind, StoreError } from '../errors.js';
import type { Logger } from '../ops/logger.js';

export function toApiError(err: unknown, log: Logger, requestId: string): ApiError {
  if (err instanceof StoreError) log.warn({ requestId, store: err.source, reason: err.reason, detail: err.detail }, err.message);
  else if (err instanceof ApiError && err.status >= 500 && err.cause !== undefined)
    log.warn({ requestId, detail: String(err.cause) }, err.message);
  if (err instanceof ApiError) return err;
  const e = err as { statusCode?: number; message?: string; code?: string };
  // Errors that carry a client status of their own (Fastify's: body too large, bad content type, ...).
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError(frameworkErrorKind(e.statusCode), e.message ?? 'bad request');
  }
  log.error({ err, requestId }, 'unexpected error');
  return new ApiError('internal', `internal error; the server log has details under request id ${requestId}`, { requestId });
}
