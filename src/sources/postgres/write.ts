// PostgreSQL's part of the SQL write path (src/sources/sql/write.ts): values bound as text in
// PostgreSQL's input syntax (the column's type decides, as for a literal), RETURNING, and the
// SQLSTATEs of broken table rules (class 23, and 22 for a value the column cannot hold).
import type pg from 'pg';
import type { Value } from '../../values.js';
import type { SqlColumn, SqlTable } from '../sql/common.js';
import type { SqlWriteConnection } from '../sql/write.js';
import { ConstraintViolation, type ConstraintKind } from '../write.js';

export function encodePg(col: SqlColumn, v: Exclude<Value, null>): unknown {
  switch (col.type) {
    case 'bool':
      return v === true ? 'true' : 'false';
    case 'jsonb':
      return JSON.stringify(v);
    case 'bytea':
      return `\\x${Buffer.from(String(v), 'base64').toString('hex')}`;
    default:
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}

/** The first column a `Key (a, b)=(...)` detail names (the value part is never read). */
function keyColumn(detail: unknown, table: SqlTable): string | undefined {
  const m = typeof detail === 'string' ? /^Key \(([^)]*)\)=/.exec(detail) : null;
  if (!m) return undefined;
  const first = m[1]!
    .split(',')[0]!
    .trim()
    .replace(/^"(.*)"$/, '$1');
  return table.columns.has(first) ? first : undefined;
}

const KINDS: Record<string, ConstraintKind> = {
  '23505': 'unique',
  '23P01': 'unique',
  '23502': 'not_null',
  '23514': 'check',
  '23503': 'foreign_key',
};

export function pgConstraint(source: string, err: unknown, table: SqlTable): ConstraintViolation | undefined {
  const e = err as { code?: unknown; column?: unknown; constraint?: unknown; detail?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const kind = KINDS[code] ?? (code.startsWith('22') ? 'invalid_value' : undefined);
  if (!kind) return undefined;
  const named = typeof e.column === 'string' && table.columns.has(e.column) ? e.column : keyColumn(e.detail, table);
  const constraint = typeof e.constraint === 'string' ? e.constraint : undefined;
  return new ConstraintViolation(source, kind, named, constraint);
}

/** A pooled client for one transaction; unnamed statements (a write's text is rarely repeated). */
export async function pgWriteConnection(pool: pg.Pool): Promise<SqlWriteConnection> {
  const client = await pool.connect();
  return {
    async query(text, values) {
      const r = await client.query({ text, values, rowMode: 'array' });
      return { rows: r.rows as unknown[][] };
    },
    release: (broken) => client.release(broken),
  };
}

/** Unique indexes without a predicate or expressions, the primary key first: one row per (index, column). */
export const PG_UNIQUE_KEYS = `
  SELECT i.indexrelid::text, a.attname FROM pg_catalog.pg_index i
   CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
   JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
  WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
  ORDER BY i.indisprimary DESC, i.indexrelid, k.ord`;
