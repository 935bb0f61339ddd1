// Which StoreError reason a MariaDB/MySQL driver error is (src/sources/store-errors.ts).
import { networkish, type DriverError, type Reason } from '../store-errors.js';

/** MariaDB 1969 (max_statement_time) and MySQL 3024 (MAX_EXECUTION_TIME) are timeouts. */
export function mysqlReason(e: DriverError): Reason {
  if (e.errno === 1969 || e.errno === 3024) return 'timeout';
  // 1040 too many connections, 1044/1045/1698 access denied, 1049 unknown database.
  if (networkish(e) || e.fatal === true || [1040, 1044, 1045, 1049, 1698].includes(Number(e.errno))) return 'unavailable';
  return 'failed';
}

/** 1142 table and 1143 column access denied: the store's grants refuse the query. */
export function mysqlDenied(e: DriverError): boolean {
  return e.errno === 1142 || e.errno === 1143;
}
