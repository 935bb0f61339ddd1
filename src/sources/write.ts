// What a store offers for writes (docs/writes.md): statements on one table inside one unit of work
// (a transaction where the store has them), with values already in the value model and every
// predicate typed, so a store only translates them into its dialect and binds them.
import type { Predicate } from '../query/predicate.js';
import type { Row } from '../values.js';

/** The statements of one unit of work; rows come back keyed by column name, in the value model. */
export interface WriteTx {
  /** Inserts one row; answers the stored row's `returning` columns (defaults and triggers applied). */
  insert(table: string, values: Row, returning: readonly string[]): Promise<Row>;
  /** Sets `values` on every row matching `where`; answers the changed rows' `returning` columns as stored. */
  update(table: string, values: Row, where: Predicate, returning: readonly string[]): Promise<Row[]>;
  /** Deletes every row matching `where`; answers their `returning` columns as they were. */
  delete(table: string, where: Predicate, returning: readonly string[]): Promise<Row[]>;
  /** The rows matching `where` (locked against other writers until the unit of work ends, where the store can). */
  select(table: string, columns: readonly string[], where: Predicate, limit?: number): Promise<Row[]>;
}

export interface WriteOptions {
  /**
   * Whether the unit of work must be atomic. A store without transactions (FerretDB 1.x, a
   * standalone mongod) refuses a unit that needs one with NoTransactions.
   */
  atomic: boolean;
}

/** A store's write side: one unit of work per call, committed when `work` resolves, undone when it throws. */
export interface Writer {
  /** Whether units of work are transactions (all or nothing); known after prepare. */
  readonly transactions: boolean;
  /** Learns what the store offers before a write (MongoDB asks its server whether it runs transactions). */
  prepare?(): Promise<void>;
  /** A table's unique keys (the primary key first), by column names; empty when it has none. */
  uniqueKeys(table: string): Promise<string[][]>;
  run<T>(work: (tx: WriteTx) => Promise<T>, options: WriteOptions): Promise<T>;
}

/** Which rule of the table a write broke (the store's own constraint), without any value. */
export type ConstraintKind = 'unique' | 'not_null' | 'check' | 'foreign_key' | 'invalid_value';

/**
 * A write the store refused because of the table's rules: the kind, and the column (or the
 * constraint) when the store names it. Never carries the value or the statement.
 */
export class ConstraintViolation extends Error {
  constructor(
    readonly source: string,
    readonly constraint: ConstraintKind,
    readonly column?: string,
    readonly constraintName?: string,
  ) {
    super(`${constraint} violation${column ? ` on column "${column}"` : ''}`);
    this.name = 'ConstraintViolation';
  }
}
