// MySQL/MariaDB's part of the SQL write path (src/sources/sql/write.ts): a strict sql_mode on every
// write session (a server in a lax mode would truncate or zero a value silently), values bound in
// the server's input syntax, no RETURNING (rows are locked, changed, then read back by primary key),
// and the error numbers of broken table rules.
import type { PoolConnection as CorePoolConnection, ExecuteValues } from 'mysql2';
import type { Value } from '../../values.js';
import type { SqlColumn, SqlTable } from '../sql/common.js';
import type { SqlWriteConnection } from '../sql/write.js';
import { ConstraintViolation, type ConstraintKind } from '../write.js';

/** Added to the server's own modes for every write session. */
export const STRICT_SQL_MODE = "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')";

export function encodeMysql(col: SqlColumn, v: Exclude<Value, null>): unknown {
  switch (col.type) {
    case 'bool':
      return v === true ? 1 : 0;
    case 'int':
      return String(v);
    case 'timestamptz': {
      const s = String(v); // canonical YYYY-MM-DDTHH:MM:SS.ffffffZ, read back as UTC
      return `${s.slice(0, 10)} ${s.slice(11, 26)}`;
    }
    case 'jsonb':
      return JSON.stringify(v);
    case 'bytea':
      return Buffer.from(String(v), 'base64');
    default:
      return typeof v === 'object' ? JSON.stringify(v) : v;
  }
}

const KINDS: Record<number, ConstraintKind> = {
  1062: 'unique',
  1048: 'not_null',
  1364: 'not_null',
  3819: 'check',
  4025: 'check',
  1451: 'foreign_key',
  1452: 'foreign_key',
  1406: 'invalid_value',
  1264: 'invalid_value',
  1265: 'invalid_value',
  1366: 'invalid_value',
  1292: 'invalid_value',
  3140: 'invalid_value',
};

/** The names a message quotes ('x' or `x`); values are quoted too, so only a name the table has is ever used. */
function quotedNames(message: string): string[] {
  return [...message.matchAll(/'((?:[^']|'')*)'|`((?:[^`]|``)*)`/g)].map((m) => m[1] ?? m[2]!.replace(/``/g, '`'));
}

/**
 * `indexColumns`: the first column of each unique index by name (a duplicate entry names the
 * index, not the column); loaded with the table's unique keys.
 */
export function mysqlConstraint(
  source: string,
  err: unknown,
  table: SqlTable,
  indexColumns: ReadonlyMap<string, string>,
): ConstraintViolation | undefined {
  const e = err as { errno?: unknown; message?: unknown };
  const kind = KINDS[Number(e.errno)];
  if (!kind) return undefined;
  const message = String(e.message ?? '');
  let column: string | undefined;
  let constraint: string | undefined;
  if (kind === 'unique') {
    const m = / for key '([^']*)'/.exec(message);
    const index = m ? m[1]!.split('.').pop()! : undefined;
    column = index !== undefined ? indexColumns.get(index) : undefined;
    constraint = index;
  } else if (kind === 'foreign_key') {
    const m = /FOREIGN KEY \(`((?:[^`]|``)*)`/.exec(message);
    column = m ? m[1]!.replace(/``/g, '`') : undefined;
  } else if (kind === 'check') {
    // MariaDB names a JSON column's json_valid check after the column.
    const m = /(?:CONSTRAINT|constraint) [`']((?:[^`']|``)*)[`']/.exec(message);
    constraint = m?.[1];
    column = constraint !== undefined && table.columns.has(constraint) ? constraint : undefined;
  } else {
    // "... for column 'x'" / "Column 'x' cannot be null" / "Field 'x' doesn't have ...": the last name the table has.
    const at = message.lastIndexOf(' at row');
    column = quotedNames(at > 0 ? message.slice(0, at) : message)
      .reverse()
      .find((n) => table.columns.has(n));
  }
  return new ConstraintViolation(source, kind, column && table.columns.has(column) ? column : undefined, constraint);
}

/** A session-ready pooled connection for one transaction (text protocol for statements without values). */
export function mysqlWriteConnection(conn: CorePoolConnection): SqlWriteConnection {
  return {
    query: (sql, values) =>
      new Promise((resolve, reject) => {
        const done = (err: unknown, result: unknown): void => {
          if (err) return reject(err);
          if (Array.isArray(result)) return resolve({ rows: result as unknown[][] });
          resolve({ rows: [], insertId: (result as { insertId?: unknown }).insertId });
        };
        // Rows as arrays: the pool's setting (source.ts).
        if (values.length === 0) conn.query(sql, done);
        else conn.execute(sql, values as ExecuteValues[], done);
      }),
    release: (broken) => (broken ? conn.destroy() : conn.release()),
  };
}

/** Unique indexes, the primary key first: one row per (index, column). */
export const MYSQL_UNIQUE_KEYS = `
  SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
   WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND NON_UNIQUE = 0
   ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX`;
