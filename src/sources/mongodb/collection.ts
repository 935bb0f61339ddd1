// A configured collection as the source reads it: its table description, column types and filter
// compiler, built once from its declaration.
import type { ColumnType } from '../../values.js';
import type { TableInfo } from '../source.js';
import { mongoColumn, tableInfo, type MongoCollectionDecl, type MongoColumn } from './columns.js';
import { FilterCompiler } from './filter.js';

export interface CollectionMeta {
  /** The source's name, for errors. */
  source: string;
  name: string;
  info: TableInfo;
  types: Map<string, ColumnType>;
  compiler: FilterCompiler;
}

export function collectionMeta(source: string, name: string, decl: MongoCollectionDecl): CollectionMeta {
  const columns = new Map<string, MongoColumn>();
  for (const [col, c] of Object.entries(decl.columns)) columns.set(col, mongoColumn(col, c));
  const types = new Map([...columns.values()].map((c) => [c.name, c.type]));
  return { source, name, info: tableInfo(name, decl, [...columns.values()]), types, compiler: new FilterCompiler(name, columns, source) };
}
