// `viewgate explain --config FILE service.view [--filter F] [--order O] [--limit N] [--json]
//  [--role R] [--claim k=v ...]`: runs the query as an administrator (no grants, no masks) and prints
// the plan, every native query sent and the rows fetched per store. --role and --claim are passed
// to engines that enforce identity themselves (a hub view's rowSecurity).
import { parseArgs } from 'node:util';
import { configPath, loadConfigFile } from '../config/load.js';
import { Sources } from '../sources/index.js';
import { Catalog } from '../gateway/catalog.js';
import { ungovernedQuery } from '../policy/govern.js';
import { Policy } from '../policy/policy.js';
import { toJson } from '../values.js';
import type { View } from '../engine/view.js';
import type { NativeQuery } from '../sources/source.js';
import { parseClaimFlags } from './flags.js';

export async function explainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      filter: { type: 'string' },
      order: { type: 'string' },
      limit: { type: 'string' },
      fields: { type: 'string' },
      json: { type: 'boolean' },
      role: { type: 'string' },
      claim: { type: 'string', multiple: true },
    },
  });
  const id = positionals[0];
  if (!id || !id.includes('.')) {
    process.stderr.write(
      'usage: viewgate explain --config FILE service.view [--filter F] [--order O] [--limit N] [--json] [--role R] [--claim k=v ...]\n',
    );
    return 2;
  }
  const { config } = loadConfigFile(configPath(values.config));
  const sources = new Sources(config);
  await sources.connect();
  try {
    const catalog = new Catalog(config, sources);
    if (!catalog.has(id)) {
      process.stderr.write(`viewgate explain: no view "${id}"; views are: ${catalog.ids().join(', ')}\n`);
      return 2;
    }
    const policy = new Policy(config);
    const view = await catalog.get(id);
    // A view whose grants do not fit it is not explained either, as it is not served.
    policy.refuseMisconfigured(view);
    const identity = values.role || values.claim ? { role: values.role ?? '', claims: parseClaimFlags(values.claim) } : undefined;
    const { plan, ran, queries, fetched, returned } = await explainView(policy, view, values, identity);
    if (values.json) {
      process.stdout.write(toJson({ view: id, plan: plan.plan, queries, fetched, returned }) + '\n');
      return ran?.error ? 1 : 0;
    }
    const text = ran ? ran.text : typeof plan.plan === 'string' ? plan.plan : JSON.stringify(plan.plan, null, 2);
    process.stdout.write(`view ${id}\n\nplan:\n${indent(text)}\n\n`);
    if (ran?.error) {
      process.stdout.write(`not run: ${ran.error.message}\n`);
      return 1;
    }
    process.stdout.write(`native queries sent (${queries.length}):\n`);
    queries.forEach((nq, i) => {
      process.stdout.write(`  ${i + 1}. [${nq.source}] ${nq.text.replace(/\n/g, '\n     ')}\n`);
      if (nq.params.length > 0) process.stdout.write(`     params: ${toJson(nq.params).slice(0, 500)}\n`);
    });
    process.stdout.write(
      `\nrows fetched per store: ${
        Object.entries(fetched)
          .map(([s, n]) => `${s}=${n}`)
          .join(', ') || 'none'
      }\n`,
    );
    process.stdout.write(`rows returned: ${returned}\n`);
    return 0;
  } finally {
    await sources.close();
  }
}

/** Runs the query as an administrator and reports its plan, every native query sent and the rows (also the console's explain). */
export async function explainView(
  policy: Policy,
  view: View,
  args: Parameters<typeof ungovernedQuery>[2],
  identity?: Parameters<typeof ungovernedQuery>[3],
): Promise<{ plan: { plan: unknown }; ran?: ExecutedPlan; queries: NativeQuery[]; fetched: Record<string, number>; returned: number }> {
  const q = ungovernedQuery(policy, view, args, identity).engine;
  const plan = await view.engine.explain(q);
  // The embedded engine's explain runs the query itself (bind-join batches depend on fetched
  // rows); other engines describe it, and the query runs once more here to count rows.
  const ran = executedPlan(plan.plan);
  const result = ran ? undefined : await view.engine.execute(q);
  return {
    plan,
    ...(ran ? { ran } : {}),
    queries: ran ? plan.queries : result!.queries,
    fetched: ran ? ran.fetched : result!.fetched,
    returned: ran ? ran.returned : result!.rows.length,
  };
}

interface ExecutedPlan {
  text: string;
  fetched: Record<string, number>;
  returned: number;
  error?: { status: number; message: string };
}

/** The embedded engine's explain result: the plan text of a query it already ran. */
function executedPlan(plan: unknown): ExecutedPlan | undefined {
  const p = plan as Partial<ExecutedPlan> & { engine?: string };
  return p && typeof p === 'object' && p.engine === 'embedded' && typeof p.text === 'string'
    ? { text: p.text, fetched: p.fetched ?? {}, returned: p.returned ?? 0, ...(p.error ? { error: p.error } : {}) }
    : undefined;
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}
