// Prometheus metrics (docs/operations.md, "Metrics"), one registry per runtime so several runtimes
// in one process (tests, bench) never share series. Label values are bounded: views are configured
// ids or "-", stores are configured source names, statuses are HTTP codes.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { LabelledHistogram } from './histogram.js';
import type { ErrorBudgets } from './slo.js';
import { RequestSeries } from './request-series.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ROW_BUCKETS = [0, 1, 10, 100, 1_000, 10_000, 100_000];

export type Surface = 'rest' | 'mcp';

export type BreakerStateName = 'closed' | 'open' | 'half-open';
const BREAKER_STATE_VALUE: Record<BreakerStateName, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface MetricsOptions {
  /** Node process metrics (memory, event loop lag, GC); on for servers, off for short-lived tools. */
  processMetrics?: boolean;
}

/** What src/ops/output.ts counts for the log/audit output stream. */
export interface OutputCounts {
  droppedLogs: ReadonlyMap<string, number>;
  buffered: number;
}

/** What the console's overview reads of the counters (docs/console.md). */
export interface MetricsSnapshot {
  cacheHits: number;
  cacheMisses: number;
  /** Per materialized view: whether its last refresh succeeded, and when one last did. */
  refreshes: { view: string; ok: boolean; lastSuccess: string | null }[];
}

export class Metrics {
  readonly registry = new Registry();
  /** Requests per minute over the last hour, for the console's charts. */
  readonly series = new RequestSeries();
  // Observed on every request: LabelledHistogram, not prom-client's (see histogram.ts).
  private readonly requests: LabelledHistogram<'surface' | 'action' | 'view' | 'status'>;
  private readonly storeQueries: LabelledHistogram<'store' | 'op' | 'outcome'>;
  private readonly storeRows: LabelledHistogram<'store'>;
  private readonly cacheHits: Counter<'view'>;
  private readonly cacheMisses: Counter<'view'>;
  private readonly rateLimited: Counter<'view' | 'role'>;
  private readonly breakerState: Gauge<'store'>;
  private readonly breakerRejections: Counter<'store'>;
  private readonly refreshStatus: Gauge<'view'>;
  private readonly refreshLastSuccess: Gauge<'view'>;
  private readonly outOfContract: Gauge<'view'>;
  private readonly driftChanges: Counter<'view' | 'state'>;
  private readonly deprecatedCalls: Counter<'view' | 'role'>;
  private readonly configReloads: Counter<'outcome'>;
  private readonly configReloadOk: Gauge;
  private auditFailureSource: () => number = () => 0;
  private auditDroppedSource: () => number = () => 0;
  private outputSource: () => OutputCounts = () => ({ droppedLogs: new Map(), buffered: 0 });
  private budgets?: ErrorBudgets;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.requests = new LabelledHistogram(
      'viewgate_request_duration_seconds',
      'REST requests and MCP tool calls, by surface, action (route or tool), view and status',
      ['surface', 'action', 'view', 'status'],
      LATENCY_BUCKETS,
      this.registry,
    );
    this.storeQueries = new LabelledHistogram(
      'viewgate_store_query_duration_seconds',
      'Native queries sent to a store, by store, operation (scan, count, ping, introspect) and outcome',
      ['store', 'op', 'outcome'],
      LATENCY_BUCKETS,
      this.registry,
    );
    this.storeRows = new LabelledHistogram(
      'viewgate_store_rows',
      'Rows returned by one scan, by store',
      ['store'],
      ROW_BUCKETS,
      this.registry,
    );
    this.cacheHits = new Counter({
      name: 'viewgate_cache_hits_total',
      help: 'Response cache hits, by view',
      labelNames: ['view'],
      registers,
    });
    this.cacheMisses = new Counter({
      name: 'viewgate_cache_misses_total',
      help: 'Response cache misses, by view',
      labelNames: ['view'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'viewgate_rate_limit_rejections_total',
      help: 'Requests refused with 429, by view and role',
      labelNames: ['view', 'role'],
      registers,
    });
    this.breakerState = new Gauge({
      name: 'viewgate_circuit_state',
      help: 'Circuit breaker state per store: 0 closed, 1 half-open, 2 open',
      labelNames: ['store'],
      registers,
    });
    this.breakerRejections = new Counter({
      name: 'viewgate_circuit_rejections_total',
      help: 'Store calls refused without trying because the circuit was open',
      labelNames: ['store'],
      registers,
    });
    const self = this;
    new Counter({
      name: 'viewgate_audit_failures_total',
      help: 'Audit records that could not be written',
      registers,
      collect() {
        this.reset();
        this.inc(self.auditFailureSource());
      },
    });
    new Counter({
      name: 'viewgate_audit_dropped_total',
      help: 'Audit records dropped because the audit output (stdout, stderr, file or PostgreSQL) was not keeping up',
      registers,
      collect() {
        this.reset();
        this.inc(self.auditDroppedSource());
      },
    });
    new Counter({
      name: 'viewgate_log_dropped_total',
      help: 'Log lines dropped because the log output was not keeping up, by level',
      labelNames: ['level'],
      registers,
      collect() {
        this.reset();
        for (const [level, n] of self.outputSource().droppedLogs) this.inc({ level }, n);
      },
    });
    new Gauge({
      name: 'viewgate_output_buffered_bytes',
      help: 'Log and audit bytes written to the output stream but not yet taken by its reader',
      registers,
      collect() {
        this.set(self.outputSource().buffered);
      },
    });
    this.refreshStatus = new Gauge({
      name: 'viewgate_refresh_status',
      help: 'Last refresh of a materialized view: 1 succeeded, 0 failed',
      labelNames: ['view'],
      registers,
    });
    this.outOfContract = new Gauge({
      name: 'viewgate_view_out_of_contract',
      help: 'Whether a view is out of contract (its sources no longer fit it: 1) or serves (0), docs/contracts.md',
      labelNames: ['view'],
      registers,
    });
    this.driftChanges = new Counter({
      name: 'viewgate_view_drift_changes_total',
      help: 'Times a view went out of contract (state=out) or healed (state=fit)',
      labelNames: ['view', 'state'],
      registers,
    });
    this.deprecatedCalls = new Counter({
      name: 'viewgate_deprecated_view_requests_total',
      help: 'Requests to deprecated views, by view and role: who still uses them',
      labelNames: ['view', 'role'],
      registers,
    });
    this.refreshLastSuccess = new Gauge({
      name: 'viewgate_refresh_last_success_timestamp_seconds',
      help: 'Unix time of the last successful refresh of a materialized view',
      labelNames: ['view'],
      registers,
    });
    this.configReloads = new Counter({
      name: 'viewgate_config_reloads_total',
      help: 'Configuration reloads (SIGHUP), by outcome: applied, or refused (the running config kept)',
      labelNames: ['outcome'],
      registers,
    });
    this.configReloadOk = new Gauge({
      name: 'viewgate_config_last_reload_success',
      help: 'Whether the last configuration reload was applied (1) or refused (0); 1 before any reload',
      registers,
    });
    this.configReloadOk.set(1);
  }

  observeRequest(surface: Surface, action: string, view: string | undefined, status: number, seconds: number): void {
    this.requests.observe([surface, action, view ?? '-', String(status)], seconds);
    this.series.observe(status, seconds);
    if (view !== undefined) this.budgets?.observe(view, status, seconds);
  }

  /** The services' error budgets (src/ops/slo.ts), told of every request to a view. */
  trackErrorBudgets(budgets: ErrorBudgets): void {
    this.budgets = budgets;
  }

  observeStoreQuery(store: string, op: string, outcome: string, seconds: number, rows?: number): void {
    this.storeQueries.observe([store, op, outcome], seconds);
    if (rows !== undefined) this.storeRows.observe([store], rows);
  }

  cacheHit(view: string): void {
    this.cacheHits.inc({ view });
  }

  cacheMiss(view: string): void {
    this.cacheMisses.inc({ view });
  }

  rateLimitRejected(view: string, role: string): void {
    this.rateLimited.inc({ view, role });
  }

  breakerChanged(store: string, state: BreakerStateName): void {
    this.breakerState.set({ store }, BREAKER_STATE_VALUE[state]);
  }

  breakerRejected(store: string): void {
    this.breakerRejections.inc({ store });
  }

  /** Where audit failures are counted (src/ops/audit.ts `failures`); read at scrape time. */
  countAuditFailures(source: () => number): void {
    this.auditFailureSource = source;
  }

  /** Where dropped audit records are counted (src/ops/audit.ts `dropped`); read at scrape time. */
  countAuditDrops(source: () => number): void {
    this.auditDroppedSource = source;
  }

  /** The log/audit output stream's drops and backlog (src/ops/output.ts); read at scrape time. */
  countOutput(source: () => OutputCounts): void {
    this.outputSource = source;
  }

  async snapshot(): Promise<MetricsSnapshot> {
    const total = async (c: Counter<'view'>) => (await c.get()).values.reduce((sum, v) => sum + v.value, 0);
    const last = new Map((await this.refreshLastSuccess.get()).values.map((v) => [String(v.labels.view), v.value]));
    const refreshes = (await this.refreshStatus.get()).values.map((v) => {
      const at = last.get(String(v.labels.view));
      return { view: String(v.labels.view), ok: v.value === 1, lastSuccess: at === undefined ? null : new Date(at * 1000).toISOString() };
    });
    return { cacheHits: await total(this.cacheHits), cacheMisses: await total(this.cacheMisses), refreshes };
  }

  /** For the hub engine: the outcome of one refresh of a materialized view. */
  refreshed(view: string, ok: boolean, at: Date = new Date()): void {
    this.refreshStatus.set({ view }, ok ? 1 : 0);
    if (ok) this.refreshLastSuccess.set({ view }, at.getTime() / 1000);
  }

  /** A view went out of contract (its sources no longer fit it) or fits again. */
  viewDrift(view: string, out: boolean): void {
    this.outOfContract.set({ view }, out ? 1 : 0);
    this.driftChanges.inc({ view, state: out ? 'out' : 'fit' });
  }

  /** A request to a deprecated view by this role. */
  deprecatedViewCalled(view: string, role: string): void {
    this.deprecatedCalls.inc({ view, role });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  async exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /** A configuration reload ended: applied, or refused with the running config kept (docs/operations.md). */
  configReloaded(applied: boolean): void {
    this.configReloads.inc({ outcome: applied ? 'applied' : 'refused' });
    this.configReloadOk.set(applied ? 1 : 0);
  }
}
