// MongoDB source (mongodb driver). Collections and their columns are declared in config; a
// missing field is NULL. Only `find` with plain operators (and countDocuments) is used, so the
// same queries run on MongoDB and on FerretDB. Predicates become filters in filter.ts (exact or a
// superset plus a residual evaluated here), a scan's finds and in-process steps are planned in
// read-plan.ts, and documents become rows in decode.ts. A read whose client went away is stopped
// by the driver's own abort signal (it closes the connection the command runs on).
import { LRUCache } from 'lru-cache';
import { MongoClient, type Document } from 'mongodb';
import { requestCancelled, StoreError } from '../../errors.js';
import type { Predicate, Pushdown } from '../../query/predicate.js';
import type { Value } from '../../values.js';
import {
  takeEverything,
  type AccessPlan,
  withHiddenValues,
  type AggregatePushdown,
  type NativeQuery,
  type PlannedRead,
  type ReadOptions,
  type ScanAcceptance,
  type ScanOffer,
  type ScanResult,
  type Source,
  type StoreLimits,
  type TableInfo,
} from '../source.js';
import { toStoreError, urlSecrets } from '../store-errors.js';
import { tlsOptions } from '../tls.js';
import type { StoreTls } from '../../config/tls.js';
import { collectionMeta, type CollectionMeta } from './collection.js';
import { collectionScan, type CollectionFacts } from './access-plan.js';
import type { MongoCollectionDecl } from './columns.js';
import { columnValue, documentRow } from './decode.js';
import { mongoReason } from './errors.js';
import { planText, shape, shell } from './explain.js';
import { ALWAYS, exactly } from './filter.js';
import { compareKeys, planScan, projectionOf, residualKeeper, sortedDocs, type Find, type Plan } from './read-plan.js';
import type { Writer } from '../write.js';
import { MongoWriter } from './write.js';
import { signalOf } from '../../cancellation.js';

export interface MongoSourceOptions {
  name: string;
  url: string;
  database: string;
  timeoutMs?: number;
  pool?: number;
  collections: Record<string, MongoCollectionDecl>;
  /** The source's tls block (src/sources/tls.ts). */
  tls?: StoreTls;
}

/** The keys of one bind join travel in one $in; a BSON command is at most 16 MiB. */
const MONGODB_LIMITS: StoreLimits = { maxKeysPerStatement: 50_000 };

export class MongoSource implements Source {
  readonly name: string;
  readonly kind = 'mongodb';
  readonly limits = MONGODB_LIMITS;
  private readonly timeoutMs: number;
  private readonly secrets: string[];
  private client?: MongoClient;
  private readonly collections = new Map<string, CollectionMeta>();
  /** After refreshCatalog: introspect checks that the collection exists (a missing one is drift, docs/contracts.md). */
  private checkExistence = false;
  /** Each collection's size and indexes, for the cost guard. */
  private readonly facts = new LRUCache<string, Promise<CollectionFacts>>({ max: 1000, ttl: 5 * 60_000 });

  private writeSide?: Writer;
  /** Whether the server runs transactions: a replica set or mongos that commits a read in one (learnTransactions). */
  private sessionTransactions = false;
  private learning?: Promise<void>;

  /** Writes on declared columns, in a session transaction where the server has them (docs/writes.md). */
  get writer(): Writer {
    return (this.writeSide ??= new MongoWriter({
      source: this.name,
      meta: (table) => this.meta(table),
      coll: (meta) => this.coll(meta),
      wrap: (fn) => this.wrap(fn),
      client: () => this.getClient(),
      learnTransactions: () => this.learnTransactions(),
      transactions: () => this.sessionTransactions,
    }));
  }

  constructor(private readonly opts: MongoSourceOptions) {
    this.name = opts.name;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.secrets = urlSecrets(opts.url);
    for (const [coll, decl] of Object.entries(opts.collections)) this.collections.set(coll, collectionMeta(this.name, coll, decl));
  }

  /**
   * Every predicate and order is taken: a filter MongoDB cannot say exactly is pushed as a superset
   * with the exact residual evaluated here, and an order it cannot sort by the value model is
   * merged or sorted here (filter.ts, read-plan.ts).
   */
  offer(_table: TableInfo, work: ScanOffer): ScanAcceptance {
    return takeEverything(work);
  }

  async connect(): Promise<void> {
    this.getClient();
  }

  /**
   * Before the first write: whether the server runs transactions, asked once (again after a
   * failure, until it answers). Never fails: a server that cannot be asked counts as one without.
   */
  private learnTransactions(): Promise<void> {
    return (this.learning ??= this.askTransactions().catch(() => {
      this.learning = undefined;
    }));
  }

  /**
   * Asks the server whether it runs transactions: a replica set member or mongos with sessions
   * says so in `hello`, and then a read inside a transaction must work too, since some
   * servers claim a replica set without having transactions (FerretDB with --repl-set-name).
   */
  private async askTransactions(): Promise<void> {
    const client = this.getClient();
    const hello = await client.db('admin').command({ hello: 1 });
    const cluster = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
    this.sessionTransactions = cluster && hello.logicalSessionTimeoutMinutes != null && (await this.readsInTransaction(client));
  }

  private async readsInTransaction(client: MongoClient): Promise<boolean> {
    const session = client.startSession();
    try {
      session.startTransaction();
      await client.db(this.opts.database).collection('viewgate_transaction_probe').findOne({}, { session });
      // Committed, not aborted: the driver ignores a failed abort, and a read-only commit changes nothing.
      await session.commitTransaction();
      return true;
    } catch {
      return false;
    } finally {
      await session.endSession().catch(() => {});
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.close();
  }

  async ping(): Promise<void> {
    await this.wrap(() => this.getClient().db(this.opts.database).command({ ping: 1 }));
  }

  async introspect(table: string): Promise<TableInfo> {
    const meta = this.meta(table);
    if (this.checkExistence) {
      const found = await this.wrap(() =>
        this.getClient().db(this.opts.database).listCollections({ name: meta.name }, { nameOnly: true }).toArray(),
      );
      if (found.length === 0) throw new StoreError(this.name, 'failed', `collection "${meta.name}" does not exist`);
    }
    return meta.info;
  }

  refreshCatalog(): void {
    this.checkExistence = true;
    this.facts.clear();
  }

  async accessPlan(read: PlannedRead): Promise<AccessPlan> {
    if (read.op === 'join') throw new Error(`source "${this.name}" runs no joins`);
    if (read.op === 'statement') throw new Error(`source "${this.name}" judges no statements`);
    const meta = this.meta(read.table);
    const native =
      read.op === 'scan'
        ? await this.explainScan(read.table, read.pushdown)
        : read.op === 'aggregate'
          ? ((await this.explainAggregate(read.table, read.pushdown)) ?? { source: this.name, text: '', params: [] })
          : { source: this.name, text: `db.${meta.name}.countDocuments(...)`, params: [] };
    return { native, fullScans: collectionScan(meta, read, await this.collectionFacts(meta)) };
  }

  private collectionFacts(meta: CollectionMeta): Promise<CollectionFacts> {
    let facts = this.facts.get(meta.name);
    if (!facts) {
      facts = this.wrap(async () => {
        const [indexes, rows] = await Promise.all([this.coll(meta).listIndexes().toArray(), this.coll(meta).estimatedDocumentCount()]);
        return { rows, leading: new Set(indexes.flatMap((ix) => Object.keys((ix as { key: Document }).key).slice(0, 1))) };
      });
      this.facts.set(meta.name, facts);
      facts.catch(() => this.facts.delete(meta.name));
    }
    return facts;
  }

  async scan(table: string, pushdown: Pushdown, options: ReadOptions = {}): Promise<ScanResult> {
    const meta = this.meta(table);
    const plan = planScan(meta, pushdown);
    const native = this.describe(meta, pushdown, plan);
    if (pushdown.limit === 0) return { rows: [], native };
    const wanted = pushdown.columns.map((c) => meta.compiler.column(c, false));
    const docs = await this.pageDocs(meta, plan, projectionOf(meta, pushdown, plan.residual), signalOf(options.signal));
    return { rows: docs.map((d) => documentRow(meta, d, wanted)), native };
  }

  async count(table: string, where?: Predicate, options: ReadOptions = {}): Promise<number> {
    const meta = this.meta(table);
    // The driver listens to the signal itself: it is made here.
    const signal = signalOf(options.signal);
    const c = where ? meta.compiler.truth(where, true) : exactly(ALWAYS);
    if (c.exact || !where) return this.wrap(() => this.coll(meta).countDocuments(c.filter, this.readOptions(signal)), signal);
    // The filter is a superset: count the documents where the predicate is TRUE.
    const keep = residualKeeper(meta, where);
    const projection = projectionOf(meta, { columns: [] }, where);
    return this.wrap(async () => {
      let n = 0;
      for await (const d of this.coll(meta).find(c.filter, { projection, ...this.readOptions(signal) })) if (keep(d)) n++;
      return n;
    }, signal);
  }

  /**
   * count(*) over the whole collection or an exact filter: countDocuments, whose pipeline ($match,
   * then $group with $sum: 1) FerretDB 1.x implements. Everything else is declined and runs in
   * process: a $group key or a $sum over a field would meet values the column's type does not hold
   * (misfits, which reading rows reports, ObjectIds beside strings, int stored as double), so its
   * result could differ from the rows' aggregate.
   */
  async aggregate(table: string, pushdown: AggregatePushdown, options: ReadOptions = {}): Promise<ScanResult | undefined> {
    const counted = this.countable(table, pushdown);
    if (!counted) return undefined;
    const signal = signalOf(options.signal);
    const n = await this.wrap(() => this.coll(counted.meta).countDocuments(counted.filter, this.readOptions(signal)), signal);
    const row: Record<string, bigint> = {};
    pushdown.metrics.forEach((_, i) => (row[`a${i}`] = BigInt(n)));
    return { rows: [row], native: counted.native };
  }

  async explainAggregate(table: string, pushdown: AggregatePushdown): Promise<NativeQuery | undefined> {
    return this.countable(table, pushdown)?.native;
  }

  private countable(table: string, pd: AggregatePushdown): { meta: CollectionMeta; filter: Document; native: NativeQuery } | undefined {
    if (pd.group.length > 0 || pd.metrics.some((m) => m.fn !== 'count' || m.column !== undefined)) return undefined;
    const meta = this.meta(table);
    const c = pd.where ? meta.compiler.truth(pd.where, true) : exactly(ALWAYS);
    if (!c.exact) return undefined;
    const text = (doc: (v: unknown) => string) =>
      `db.${meta.name}.aggregate([{ $match: ${doc(c.filter)} }, { $group: { _id: 1, n: { $sum: 1 } } }])`;
    const native = withHiddenValues({ source: this.name, text: text(shell), params: [] }, () => text(shape));
    return { meta, filter: c.filter, native };
  }

  async explainScan(table: string, pushdown: Pushdown): Promise<NativeQuery> {
    const meta = this.meta(table);
    return this.describe(meta, pushdown, planScan(meta, pushdown));
  }

  private getClient(): MongoClient {
    if (!this.client) {
      // Connecting may take the query timeout, within 1-10 s (so a tiny query timeout still connects).
      const connectMs = this.timeoutMs > 0 ? Math.min(Math.max(this.timeoutMs, 1000), 10_000) : 10_000;
      this.client = new MongoClient(this.opts.url, {
        maxPoolSize: this.opts.pool ?? 10,
        serverSelectionTimeoutMS: connectMs,
        connectTimeoutMS: connectMs,
        useBigInt64: true,
        ...(this.opts.tls ? { tls: true, ...tlsOptions(this.opts.tls) } : {}),
      });
    }
    return this.client;
  }

  private coll(meta: CollectionMeta) {
    return this.getClient().db(this.opts.database).collection(meta.name);
  }

  /** The server's time limit for one command, and the signal that stops it when its reader goes away. */
  private readOptions(signal: AbortSignal | undefined): { maxTimeMS?: number; signal?: AbortSignal } {
    return { ...(this.timeoutMs > 0 ? { maxTimeMS: this.timeoutMs } : {}), ...(signal ? { signal } : {}) };
  }

  /** Any failure as a StoreError; once `signal` has aborted, none starts and whatever follows is requestCancelled(). */
  private async wrap<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw requestCancelled();
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted) throw requestCancelled();
      throw toStoreError(this.name, err, mongoReason, this.secrets);
    }
  }

  private meta(table: string): CollectionMeta {
    const m = this.collections.get(table);
    if (!m) throw new StoreError(this.name, 'failed', `collection "${table}" is not configured for database "${this.opts.database}"`);
    return m;
  }

  /** The documents of the page, in PostgreSQL order. */
  private async pageDocs(meta: CollectionMeta, plan: Plan, projection: Document, signal?: AbortSignal): Promise<Document[]> {
    if (plan.kind === 'memory') {
      const keep = residualKeeper(meta, plan.residual);
      const docs = (await this.find(meta, { filter: plan.filter }, projection, signal)).filter(keep);
      const end = plan.limit === undefined ? undefined : plan.offset + plan.limit;
      return sortedDocs(meta, docs, plan.orderBy).slice(plan.offset, end);
    }
    if (plan.kind === 'single' && !plan.residual) {
      return this.find(
        meta,
        { filter: plan.filter, sort: plan.sort, skip: plan.offset || undefined, limit: plan.limit },
        projection,
        signal,
      );
    }
    if (plan.kind === 'split') return this.findSplit(meta, plan, projection, signal);
    const parts = plan.kind === 'single' ? [{ filter: plan.filter, sort: plan.sort }] : plan.parts;
    return this.merge(meta, plan, parts, projection, signal);
  }

  /**
   * Reads `parts` (each in PostgreSQL order) as cursors and merges them by the value model, keeping
   * the documents where the residual is TRUE, until offset + limit of them have been read.
   */
  private merge(meta: CollectionMeta, plan: Plan, parts: Find[], projection: Document, signal?: AbortSignal): Promise<Document[]> {
    const { offset, limit, orderBy } = plan;
    const keep = residualKeeper(meta, plan.residual);
    const keys = orderBy.map((o) => meta.compiler.column(o.column));
    // With a residual some documents are dropped, so read a little ahead in each round trip.
    const batchSize = limit === undefined ? undefined : Math.min(1000, Math.max(101, offset + limit + 1));
    type Head = { doc: Document; key: Value[] } | null;
    const before = (a: NonNullable<Head>, b: NonNullable<Head>): boolean => compareKeys(keys, orderBy, a.key, b.key) < 0;
    return this.wrap(async () => {
      const cursors = parts.map((f) =>
        this.coll(meta).find(f.filter, {
          projection,
          ...(f.sort ? { sort: f.sort } : {}),
          ...(f.limit !== undefined ? { limit: f.limit } : {}),
          ...(batchSize !== undefined ? { batchSize } : {}),
          ...this.readOptions(signal),
        }),
      );
      const next = async (i: number): Promise<Head> => {
        for (;;) {
          const doc = await cursors[i]!.next();
          if (doc === null) return null;
          if (keep(doc)) return { doc, key: keys.map((k) => columnValue(meta, doc, k)) };
        }
      };
      try {
        const heads = await Promise.all(cursors.map((_, i) => next(i)));
        const out: Document[] = [];
        let skipped = 0;
        for (;;) {
          let best = -1;
          for (let i = 0; i < heads.length; i++) if (heads[i] && (best < 0 || before(heads[i]!, heads[best]!))) best = i;
          if (best < 0) break;
          if (skipped < offset) skipped++;
          else out.push(heads[best]!.doc);
          if (limit !== undefined && out.length >= limit) break;
          heads[best] = await next(best);
        }
        return out;
      } finally {
        await Promise.allSettled(cursors.map((c) => c.close()));
      }
    }, signal);
  }

  private async findSplit(
    meta: CollectionMeta,
    plan: Extract<Plan, { kind: 'split' }>,
    projection: Document,
    signal?: AbortSignal,
  ): Promise<Document[]> {
    const a = await this.find(meta, { ...plan.first, skip: plan.offset || undefined, limit: plan.limit }, projection, signal);
    if (plan.limit !== undefined && a.length >= plan.limit) return a;
    // The page reaches into the second part. If it also starts there, the first part's size says where.
    let skip = 0;
    if (a.length === 0 && plan.offset > 0) {
      const n = await this.wrap(() => this.coll(meta).countDocuments(plan.first.filter, this.readOptions(signal)), signal);
      skip = Math.max(0, plan.offset - n);
    }
    const limit = plan.limit === undefined ? undefined : plan.limit - a.length;
    const b = await this.find(meta, { ...plan.second, skip: skip || undefined, limit }, projection, signal);
    return [...a, ...b];
  }

  private find(meta: CollectionMeta, f: Find, projection: Document, signal?: AbortSignal): Promise<Document[]> {
    return this.wrap(
      () =>
        this.coll(meta)
          .find(f.filter, {
            projection,
            ...(f.sort ? { sort: f.sort } : {}),
            ...(f.skip ? { skip: f.skip } : {}),
            ...(f.limit !== undefined ? { limit: f.limit } : {}),
            ...this.readOptions(signal),
          })
          .toArray(),
      signal,
    );
  }

  private describe(meta: CollectionMeta, pd: Pushdown, plan: Plan): NativeQuery {
    const native = { source: this.name, text: planText(meta, pd, plan, this.timeoutMs), params: [] };
    return withHiddenValues(native, () => planText(meta, pd, plan, this.timeoutMs, true));
  }
}
