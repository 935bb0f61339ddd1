// MongoDB writes (docs/writes.md): declared columns only, each written to its path (a `path` column
// to its nested field), `_id` generated as an ObjectId when an insert leaves it out (and a 24-hex
// `_id` stored as an ObjectId). Documents are matched with the read path's filters (a superset,
// then the exact residual here), then changed by their `_id`s. On a replica set or a sharded
// cluster a unit of work is a session transaction; FerretDB 1.x and a standalone mongod have none,
// so there a unit of work is its statements one after the other: the gateway refuses an
// all-or-nothing batch of more than one record and checks the row filter before it writes.
import { Binary, Decimal128, ObjectId, type ClientSession, type Collection, type Document, type MongoClient } from 'mongodb';
import type { Predicate } from '../../query/predicate.js';
import type { Row, Value } from '../../values.js';
import { ConstraintViolation, type Writer, type WriteTx } from '../write.js';
import type { CollectionMeta } from './collection.js';
import { documentRow } from './decode.js';
import { residualKeeper } from './read-plan.js';

const HEX24 = /^[0-9a-f]{24}$/;

interface MongoWriteParts {
  source: string;
  meta(table: string): CollectionMeta;
  coll(meta: CollectionMeta): Collection;
  /** Any driver failure as the source's StoreError. */
  wrap<T>(fn: () => Promise<T>): Promise<T>;
  client(): MongoClient;
  /** Whether the server runs transactions (the source asks it with `hello`). */
  transactions(): boolean;
}

/** A value of the value model as BSON for a column of this type. */
function encode(meta: CollectionMeta, column: string, v: Value): unknown {
  if (v === null) return null;
  const col = meta.compiler.column(column, false);
  switch (col.type) {
    case 'text':
      return col.path === '_id' && typeof v === 'string' && HEX24.test(v) ? new ObjectId(v) : v;
    case 'numeric':
      return Decimal128.fromString(String(v));
    case 'timestamptz':
      return new Date(String(v));
    case 'date':
      return new Date(`${String(v)}T00:00:00Z`);
    case 'bytea':
      return new Binary(Buffer.from(String(v), 'base64'));
    default:
      return v; // bool, int (bigint: int64), float, jsonb
  }
}

/** `values` as a new document: each column at its path. */
function documentOf(meta: CollectionMeta, values: Row): Document {
  const doc: Document = {};
  for (const [name, v] of Object.entries(values)) {
    const segs = meta.compiler.column(name, false).path.split('.');
    let at = doc;
    for (const s of segs.slice(0, -1)) at = (at[s] ??= {}) as Document;
    at[segs[segs.length - 1]!] = encode(meta, name, v);
  }
  return doc;
}

export class MongoWriter implements Writer {
  constructor(private readonly parts: MongoWriteParts) {}

  get transactions(): boolean {
    return this.parts.transactions();
  }

  async uniqueKeys(table: string): Promise<string[][]> {
    const key = this.parts.meta(table).info.primaryKey;
    return key.length > 0 ? [key] : [];
  }

  async run<T>(work: (tx: WriteTx) => Promise<T>): Promise<T> {
    if (!this.transactions) return work(new MongoWriteTx(this.parts));
    const session = this.parts.client().startSession();
    try {
      // The driver retries `work` on a transient transaction error; it only reads and writes through tx.
      return await session.withTransaction(() => work(new MongoWriteTx(this.parts, session)));
    } finally {
      await session.endSession();
    }
  }
}

class MongoWriteTx implements WriteTx {
  /** The session options of every command: inside the transaction, or none. */
  private readonly s: { session?: ClientSession };

  constructor(
    private readonly p: MongoWriteParts,
    session?: ClientSession,
  ) {
    this.s = session ? { session } : {};
  }

  /** The documents matching `where`: the filter's superset, then the exact residual. */
  private async matching(meta: CollectionMeta, where: Predicate, limit?: number): Promise<Document[]> {
    const c = meta.compiler.truth(where, true);
    const keep = c.exact ? () => true : residualKeeper(meta, where);
    const docs = await this.p.wrap(() => this.p.coll(meta).find(c.filter, this.s).toArray());
    const kept = docs.filter(keep);
    return limit === undefined ? kept : kept.slice(0, limit);
  }

  private rows(meta: CollectionMeta, docs: Document[], columns: readonly string[]): Row[] {
    const cols = columns.map((c) => meta.compiler.column(c, false));
    return docs.map((d) => documentRow(meta, d, cols));
  }

  private async byIds(meta: CollectionMeta, ids: ObjectId[]): Promise<Document[]> {
    return this.p.wrap(() =>
      this.p
        .coll(meta)
        .find({ _id: { $in: ids } }, this.s)
        .toArray(),
    );
  }

  async insert(table: string, values: Row, returning: readonly string[]): Promise<Row> {
    const meta = this.p.meta(table);
    const doc = documentOf(meta, values);
    doc._id ??= new ObjectId();
    try {
      await this.p.coll(meta).insertOne(doc, this.s);
    } catch (err) {
      // E11000: a unique index (the _id) already holds the value.
      if ((err as { code?: unknown }).code === 11000) throw new ConstraintViolation(this.p.source, 'unique', meta.info.primaryKey[0]);
      await this.p.wrap(() => Promise.reject(err as Error));
    }
    return this.rows(meta, await this.byIds(meta, [doc._id as ObjectId]), returning)[0]!;
  }

  async update(table: string, values: Row, where: Predicate, returning: readonly string[]): Promise<Row[]> {
    const meta = this.p.meta(table);
    const docs = await this.matching(meta, where);
    if (docs.length === 0) return [];
    const ids = docs.map((d) => d._id as ObjectId); // (or any other _id a document has)
    const set = Object.fromEntries(Object.entries(values).map(([n, v]) => [meta.compiler.column(n, false).path, encode(meta, n, v)]));
    await this.p.wrap(() => this.p.coll(meta).updateMany({ _id: { $in: ids } }, { $set: set }, this.s));
    return this.rows(meta, await this.byIds(meta, ids), returning);
  }

  async delete(table: string, where: Predicate, returning: readonly string[]): Promise<Row[]> {
    const meta = this.p.meta(table);
    const docs = await this.matching(meta, where);
    if (docs.length === 0) return [];
    await this.p.wrap(() => this.p.coll(meta).deleteMany({ _id: { $in: docs.map((d) => d._id as ObjectId) } }, this.s));
    return this.rows(meta, docs, returning);
  }

  async select(table: string, columns: readonly string[], where: Predicate, limit?: number): Promise<Row[]> {
    const meta = this.p.meta(table);
    return this.rows(meta, await this.matching(meta, where, limit), columns);
  }
}
