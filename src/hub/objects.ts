// The objects a hub database should contain, as data: `hub plan` renders them as SQL and
// `hub apply` compares each with the database before creating, altering or replacing it.
import { ident, literal, markerComment, qualified } from './names.js';

/** A secret option value: `hub plan` prints the psql variable, `hub apply` the value. */
export interface Secret {
  variable: string;
  value: string;
}

export type OptionValue = string | Secret;

/** Objects whose definition apply cannot read back: it records a hash in their comment instead. */
type ManagedType = 'VIEW' | 'MATERIALIZED VIEW' | 'INDEX' | 'FUNCTION' | 'FOREIGN TABLE' | 'TABLE';

export interface ManagedObject {
  kind: 'managed';
  type: ManagedType;
  schema: string;
  name: string;
  /** The CREATE statement and any follow-ups (REVOKE ...). */
  statements: string[];
  hash: string;
}

export type GrantTarget = { on: 'SCHEMA'; schema: string } | { on: 'TABLE' | 'FUNCTION'; schema: string; name: string };

export type HubObject =
  | { kind: 'extension'; name: string }
  | { kind: 'server'; name: string; wrapper: string; options: Record<string, string>; source: string }
  | { kind: 'user mapping'; server: string; options: Record<string, OptionValue> }
  | { kind: 'schema'; name: string }
  | { kind: 'import'; server: string; remoteSchema: string; schema: string; tables?: string[]; source: string }
  | ManagedObject
  /** The first REFRESH of a materialized view created WITH NO DATA (through its refresh function). */
  | { kind: 'populate'; schema: string; name: string; refresh: string }
  | { kind: 'grant'; privilege: 'USAGE' | 'SELECT' | 'EXECUTE'; target: GrantTarget; grantee: string };

export type SecretMode = 'placeholder' | 'value';

export function optionValue(v: OptionValue, mode: SecretMode): string {
  if (typeof v === 'string') return literal(v);
  return mode === 'value' ? literal(v.value) : `:'${v.variable}'`;
}

function optionsSql(options: Record<string, OptionValue>, mode: SecretMode): string {
  return `OPTIONS (${Object.entries(options)
    .map(([k, v]) => `${k} ${optionValue(v, mode)}`)
    .join(', ')})`;
}

function commentTarget(o: ManagedObject): string {
  const q = qualified(o.schema, o.name);
  return o.type === 'FUNCTION' ? `FUNCTION ${q}()` : `${o.type} ${q}`;
}

export function grantTargetSql(t: GrantTarget): string {
  if (t.on === 'SCHEMA') return `SCHEMA ${ident(t.schema)}`;
  const q = qualified(t.schema, t.name);
  return t.on === 'FUNCTION' ? `FUNCTION ${q}()` : `TABLE ${q}`;
}

/** The statements that create an object in an empty hub. */
export function createStatements(o: HubObject, mode: SecretMode): string[] {
  switch (o.kind) {
    case 'extension':
      return [`CREATE EXTENSION IF NOT EXISTS ${ident(o.name)}`];
    case 'server':
      return [`CREATE SERVER ${ident(o.name)} FOREIGN DATA WRAPPER ${ident(o.wrapper)} ${optionsSql(o.options, mode)}`];
    case 'user mapping':
      return [`CREATE USER MAPPING FOR PUBLIC SERVER ${ident(o.server)} ${optionsSql(o.options, mode)}`];
    case 'schema':
      return [`CREATE SCHEMA IF NOT EXISTS ${ident(o.name)}`];
    case 'import':
      return [importSql(o, o.tables)];
    case 'managed':
      return [...o.statements, `COMMENT ON ${commentTarget(o)} IS ${literal(markerComment(o.hash))}`];
    case 'populate':
      return [`SELECT ${o.refresh}()`];
    case 'grant':
      return [`GRANT ${o.privilege} ON ${grantTargetSql(o.target)} TO ${ident(o.grantee)}`];
  }
}

export function importSql(o: Extract<HubObject, { kind: 'import' }>, limitTo?: string[], except?: string[]): string {
  const list = (names: string[]) => `(${names.map(ident).join(', ')})`;
  const filter = limitTo ? ` LIMIT TO ${list(limitTo)}` : except && except.length > 0 ? ` EXCEPT ${list(except)}` : '';
  return `IMPORT FOREIGN SCHEMA ${ident(o.remoteSchema)}${filter} FROM SERVER ${ident(o.server)} INTO ${ident(o.schema)}`;
}

/** How an object is named in plan comments and apply summaries. */
export function describeObject(o: HubObject): string {
  switch (o.kind) {
    case 'extension':
      return `extension ${o.name}`;
    case 'server':
      return `server ${o.name} (${o.wrapper}, source "${o.source}")`;
    case 'user mapping':
      return `user mapping for PUBLIC on server ${o.server}`;
    case 'schema':
      return `schema ${o.name}`;
    case 'import':
      return `foreign tables in ${o.schema} from source "${o.source}"${o.tables ? ` (${o.tables.join(', ')})` : ''}`;
    case 'managed':
      return `${o.type.toLowerCase()} ${o.schema}.${o.name}${o.type === 'FUNCTION' ? '()' : ''}`;
    case 'populate':
      return `data of materialized view ${o.schema}.${o.name}`;
    case 'grant': {
      const t = o.target;
      const obj =
        t.on === 'SCHEMA' ? `schema ${t.schema}` : `${t.on.toLowerCase()} ${t.schema}.${t.name}${t.on === 'FUNCTION' ? '()' : ''}`;
      return `grant ${o.privilege} on ${obj} to ${o.grantee}`;
    }
  }
}

/** Identity of an object, to merge what several services of one hub ask for. */
export function objectKey(o: HubObject): string {
  switch (o.kind) {
    case 'extension':
    case 'schema':
      return `${o.kind}:${o.name}`;
    case 'server':
      return `server:${o.name}`;
    case 'user mapping':
      return `mapping:${o.server}`;
    case 'import':
      return `import:${o.server}:${o.remoteSchema}:${o.schema}`;
    case 'managed':
      return `managed:${o.type === 'FUNCTION' ? 'f' : 'r'}:${o.schema}.${o.name}`;
    case 'populate':
      return `populate:${o.schema}.${o.name}`;
    case 'grant':
      return `grant:${describeObject(o)}`;
  }
}
