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
  /** A Foreign Scan of a join the wrapper runs remotely: `(s.a x) INNER JOIN (s.b y)`, no Relation Name. */
  Relations?: string;
  /** What postgres_fdw sends. */
  'Remote SQL'?: string;
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
 * one stops after the rows asked (pageReads); a filtered one may still read every row to find them.
 */
export function wholeReads(plan: PgPlanNode): WholeRead[] {
  return scansOf(plan).flatMap(({ page, ...read }) => (page ? [] : [read]));
}

/**
 * The unfiltered scans below a LIMIT with nothing blocking between: they read the table from its
 * start until the rows asked are found, so as many rows as the query's LIMIT and OFFSET ask.
 */
export function pageReads(plan: PgPlanNode): WholeRead[] {
  return scansOf(plan).flatMap(({ page, ...read }) => (page ? [read] : []));
}

function scansOf(plan: PgPlanNode): (WholeRead & { page: boolean })[] {
  const out: (WholeRead & { page: boolean })[] = [];
  const walk = (node: PgPlanNode, limited: boolean): void => {
    const type = node['Node Type'];
    const underLimit = type === 'Limit' ? true : BLOCKING.has(type) ? false : limited;
    const whole = type === 'Seq Scan' || ((type === 'Index Scan' || type === 'Index Only Scan') && node['Index Cond'] === undefined);
    if (whole && node['Relation Name'] !== undefined) {
      const page = underLimit && node.Filter === undefined;
      out.push({ schema: node.Schema ?? 'public', table: node['Relation Name'], condition: node.Filter ?? '', page });
    }
    for (const child of node.Plans ?? []) walk(child, underLimit);
  };
  walk(plan, false);
  return out;
}

/** A foreign table a plan reads (a Foreign Scan), and what its wrapper sends when the plan shows it. */
export interface ForeignScanNode {
  schema: string;
  table: string;
  remote?: string;
}

/**
 * Every Foreign Scan of `plan`, by one foreign table it reads (a join the wrapper runs remotely
 * reads tables of one server: the first names it). A LIMIT above does not bound what the wrapper
 * fetches unless the wrapper sends it, which the remote statement shows.
 */
export function foreignScanNodes(plan: PgPlanNode): ForeignScanNode[] {
  const out: ForeignScanNode[] = [];
  const walk = (node: PgPlanNode): void => {
    if (node['Node Type'] === 'Foreign Scan') {
      const named =
        node['Relation Name'] !== undefined
          ? { schema: node.Schema ?? 'public', table: node['Relation Name'] }
          : firstRelation(node.Relations ?? '');
      out.push({
        ...(named ?? { schema: '', table: node.Relations ?? '' }),
        ...(node['Remote SQL'] !== undefined ? { remote: node['Remote SQL'] } : {}),
      });
    }
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan);
  return out;
}

const NAME_PART = String.raw`(?:"((?:[^"]|"")+)"|([^\s()."]+))`;
const RELATION = new RegExp(String.raw`\(${NAME_PART}\.${NAME_PART}\s`);

/** The first `schema.table` of a Relations text: `(app_map.orders o) INNER JOIN (...)`. */
function firstRelation(relations: string): { schema: string; table: string } | undefined {
  const m = RELATION.exec(relations);
  if (!m) return undefined;
  const part = (quoted: string | undefined, bare: string | undefined): string => quoted?.replaceAll('""', '"') ?? bare!;
  return { schema: part(m[1], m[2]), table: part(m[3], m[4]) };
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
