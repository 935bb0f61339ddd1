// Which StoreError reason an SQLite error is (src/sources/store-errors.ts), by better-sqlite3's
// code (SQLite's extended result code name).
import type { DriverError, Reason } from '../store-errors.js';

/** SQLITE_BUSY/LOCKED: the busy timeout ran out waiting for a writer; a file that cannot be read is unavailable. */
export function sqliteReason(e: DriverError): Reason {
  const code = typeof e.code === 'string' ? e.code : '';
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return 'timeout';
  if (/^SQLITE_(CANTOPEN|NOTADB|CORRUPT|IOERR|PERM|AUTH)/.test(code)) return 'unavailable';
  return 'failed';
}
