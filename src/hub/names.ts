// Quoting and the names of everything viewgate creates in a hub database.
import { createHash } from 'node:crypto';

/** PostgreSQL truncates identifiers beyond 63 bytes (NAMEDATALEN - 1). */
const MAX_IDENT_BYTES = 63;

export class HubConfigError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'HubConfigError';
  }
}

export function ident(name: string): string {
  if (name.includes('\u0000')) throw new Error(`an identifier cannot contain NUL: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/** A SQL string literal (standard_conforming_strings is on: backslashes are plain characters). */
export function literal(value: string): string {
  if (value.includes('\u0000')) throw new Error('a SQL literal cannot contain NUL');
  return `'${value.replace(/'/g, "''")}'`;
}

/** Fails instead of letting PostgreSQL silently truncate a generated name. */
export function checkedName(name: string, path: string): string {
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENT_BYTES) {
    throw new HubConfigError(path, `the name "${name}" is longer than PostgreSQL's 63 bytes; choose a shorter name`);
  }
  return name;
}

/** A generated name that fits 63 bytes: long ones keep a prefix and a short hash of the whole. */
export function fittedName(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= MAX_IDENT_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${Buffer.from(name, 'utf8')
    .subarray(0, MAX_IDENT_BYTES - 9)
    .toString('utf8')
    .replace(/\uFFFD+$/, '')}_${hash}`;
}

/** The foreign server for a source (shared by every service on the hub that maps it). */
export const serverName = (source: string): string => `viewgate_${source}`;
/** Where a service's base views, materialized views and refresh functions live; clients get no access. */
export const internalSchema = (service: string): string => `${service}_internal`;
export const refreshFunction = (view: string): string => `refresh_${view}`;
export const REFRESH_TABLE = 'refreshes';
/** The psql variable that stands for a source's password in `hub plan` output. */
export const secretVariable = (source: string): string => `${source}_password`;

/** Marks objects apply manages; the hash says which definition they were created from. */
export const MARKER = 'viewgate hub object';

export function markerComment(hash: string): string {
  return `${MARKER}; definition ${hash}`;
}

export function definitionHash(statements: string[]): string {
  return createHash('sha256').update(statements.join(';\n')).digest('hex').slice(0, 16);
}
