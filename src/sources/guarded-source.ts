// A Source decorator: every round trip goes through the store's circuit breaker and is timed into
// the store metrics. The wrapped source keeps its own timeouts and pool limits. A read stopped
// because its client left is no store failure: the breaker lets it pass (it is no StoreError) and
// the metrics count it as `cancelled`. With tracing, each round trip is one span of the request it
// serves (src/ops/telemetry.ts).
import type { Pushdown, Predicate } from '../query/predicate.js';
import type {
  AccessPlan,
  AggregatePushdown,
  PlannedRead,
  JoinPushdown,
  NativeQuery,
  ReadOptions,
  ScanAcceptance,
  ScanOffer,
  ScanResult,
  Source,
  TableInfo,
} from './source.js';
import type { StoreLimits } from './source.js';
import type { Writer } from './write.js';
import { ApiError, StoreError } from '../errors.js';
import { CircuitOpenError, type BreakerStateName, type CircuitBreaker } from './breaker.js';
import { readRecorder, type RecordedRead } from './planned-reads.js';

/** What the sources report to the metrics (src/ops/metrics.ts's Metrics has it). */
export interface StoreMetrics {
  observeStoreQuery(store: string, op: string, outcome: string, seconds: number, rows?: number): void;
  breakerChanged(store: string, state: BreakerStateName): void;
  breakerRejected(store: string): void;
}

/** Spans of store round trips (src/ops/telemetry.ts's Telemetry); absent when tracing is off. */
export interface StoreTracing {
  query<T>(
    store: { name: string; kind: string },
    op: string,
    fn: () => Promise<T>,
    describe?: (v: T) => { native?: NativeQuery; rows?: number },
  ): Promise<T>;
}

/** What a span tells of a result that carries its native query. */
const scanned = (r: ScanResult | undefined) => (r ? { native: r.native, rows: r.rows.length } : {});

export class GuardedSource implements Source {
  readonly name: string;
  readonly kind: string;
  readonly limits: StoreLimits;
  /** Present when the wrapped source can run a join of its own tables as one query. */
  readonly scanJoin?: (pushdown: JoinPushdown, options?: ReadOptions) => Promise<ScanResult>;
  /** Present when the wrapped source can compute groups itself (GROUP BY). */
  readonly aggregate?: (table: string, pushdown: AggregatePushdown, options?: ReadOptions) => Promise<ScanResult | undefined>;
  readonly explainAggregate?: (table: string, pushdown: AggregatePushdown) => Promise<NativeQuery | undefined>;
  /** Present when the wrapped source can say how it would read (the cost guard's EXPLAIN is a round trip). */
  readonly accessPlan?: (read: PlannedRead) => Promise<AccessPlan>;
  /** Present when the wrapped source writes; each unit of work goes through the breaker. */
  readonly writer?: Writer;

  constructor(
    readonly inner: Source,
    readonly breaker: CircuitBreaker,
    private readonly metrics?: StoreMetrics,
    private readonly tracing?: StoreTracing,
  ) {
    this.name = inner.name;
    this.kind = inner.kind;
    this.limits = inner.limits;
    if (inner.scanJoin)
      this.scanJoin = (pd, options) =>
        this.planned({ op: 'join', pushdown: pd }, { rows: [], native: { source: this.name, text: '', params: [] } }) ??
        this.call(
          'scanJoin',
          () => inner.scanJoin!(pd, options),
          (r) => r.rows.length,
          scanned,
        );
    if (inner.aggregate)
      this.aggregate = (table, pd, options) =>
        this.plannedAggregate(table, pd) ??
        this.call(
          'aggregate',
          () => inner.aggregate!(table, pd, options),
          (r) => r?.rows.length ?? 0,
          scanned,
        );
    // Builds the native query without sending it: no round trip, no breaker.
    if (inner.explainAggregate) this.explainAggregate = (table, pd) => inner.explainAggregate!(table, pd);
    if (inner.accessPlan) this.accessPlan = (read) => this.call('plan', () => inner.accessPlan!(read));
    const writer = inner.writer;
    if (writer)
      this.writer = {
        // Read at each write: a store may learn whether it has transactions after it starts (MongoDB's hello).
        get transactions() {
          return writer.transactions;
        },
        uniqueKeys: (table) => this.call('introspect', () => writer.uniqueKeys(table)),
        run: (work, options) => this.call('write', () => writer.run(work, options)),
        ...(writer.prepare ? { prepare: () => writer.prepare!() } : {}),
      };
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  ping(): Promise<void> {
    return this.call('ping', () => this.inner.ping());
  }

  introspect(table: string): Promise<TableInfo> {
    return this.call('introspect', () => this.inner.introspect(table));
  }

  refreshCatalog(): void {
    this.inner.refreshCatalog?.();
  }

  scan(table: string, pushdown: Pushdown, options?: ReadOptions): Promise<ScanResult> {
    const recorder = readRecorder();
    if (recorder) {
      recorder.push(this.recorded({ op: 'scan', table, pushdown }));
      return this.inner.explainScan(table, pushdown).then((native) => ({ rows: [], native }));
    }
    return this.call(
      'scan',
      () => this.inner.scan(table, pushdown, options),
      (r) => r.rows.length,
      scanned,
    );
  }

  count(table: string, where?: Predicate, options?: ReadOptions): Promise<number> {
    return (
      this.planned({ op: 'count', table, ...(where ? { where } : {}) }, 0) ??
      this.call(
        'count',
        () => this.inner.count(table, where, options),
        undefined,
        () => ({ rows: 1 }),
      )
    );
  }

  offer(table: TableInfo, work: ScanOffer): ScanAcceptance {
    return this.inner.offer(table, work);
  }

  /** Builds the native query without sending it: no round trip, no breaker. */
  explainScan(table: string, pushdown: Pushdown): Promise<NativeQuery> {
    return this.inner.explainScan(table, pushdown);
  }

  /** In a dry run (src/sources/planned-reads.ts): records the read and answers `empty`; else undefined. */
  private planned<T>(read: PlannedRead, empty: T): Promise<T> | undefined {
    const recorder = readRecorder();
    if (!recorder) return undefined;
    recorder.push(this.recorded(read));
    return Promise.resolve(empty);
  }

  /** A read as the dry run records it: judged by this store's access path, when it has one. */
  private recorded(read: PlannedRead): RecordedRead {
    const plan = this.accessPlan;
    const limit = read.op === 'scan' || read.op === 'join' ? read.pushdown.limit : undefined;
    const offset = read.op === 'scan' || read.op === 'join' ? (read.pushdown.offset ?? 0) : 0;
    return {
      source: this.name,
      ...(plan ? { accessPlan: () => plan(read) } : {}),
      ...(limit !== undefined ? { rows: limit + offset } : {}),
    };
  }

  /** planned() for an aggregate: one the store would decline is not sent (the engine scans instead). */
  private plannedAggregate(table: string, pushdown: AggregatePushdown): Promise<ScanResult | undefined> | undefined {
    const recorder = readRecorder();
    if (!recorder) return undefined;
    return (async () => {
      const native = await this.inner.explainAggregate?.(table, pushdown);
      if (!native) return undefined;
      recorder.push(this.recorded({ op: 'aggregate', table, pushdown }));
      return { rows: [], native };
    })();
  }

  private call<T>(
    op: string,
    fn: () => Promise<T>,
    rows?: (v: T) => number,
    describe?: (v: T) => { native?: NativeQuery; rows?: number },
  ): Promise<T> {
    return this.tracing ? this.tracing.query(this, op, () => this.timed(op, fn, rows), describe) : this.timed(op, fn, rows);
  }

  private async timed<T>(op: string, fn: () => Promise<T>, rows?: (v: T) => number): Promise<T> {
    const started = performance.now();
    // The breaker's run() in this frame: one async step less on every read.
    let probe: boolean | undefined;
    try {
      probe = this.breaker.admit();
      const v = await fn();
      this.breaker.succeeded();
      this.metrics?.observeStoreQuery(this.name, op, 'ok', (performance.now() - started) / 1000, rows?.(v));
      return v;
    } catch (err) {
      // Undefined: the breaker refused the call (admit threw), so the call never ran.
      if (probe !== undefined) this.breaker.threw(err, probe);
      const outcome =
        err instanceof CircuitOpenError
          ? 'circuit_open'
          : err instanceof StoreError
            ? err.reason
            : err instanceof ApiError && err.kind === 'request_cancelled'
              ? 'cancelled'
              : 'error';
      this.metrics?.observeStoreQuery(this.name, op, outcome, (performance.now() - started) / 1000);
      throw err;
    }
  }
}
