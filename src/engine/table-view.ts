// A view that is one table of one source: everything is pushed into a single native query.
import type { Source, TableInfo } from '../sources/source.js';
import type { EngineQuery, EngineResult, ExplainResult, ViewEngine } from './view.js';

export class TableViewEngine implements ViewEngine {
  constructor(
    private readonly source: Source,
    private readonly table: TableInfo,
  ) {}

  async execute(q: EngineQuery): Promise<EngineResult> {
    // One extra row tells whether a next page exists without a second query.
    const pushdown = { columns: q.columns, where: q.where, orderBy: q.orderBy, limit: q.limit + 1, offset: q.offset };
    const [scan, count] = await Promise.all([
      this.source.scan(this.table.name, pushdown),
      q.count ? this.source.count(this.table.name, q.where) : Promise.resolve(undefined),
    ]);
    const hasMore = scan.rows.length > q.limit;
    const rows = hasMore ? scan.rows.slice(0, q.limit) : scan.rows;
    return {
      rows,
      count,
      hasMore,
      queries: [scan.native],
      fetched: { [this.source.name]: scan.rows.length },
    };
  }

  async explain(q: EngineQuery): Promise<ExplainResult> {
    const pushdown = { columns: q.columns, where: q.where, orderBy: q.orderBy, limit: q.limit + 1, offset: q.offset };
    const native = await this.source.explainScan(this.table.name, pushdown);
    return {
      plan: { scan: { source: this.source.name, table: this.table.name, pushed: ['columns', 'filter', 'order', 'limit', 'offset'] } },
      queries: [native],
    };
  }
}
