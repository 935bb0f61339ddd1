// A view that is one table of one source. The source takes what it runs exactly (Source.offer):
// usually everything, in one native query. When it declines a conjunct or the order, the rows
// matching what it took are fetched (within the row budget) and the rest runs here.
import { ApiError } from '../errors.js';
import { evaluate } from '../query/evaluate.js';
import { and, predicateColumns, splitAnd, type ColumnTypes, type Pushdown } from '../query/predicate.js';
import type { ScanAcceptance, Source, TableInfo } from '../sources/source.js';
import { compareForSort, type Row } from '../values.js';
import type { EngineQuery, EngineResult, ExecuteOptions, ExplainResult, ViewEngine } from './view.js';
import { aggregateInStore, explainInStore } from './aggregate/pushed.js';
import type { AggregateQuery, AggregateResult } from './aggregate/types.js';

export class TableViewEngine implements ViewEngine {
  private readonly types: ColumnTypes;
  /**
   * The pushdown of each frozen query the source takes whole (a plan the gateway keeps, asked
   * again and again), frozen too: the source compiles its statement once per pushdown.
   */
  private readonly pushed = new WeakMap<EngineQuery, Pushdown>();

  constructor(
    private readonly source: Source,
    private readonly table: TableInfo,
    private readonly rowBudget: number,
  ) {
    this.types = new Map(table.columns.map((c) => [c.name, c.type]));
  }

  execute(q: EngineQuery, options: ExecuteOptions = {}): Promise<EngineResult> {
    const known = this.pushed.get(q);
    if (known) return this.executePushed(q, known, options);
    const accepted = this.accept(q);
    if (accepted) return this.executeInProcess(q, accepted, options);
    const pushdown = this.pushedPushdown(q);
    if (Object.isFrozen(q)) this.pushed.set(q, Object.freeze(pushdown));
    return this.executePushed(q, pushdown, options);
  }

  /** GROUP BY in the store when it takes the whole filter and says every aggregate exactly. */
  async aggregate(q: EngineQuery, agg: AggregateQuery, options: ExecuteOptions = {}): Promise<AggregateResult | undefined> {
    if (!this.takesFilter(q)) return undefined;
    return aggregateInStore(this.source, this.table, this.rowBudget, q, agg, options);
  }

  async explainAggregate(q: EngineQuery, agg: AggregateQuery): Promise<ExplainResult | undefined> {
    if (!this.takesFilter(q)) return undefined;
    const native = await explainInStore(this.source, this.table, this.rowBudget, q, agg);
    if (!native) return undefined;
    return {
      plan: { scan: { source: this.source.name, table: this.table.name, pushed: ['filter', 'group', 'aggregates'] } },
      queries: [native],
    };
  }

  private takesFilter(q: EngineQuery): boolean {
    return this.source.offer(this.table, { where: q.where ? splitAnd(q.where) : [], orderBy: [] }).remaining.length === 0;
  }

  async explain(q: EngineQuery): Promise<ExplainResult> {
    const accepted = this.accept(q);
    const pushdown = accepted ? this.inProcessPushdown(q, accepted) : this.pushedPushdown(q);
    const native = await this.source.explainScan(this.table.name, pushdown);
    const pushed = accepted
      ? ['columns', ...(accepted.taken.length > 0 ? ['filter'] : [])]
      : ['columns', 'filter', 'order', 'limit', 'offset'];
    return {
      plan: {
        scan: { source: this.source.name, table: this.table.name, pushed },
        ...(accepted ? { inProcess: this.declined(accepted) } : {}),
      },
      queries: [native],
    };
  }

  /** What the source declines of the query, or undefined when it takes it all. */
  private accept(q: EngineQuery): ScanAcceptance | undefined {
    const a = this.source.offer(this.table, { where: q.where ? splitAnd(q.where) : [], orderBy: q.orderBy });
    return a.remaining.length === 0 && a.orderBy ? undefined : a;
  }

  private pushedPushdown(q: EngineQuery): Pushdown {
    // One extra row tells whether a next page exists without a second query.
    return { columns: q.columns, ...(q.where ? { where: q.where } : {}), orderBy: q.orderBy, limit: q.limit + 1, offset: q.offset };
  }

  private async executePushed(q: EngineQuery, pushdown: Pushdown, options: ExecuteOptions): Promise<EngineResult> {
    const scanned = this.source.scan(this.table.name, pushdown, options);
    // Most reads count nothing: they wait for the scan alone.
    const [scan, count] = q.count
      ? await Promise.all([scanned, this.source.count(this.table.name, q.where, options)])
      : [await scanned, undefined];
    const hasMore = scan.rows.length > q.limit;
    return {
      rows: hasMore ? scan.rows.slice(0, q.limit) : scan.rows,
      count,
      hasMore,
      queries: [scan.native],
      fetched: { [this.source.name]: scan.rows.length },
    };
  }

  private inProcessPushdown(q: EngineQuery, a: ScanAcceptance): Pushdown {
    const columns = new Set(q.columns);
    for (const p of a.remaining) predicateColumns(p, columns);
    for (const o of q.orderBy) columns.add(o.column);
    const where = and(...a.taken);
    // One row past the budget tells that the budget would be exceeded.
    return { columns: [...columns], ...(where ? { where } : {}), limit: this.rowBudget + 1 };
  }

  private async executeInProcess(q: EngineQuery, a: ScanAcceptance, options: ExecuteOptions): Promise<EngineResult> {
    const scan = await this.source.scan(this.table.name, this.inProcessPushdown(q, a), options);
    if (scan.rows.length > this.rowBudget) {
      throw new ApiError(
        'row_budget_exceeded',
        `table "${this.table.name}" would read more than ${this.rowBudget} rows from source "${this.source.name}" for this request (the row budget): ` +
          `it cannot evaluate ${this.declined(a).join(' and ')} itself. Narrow the query with a filter the source takes (e.g. on a key column).`,
        { rowBudget: this.rowBudget },
      );
    }
    const rest = and(...a.remaining);
    const matching = rest ? scan.rows.filter((r) => evaluate(rest, r, this.types) === true) : scan.rows;
    if (!a.orderBy) matching.sort((x, y) => this.compare(q, x, y));
    const page = matching.slice(q.offset, q.offset + q.limit + 1);
    const hasMore = page.length > q.limit;
    const rows = (hasMore ? page.slice(0, q.limit) : page).map((r) => pick(r, q.columns));
    return {
      rows,
      count: q.count ? matching.length : undefined,
      hasMore,
      queries: [scan.native],
      fetched: { [this.source.name]: scan.rows.length },
    };
  }

  private compare(q: EngineQuery, x: Row, y: Row): number {
    for (const o of q.orderBy) {
      const c = compareForSort(this.types.get(o.column)!, x[o.column] ?? null, y[o.column] ?? null, o.desc);
      if (c !== 0) return c;
    }
    return 0;
  }

  private declined(a: ScanAcceptance): string[] {
    return [...(a.remaining.length > 0 ? [`${a.remaining.length} filter condition(s)`] : []), ...(a.orderBy ? [] : ['the order'])];
  }
}

function pick(row: Row, columns: string[]): Row {
  const out: Row = {};
  for (const c of columns) out[c] = row[c] ?? null;
  return out;
}
