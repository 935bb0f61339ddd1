// Every configured view built, each with the grants that do not fit it: what `viewgate check` lists
// and what start-up refuses (warmViews in src/runtime.ts). The gateway refuses such a view per
// request the same way (Policy.refuseMisconfigured).
import type { PolicyProblem } from '../policy/validate.js';
import type { Policy } from '../policy/policy.js';
import type { Catalog, ViewEntry } from './catalog.js';

export interface CheckedView extends ViewEntry {
  /** Grants that do not fit the built view (the view is then not served). */
  policy?: PolicyProblem[];
}

export async function checkViews(catalog: Catalog, policy: Policy): Promise<CheckedView[]> {
  const entries = await catalog.buildAll();
  return entries.map((e) => {
    const problems = e.view ? policy.problems([e.view]) : [];
    return problems.length > 0 ? { ...e, policy: problems } : e;
  });
}
