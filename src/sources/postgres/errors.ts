// Which StoreError reason a PostgreSQL driver error is (src/sources/store-errors.ts).
import { networkish, type DriverError, type Reason } from '../store-errors.js';

/** PostgreSQL: SQLSTATE 57014 is a cancelled statement (statement_timeout); class 08, 28, 3D, 57P are connection problems. */
export function pgReason(e: DriverError): Reason {
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === '57014') return 'timeout';
  if (/^(08|28|3D|57P)/.test(code) || code === '53300' || networkish(e)) return 'unavailable';
  return 'failed';
}

/** SQLSTATE 42501 insufficient_privilege: the store's grants refuse the query. */
export function pgDenied(e: DriverError): boolean {
  return e.code === '42501';
}

/**
 * SQLSTATE 0A000 "cached plan must not change result type": a prepared statement whose table's
 * columns changed type since it was prepared. Running it again unprepared succeeds.
 */
export function stalePlan(e: DriverError): boolean {
  return e.code === '0A000' && /cached plan must not change result type/.test(String(e.message));
}
