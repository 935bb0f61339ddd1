// Explain of a whole statement (governed SQL): the outer plan, then each subquery's own plan with
// the native queries it ran, nested as the subqueries are (an IN (SELECT ...) or a subquery in
// FROM inside a WITH query is shown under it).
import { renderPlan } from './explain.js';
import type { Plan } from './plan.js';
import type { ExecutionStats } from './execute.js';
import type { Subplan } from './query.js';

export function renderStatementPlan(plan: Plan, stats: ExecutionStats, subplans: Subplan[]): string {
  return [renderPlan(plan, stats), ...subplanLines(subplans, '')].join('\n');
}

function subplanLines(subplans: Subplan[], by: string): string[] {
  // IN subqueries run first, subqueries in FROM as their scans finish: order by label for a stable text.
  const sorted = [...subplans].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return sorted.flatMap((s) => [
    '',
    `${by}Subquery ${s.label}:`,
    ...renderPlan(s.plan, s.stats)
      .split('\n')
      .map((l) => (l ? `${by}  ${l}` : l)),
    `${by}  Native queries:`,
    ...(s.queries.length ? s.queries.map((q) => `${by}    ${q.source}: ${q.text}`) : [`${by}    (none)`]),
    ...subplanLines(s.subplans, `${by}  `),
  ]);
}
