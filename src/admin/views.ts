// GET /admin/api/views (docs/console.md, "JSON API"): every view with its engine, key, columns
// (type and lineage: the source columns each is read from), its SQL, deprecation, and the explain
// of a sample query (the first 5 rows, as `viewgate explain` runs it) with every native query sent.
// A view that does not build is listed with its problem, for operators only.
import type { Runtime } from '../runtime.js';
import { isTableService } from '../config/schema.js';
import { publicProblem } from './problem.js';
import { Policy } from '../policy/policy.js';
import { explainView } from '../commands/explain.js';

const SAMPLE_LIMIT = '5';

export async function views(rt: Runtime) {
  const policy = new Policy(rt.config);
  const out = [];
  for (const id of rt.catalog.ids()) {
    const service = id.slice(0, id.indexOf('.'));
    const name = id.slice(id.indexOf('.') + 1);
    const svc = rt.config.services[service]!;
    const sql = isTableService(svc) ? undefined : svc.views[name]?.sql;
    const base = {
      id,
      service,
      name,
      engine: isTableService(svc) ? 'table' : svc.engine,
      ...(sql !== undefined ? { sql } : {}),
      deprecated: rt.catalog.deprecation(id) ?? null,
      outOfContract: rt.catalog.drift(id) !== undefined,
    };
    try {
      const view = await rt.catalog.get(id);
      const sample = await explainView(policy, view, { limit: SAMPLE_LIMIT });
      out.push({
        ...base,
        description: view.description,
        key: view.key,
        columns: view.columns.map((c) => ({
          name: c.name,
          type: c.type,
          nullable: c.nullable,
          ...(c.description ? { description: c.description } : {}),
          lineage: c.lineage ?? [],
        })),
        explain: {
          query: { limit: Number(SAMPLE_LIMIT) },
          plan: sample.ran ? sample.ran.text : sample.plan.plan,
          queries: sample.queries.map((q) => ({ source: q.source, text: q.text, params: q.params })),
          fetched: sample.fetched,
          returned: sample.returned,
          ...(sample.ran?.error ? { error: sample.ran.error.message } : {}),
        },
      });
    } catch (err) {
      out.push({ ...base, problem: publicProblem(rt, err) });
    }
  }
  return { views: out };
}
