// The columns of a MongoDB collection as declared in config (MongoDB has no schema to read): where
// each one is stored, what it may hold, and the table description they make.
import type { TableInfo } from '../source.js';
import type { ColumnType } from '../../values.js';

export interface MongoColumnDecl {
  type: ColumnType;
  /** Dotted field path; defaults to the column name. */
  path?: string;
  onTypeMismatch?: 'error' | 'null';
  description?: string;
}

export interface MongoCollectionDecl {
  description?: string;
  columns: Record<string, MongoColumnDecl>;
}

export interface MongoColumn {
  name: string;
  type: ColumnType;
  path: string;
  onTypeMismatch: 'error' | 'null';
  /** A stored value that does not fit reads as NULL (never for jsonb, which takes every value). */
  misfitIsNull: boolean;
  /** Can read as NULL: every field but `_id`, and any column whose misfits read as NULL. */
  nullable: boolean;
  /** May hold ObjectIds beside strings: every text column (see filter.ts). */
  objectIds: boolean;
}

export function mongoColumn(name: string, c: MongoColumnDecl): MongoColumn {
  const path = c.path ?? name;
  const onTypeMismatch = c.onTypeMismatch ?? 'error';
  const misfitIsNull = onTypeMismatch === 'null' && c.type !== 'jsonb';
  // `_id` is never null (a document may have `_id: null`, but that is not supported here).
  return { name, type: c.type, path, onTypeMismatch, misfitIsNull, nullable: path !== '_id' || misfitIsNull, objectIds: c.type === 'text' };
}

const NATIVE: Record<ColumnType, string> = {
  bool: 'bool',
  int: 'long',
  float: 'double',
  numeric: 'decimal',
  text: 'string',
  timestamptz: 'date',
  date: 'date',
  jsonb: 'object',
  bytea: 'binData',
};

/** The collection as a table: its columns with their BSON types and paths, `_id` as the primary key. */
export function tableInfo(name: string, decl: MongoCollectionDecl, columns: MongoColumn[]): TableInfo {
  return {
    name,
    columns: columns.map((c) => ({
      name: c.name,
      type: c.type,
      nullable: c.nullable,
      nativeType: c.path === c.name ? NATIVE[c.type] : `${NATIVE[c.type]} at ${c.path}`,
      ...(decl.columns[c.name]!.description ? { description: decl.columns[c.name]!.description } : {}),
    })),
    ...(decl.description ? { description: decl.description } : {}),
    primaryKey: columns.filter((c) => c.path === '_id').map((c) => c.name),
  };
}
