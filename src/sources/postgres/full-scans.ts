// Which tables a PostgreSQL plan reads whole (docs/security.md, "Cost guards"). The plan is the
// generic one (plan_cache_mode = force_generic_plan), built without the parameter values, so the
// answer for one caller never depends on how many rows another caller's values match.

/** One node of EXPLAIN (FORMAT JSON, VERBOSE). */
export interface PgPlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  Filter?: string;
  'Index Cond'?: string;
  Plans?: PgPlanNode[];
}

/** A table a plan reads whole, and the filter it applies while doing so ('' for none). */
export interface WholeRead {
  schema: string;
  table: string;
  condition: string;
}

/** Nodes that read all of their input before they answer a row: a LIMIT above them does not stop the scan below. */
const BLOCKING = new Set(['Sort', 'Incremental Sort', 'Aggregate', 'Hash', 'Materialize', 'Unique', 'WindowAgg', 'SetOp', 'Group']);

/**
 * The scans of `plan` that read a table whole: a Seq Scan, or an index scan without an index
 * condition (it walks the whole index). Under a LIMIT with nothing blocking between, an unfiltered
 * one stops after the rows asked; a filtered one may still read every row to find them.
 */
export function wholeReads(plan: PgPlanNode): WholeRead[] {
  const out: WholeRead[] = [];
  const walk = (node: PgPlanNode, limited: boolean): void => {
    const type = node['Node Type'];
    const underLimit = type === 'Limit' ? true : BLOCKING.has(type) ? false : limited;
    const whole = type === 'Seq Scan' || ((type === 'Index Scan' || type === 'Index Only Scan') && node['Index Cond'] === undefined);
    if (whole && node['Relation Name'] !== undefined && (!underLimit || node.Filter !== undefined)) {
      out.push({ schema: node.Schema ?? 'public', table: node['Relation Name'], condition: node.Filter ?? '' });
    }
    for (const child of node.Plans ?? []) walk(child, underLimit);
  };
  walk(plan, false);
  return out;
}
