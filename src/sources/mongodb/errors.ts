// Which StoreError reason a MongoDB driver error is (src/sources/store-errors.ts).
import { networkish, type DriverError, type Reason } from '../store-errors.js';

/** MongoDB: code 50 is MaxTimeMSExpired; server selection and network errors mean unreachable. */
export function mongoReason(e: DriverError): Reason {
  if (e.code === 50) return 'timeout';
  const name = String(e.name ?? '');
  if (/ServerSelection|Network|TopologyClosed|PoolCleared/.test(name) || networkish(e)) return 'unavailable';
  if (e.code === 18 || e.code === 13) return 'unavailable'; // authentication failed, unauthorized
  return 'failed';
}
