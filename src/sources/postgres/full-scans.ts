// Which tables a PostgreSQL plan reads whole (docs/security.md, "Cost guards"). The plan is the
// generic one (plan_cache_mode = force_generic_plan), built without the parameter values, so the
// answer for one caller never depends on how many rows another caller's values match. Without the
// values the planner may prefer walking the key's index under a LIMIT to an index that fits the
// filter; a scan whose filter holds a comparison on a column that leads an index is not counted,
// since an index serves that shape.

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

/** The top-level conjuncts of a condition as EXPLAIN prints it: `((a = $1) AND (b > $2))`. */
function conjuncts(condition: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  const text = unwrap(condition);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && text.startsWith(' AND ', i)) {
      out.push(text.slice(start, i));
      start = i + 5;
    }
  }
  out.push(text.slice(start));
  return out.map(unwrap);
}

/** The text without parentheses that enclose all of it. */
function unwrap(text: string): string {
  let t = text.trim();
  while (t.startsWith('(') && closingOf(t) === t.length - 1) t = t.slice(1, -1).trim();
  return t;
}

function closingOf(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Whether a conjunct of `condition` compares a column that leads an index (=, <, >, <=, >=, = ANY). */
export function servedByIndex(condition: string, indexed: readonly string[]): boolean {
  return conjuncts(condition).some((c) => {
    const m = /^\(?(?:[A-Za-z_][\w$]*\.)?"?([^"().\s]+)"?\)?(?:::[\w ]+)?\s*(?:=|<|>|<=|>=)\s/.exec(c);
    return m !== null && indexed.includes(m[1]!);
  });
}
