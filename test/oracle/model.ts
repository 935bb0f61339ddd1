// A model engine for testing the harness itself while the real engine is not there: it answers
// from the view's full rows (read from the oracle once) with the product's in-process evaluator
// and the value model's sort order. Not a federation engine; only a check that the harness's
// plumbing (binding, ordering, paging, hasMore, count, comparison) is right.
import type { EngineQuery, EngineResult, View } from '../../src/engine/view.js';
import { parseViewId } from '../../src/config/view-id.js';
import { evaluate } from '../../src/query/evaluate.js';
import { compareForSort, type ColumnType, type Row } from '../../src/values.js';
import type { OracleType } from './env.js';

export function modelView(id: string, key: string[], rows: Record<string, unknown>[], types: Record<string, OracleType>): View {
  const colTypes = new Map(Object.entries(types).map(([k, t]) => [k, t as ColumnType]));
  const execute = async (q: EngineQuery): Promise<EngineResult> => {
    const matching = (rows as Row[]).filter((r) => !q.where || evaluate(q.where, r, colTypes) === true);
    matching.sort((a, b) => {
      for (const o of q.orderBy) {
        const c = compareForSort(colTypes.get(o.column)!, a[o.column]!, b[o.column]!, o.desc);
        if (c !== 0) return c;
      }
      return 0;
    });
    const page = matching.slice(q.offset, q.offset + q.limit);
    return {
      rows: page.map((r) => Object.fromEntries(q.columns.map((c) => [c, r[c]!]))),
      ...(q.count ? { count: matching.length } : {}),
      hasMore: matching.length > q.offset + q.limit,
      queries: [],
      fetched: { model: rows.length },
    };
  };
  const [service, name] = id.split('.') as [string, string];
  return {
    id: parseViewId(id)!,
    service,
    name,
    description: 'model',
    key,
    columns: Object.entries(types).map(([n, t]) => ({ name: n, type: t as ColumnType, nullable: true })),
    engine: { execute, explain: async () => ({ plan: 'model', queries: [] }) },
  };
}
