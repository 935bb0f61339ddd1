// A source with `roleUrls` (docs/security.md, "Identity passthrough"): a role listed there reads
// and writes through its own Source, built from its own URL, so the store's own grants for those
// credentials bind it; every other role, and everything outside a request (catalog, explain),
// uses the source's `url`; a ping asks every URL. Before a listed role's read, the columns it names are checked
// against what the store shows that role's credentials: a column they may not read is a 403 naming
// it, never a store failure that would open the circuit for every role.
import { ApiError, StoreError } from '../errors.js';
import { predicateColumns, type Predicate, type Pushdown } from '../query/predicate.js';
import { currentRead } from './read-context.js';
import type {
  AggregatePushdown,
  JoinPushdown,
  NativeQuery,
  ReadOptions,
  ScanAcceptance,
  ScanOffer,
  ScanResult,
  Source,
  StoreLimits,
  TableInfo,
} from './source.js';
import type { Writer } from './write.js';

/** The role's source, and the role, for the running request; undefined: the role is not listed. */
interface Routed {
  role: string;
  source: Source;
}

export class RoleRoutedSource implements Source {
  readonly name: string;
  readonly kind: string;
  readonly limits: StoreLimits;
  readonly scanJoin?: (pushdown: JoinPushdown, options?: ReadOptions) => Promise<ScanResult>;
  readonly aggregate?: (table: string, pushdown: AggregatePushdown, options?: ReadOptions) => Promise<ScanResult | undefined>;
  readonly explainAggregate?: (table: string, pushdown: AggregatePushdown) => Promise<NativeQuery | undefined>;
  readonly writer?: Writer;

  constructor(
    private readonly main: Source,
    private readonly byRole: ReadonlyMap<string, Source>,
  ) {
    this.name = main.name;
    this.kind = main.kind;
    this.limits = main.limits;
    if (main.scanJoin) this.scanJoin = (pd, options) => this.scanJoinAs(pd, options);
    if (main.aggregate) this.aggregate = (table, pd, options) => this.aggregateAs(table, pd, options);
    if (main.explainAggregate) this.explainAggregate = (table, pd) => main.explainAggregate!(table, pd);
    const writer = main.writer;
    if (writer)
      this.writer = {
        transactions: writer.transactions,
        uniqueKeys: (table) => writer.uniqueKeys(table),
        run: (work, options) => (this.routed()?.source.writer ?? writer).run(work, options),
      };
  }

  private routed(): Routed | undefined {
    const role = currentRead()?.identity?.role;
    const source = role === undefined ? undefined : this.byRole.get(role);
    return source && role !== undefined ? { role, source } : undefined;
  }

  private all(): Source[] {
    return [this.main, ...this.byRole.values()];
  }

  async connect(): Promise<void> {
    await Promise.all(this.all().map((s) => s.connect()));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all().map((s) => s.close()));
  }

  /** Every URL answers: a role's credentials that no longer log in are found by health checks too. */
  async ping(): Promise<void> {
    await Promise.all(this.all().map((s) => s.ping()));
  }

  introspect(table: string): Promise<TableInfo> {
    return this.main.introspect(table);
  }

  refreshCatalog(): void {
    for (const s of this.all()) s.refreshCatalog?.();
  }

  offer(table: TableInfo, work: ScanOffer): ScanAcceptance {
    return this.main.offer(table, work);
  }

  explainScan(table: string, pushdown: Pushdown): Promise<NativeQuery> {
    return this.main.explainScan(table, pushdown);
  }

  async scan(table: string, pushdown: Pushdown, options?: ReadOptions): Promise<ScanResult> {
    const r = this.routed();
    if (!r) return this.main.scan(table, pushdown, options);
    await this.check(r, table, [...pushdown.columns, ...whereColumns(pushdown.where), ...(pushdown.orderBy ?? []).map((t) => t.column)]);
    return r.source.scan(table, pushdown, options);
  }

  async count(table: string, where?: Predicate, options?: ReadOptions): Promise<number> {
    const r = this.routed();
    if (!r) return this.main.count(table, where, options);
    await this.check(r, table, whereColumns(where));
    return r.source.count(table, where, options);
  }

  private async scanJoinAs(pushdown: JoinPushdown, options?: ReadOptions): Promise<ScanResult> {
    const r = this.routed();
    if (!r) return this.main.scanJoin!(pushdown, options);
    for (const t of pushdown.tables) {
      const joined = pushdown.joins.flatMap((j) => [
        ...(j.alias === t.alias ? j.on.map((o) => o.column) : []),
        ...(j.parentAlias === t.alias ? j.on.map((o) => o.parentColumn) : []),
      ]);
      const ordered = (pushdown.orderBy ?? []).filter((o) => o.alias === t.alias).map((o) => o.column);
      await this.check(r, t.table, [...t.columns, ...whereColumns(t.where), ...joined, ...ordered]);
    }
    return r.source.scanJoin!(pushdown, options);
  }

  private async aggregateAs(table: string, pushdown: AggregatePushdown, options?: ReadOptions): Promise<ScanResult | undefined> {
    const r = this.routed();
    if (!r) return this.main.aggregate!(table, pushdown, options);
    const measured = pushdown.metrics.flatMap((m) => (m.column === undefined ? [] : [m.column]));
    await this.check(r, table, [...pushdown.group, ...measured, ...whereColumns(pushdown.where)]);
    return r.source.aggregate!(table, pushdown, options);
  }

  /** A 403 when the role's credentials do not show `table`, or one of `columns` of it. */
  private async check({ role, source }: Routed, table: string, columns: readonly string[]): Promise<void> {
    let info: TableInfo;
    try {
      info = await source.introspect(table);
    } catch (err) {
      if (err instanceof StoreError && err.reason === 'failed') throw this.denied(role, `table "${table}"`, { table });
      throw err;
    }
    const visible = new Set(info.columns.map((c) => c.name));
    const hidden = [...new Set(columns)].filter((c) => !visible.has(c));
    if (hidden.length > 0) throw this.denied(role, `${plural(hidden)} of "${table}"`, { table, columns: hidden });
  }

  private denied(role: string, what: string, context: Record<string, unknown>): ApiError {
    return new ApiError(
      'forbidden',
      `role "${role}" may not read ${what} on source "${this.name}": the store's own grants for the role's credentials (roleUrls) do not allow it`,
      { source: this.name, ...context },
    );
  }
}

function whereColumns(where: Predicate | undefined): string[] {
  return where ? [...predicateColumns(where)] : [];
}

function plural(columns: string[]): string {
  const names = columns.map((c) => `"${c}"`).join(', ');
  return columns.length === 1 ? `column ${names}` : `columns ${names}`;
}
