// What a hub needs to reach one source: the wrapper's extension, a foreign server from the source's
// URL, a user mapping with its credentials, and the foreign tables in the `foreign:` schema
// (IMPORT FOREIGN SCHEMA for SQL sources; CREATE FOREIGN TABLE from the declared columns for MongoDB).
import type { SourceConfig, ViewServiceConfig } from '../config/schema.js';
import type { MongoConfig } from '../sources/mongodb/index.js';
import type { MysqlConfig } from '../sources/mysql/index.js';
import type { PostgresConfig } from '../sources/postgres/index.js';
import { pgTlsMode } from '../sources/postgres/ssl.js';
import type { ColumnType } from '../values.js';
import { definitionHash, HubConfigError, ident, literal, qualified, secretVariable, serverName } from './names.js';
import type { HubObject, OptionValue } from './objects.js';

type ForeignMapping = NonNullable<ViewServiceConfig['foreign']>[string];
/** The stores the hub has a foreign data wrapper for. */
type WrappedSource = PostgresConfig | MysqlConfig | MongoConfig;

const WRAPPER: Record<WrappedSource['kind'], string> = {
  postgres: 'postgres_fdw',
  mysql: 'mysql_fdw',
  mongodb: 'mongo_fdw',
};

/**
 * The postgres_fdw server's TLS options (libpq's), with viewgate's meaning of sslmode and the tls
 * block (src/sources/postgres/ssl.ts): a verifying mode is libpq's verify-full, with the tls
 * block's CA as sslrootcert; the opt-outs (no-verify, rejectUnauthorized: false) are libpq's
 * require; the certificate files are named by path, so they must be readable by the hub's
 * PostgreSQL server at the same paths.
 */
function libpqTls(srcName: string, src: PostgresConfig): Record<string, string> {
  const mode = pgTlsMode(src.url, src.tls);
  if (mode === 'off') return new URL(src.url).searchParams.get('sslmode') === 'disable' ? { sslmode: 'disable' } : {};
  const tls = src.tls;
  if (tls?.servername !== undefined) {
    throw new HubConfigError(
      `sources.${srcName}.tls.servername`,
      'the hub connects with libpq (postgres_fdw), which checks the certificate against the host of the URL; it cannot be given tls.servername: put that name in the URL, or serve this source from an embedded service',
    );
  }
  if (mode === 'no-verify') {
    // A root certificate would make libpq verify after all; the opt-out sends none.
    return { sslmode: 'require', ...(tls?.cert ? { sslcert: tls.cert.path } : {}), ...(tls?.key ? { sslkey: tls.key.path } : {}) };
  }
  return {
    sslmode: 'verify-full',
    ...(tls?.ca ? { sslrootcert: tls.ca.path } : {}),
    ...(tls?.cert ? { sslcert: tls.cert.path } : {}),
    ...(tls?.key ? { sslkey: tls.key.path } : {}),
  };
}

function parseUrl(url: string, path: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new HubConfigError(path, 'the source URL does not parse');
  }
}

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

function credentials(u: URL, source: string, userKey: string): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  if (u.username) out[userKey] = decode(u.username);
  if (u.password) out.password = { variable: secretVariable(source), value: decode(u.password) };
  return out;
}

/** `schema.table` -> remote schema `schema`; a bare name lives in the source's default schema. */
function groupBySchema(tables: string[], defaultSchema: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of tables) {
    const i = t.indexOf('.');
    const [schema, name] = i < 0 ? [defaultSchema, t] : [t.slice(0, i), t.slice(i + 1)];
    out.set(schema, [...(out.get(schema) ?? []), name]);
  }
  return out;
}

function wrapped(cfg: SourceConfig): cfg is WrappedSource {
  return Object.hasOwn(WRAPPER, cfg.kind);
}

export function foreignObjects(srcName: string, cfg: SourceConfig, m: ForeignMapping, path: string): HubObject[] {
  if (!wrapped(cfg)) {
    throw new HubConfigError(
      `${path}`,
      `the hub has no foreign data wrapper for ${cfg.kind} sources (it has: ${Object.keys(WRAPPER).join(', ')}); serve "${srcName}" from an embedded service instead`,
    );
  }
  const src = cfg;
  const u = parseUrl(src.url, `sources.${srcName}.url`);
  if (src.kind !== 'postgres' && src.tls) {
    throw new HubConfigError(
      `sources.${srcName}.tls`,
      `the hub's ${WRAPPER[src.kind]} cannot be given this source's tls block (its CA, certificate and name checks), so it would not connect as viewgate does; serve "${srcName}" from an embedded service`,
    );
  }
  const server = serverName(srcName);
  const objects: HubObject[] = [{ kind: 'extension', name: WRAPPER[src.kind] }];
  const schema: HubObject = { kind: 'schema', name: m.schema };

  if (src.kind === 'mongodb') {
    if (m.tables) throw new HubConfigError(`${path}.tables`, `source "${srcName}" is MongoDB: list its collections under \`collections\``);
    if (u.protocol !== 'mongodb:')
      throw new HubConfigError(`sources.${srcName}.url`, 'mongo_fdw needs a mongodb:// URL with one host (not mongodb+srv://)');
    if (u.host.includes(','))
      throw new HubConfigError(`sources.${srcName}.url`, 'mongo_fdw connects to one address; give one host in the URL');
    const options: Record<string, string> = { address: u.hostname || '127.0.0.1', port: u.port || '27017' };
    const q = u.searchParams;
    if (q.get('authSource')) options.authentication_database = q.get('authSource')!;
    if (q.get('replicaSet')) options.replica_set = q.get('replicaSet')!;
    if (q.get('tls') === 'true' || q.get('ssl') === 'true') options.ssl = 'true';
    objects.push({ kind: 'server', name: server, wrapper: 'mongo_fdw', options, source: srcName });
    objects.push({ kind: 'user mapping', server, options: credentials(u, srcName, 'username') });
    objects.push(schema);
    const names = m.collections ?? Object.keys(src.collections);
    names.forEach((c, i) => {
      if (!src.collections[c]) {
        throw new HubConfigError(
          `${path}.collections.${i}`,
          `source "${srcName}" declares no collection "${c}"; declare its columns under sources.${srcName}.collections`,
        );
      }
      objects.push(mongoForeignTable(m.schema, server, src, c));
    });
    return objects;
  }

  if (m.collections)
    throw new HubConfigError(`${path}.collections`, `source "${srcName}" is ${src.kind}: list its tables under \`tables\``);
  const database = decode(u.pathname.replace(/^\//, ''));
  let defaultSchema: string;
  if (src.kind === 'postgres') {
    const options: Record<string, string> = { host: u.hostname || 'localhost', port: u.port || '5432' };
    if (database) options.dbname = database;
    Object.assign(options, libpqTls(srcName, src));
    objects.push({ kind: 'server', name: server, wrapper: 'postgres_fdw', options, source: srcName });
    objects.push({ kind: 'user mapping', server, options: credentials(u, srcName, 'user') });
    defaultSchema = 'public';
  } else {
    if (!database)
      throw new HubConfigError(`sources.${srcName}.url`, 'the MySQL URL names no database, so the hub cannot tell which one to import');
    // mysql_fdw's own default follows the operating system; utf8mb4 keeps 4-byte characters intact.
    const options = { host: u.hostname || '127.0.0.1', port: u.port || '3306', character_set: 'utf8mb4' };
    objects.push({ kind: 'server', name: server, wrapper: 'mysql_fdw', options, source: srcName });
    objects.push({ kind: 'user mapping', server, options: credentials(u, srcName, 'username') });
    defaultSchema = database;
  }
  objects.push(schema);
  if (m.tables) {
    for (const [remote, tables] of groupBySchema(m.tables, defaultSchema)) {
      objects.push({ kind: 'import', server, remoteSchema: remote, schema: m.schema, tables, source: srcName });
    }
  } else {
    objects.push({ kind: 'import', server, remoteSchema: defaultSchema, schema: m.schema, source: srcName });
  }
  return objects;
}

// mongo_fdw reads sub-documents and arrays into json (not jsonb), and ObjectIds into name.
const MONGO_TYPES: Record<ColumnType, string> = {
  bool: 'boolean',
  int: 'bigint',
  float: 'double precision',
  numeric: 'numeric',
  text: 'text',
  timestamptz: 'timestamptz',
  date: 'date',
  jsonb: 'json',
  bytea: 'bytea',
};

/**
 * A column with `path: payload.sku` is named "payload.sku" in the foreign table: mongo_fdw maps a
 * column to the document field of the same (dotted) name. `_id` comes first, typed `name`, as
 * mongo_fdw requires.
 */
function mongoForeignTable(schema: string, server: string, src: MongoConfig, collection: string): HubObject {
  const declared = src.collections[collection]!.columns;
  const cols = Object.entries(declared).map(([name, c]) => ({ field: c.path ?? name, type: c.type }));
  const rest = cols.filter((c) => c.field !== '_id');
  const lines = [`${ident('_id')} name`, ...rest.map((c) => `${ident(c.field)} ${MONGO_TYPES[c.type]}`)];
  const sql =
    `CREATE FOREIGN TABLE ${qualified(schema, collection)} (\n  ${lines.join(',\n  ')}\n) SERVER ${ident(server)} ` +
    `OPTIONS (database ${literal(src.database)}, collection ${literal(collection)})`;
  return { kind: 'managed', type: 'FOREIGN TABLE', schema, name: collection, statements: [sql], hash: definitionHash([sql]) };
}
