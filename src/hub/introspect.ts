// The columns of a hub view, read from the hub's catalog, as the shared SQL compiler needs them.
import { StoreError } from '../errors.js';
import { TYPE_MAP } from '../sources/postgres/source.js';
import type { SqlColumn, SqlTable } from '../sources/sql/common.js';
import { qualified } from './names.js';
import type { HubSession } from './passthrough/session.js';

export async function introspectHubView(session: HubSession, schema: string, name: string): Promise<SqlTable> {
  const rows = await session.query(
    `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
            CASE WHEN t.typtype = 'd' THEN bt.typname ELSE t.typname END, t.typtype = 'e', NOT a.attnotnull
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
       JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [schema, name],
  );
  if (rows.length === 0) {
    throw new StoreError(session.name, 'failed', `the hub has no view ${schema}.${name} yet; run \`viewgate hub apply\``);
  }
  const columns = (rows as [string, string, string, string, string][]).map(([attname, native, base, isEnum, nullable]): SqlColumn => ({
    name: attname,
    type: isEnum === 't' ? 'text' : (TYPE_MAP[base] ?? 'text'),
    nullable: nullable === 't',
    nativeType: native,
    base,
  }));
  return {
    info: { name: `${schema}.${name}`, columns: columns.map(({ base: _b, ...c }) => c), primaryKey: [] },
    sql: qualified(schema, name),
    columns: new Map(columns.map((c) => [c.name, c])),
  };
}
