// Which tables a MySQL or MariaDB plan reads whole (docs/security.md, "Cost guards"), from
// EXPLAIN FORMAT=JSON. A table some index could serve for the query's shape (possible_keys) is not
// judged by the plan chosen for these values, so the answer does not depend on how many rows
// another caller's values would match.

/** A table a plan reads whole, and the condition it applies while doing so ('' for none). */
export interface WholeRead {
  table: string;
  condition: string;
}

interface TableNode {
  table_name: string;
  access_type: string;
  possible_keys?: string[];
  attached_condition?: string;
}

/**
 * Every table access of the plan that reads the table whole: type ALL, or a walk of a whole index
 * (type index) with a condition to test on each row; none when an index fits the shape.
 */
export function wholeReads(plan: unknown): WholeRead[] {
  const out: WholeRead[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    const node = v as Partial<TableNode>;
    if (typeof node.table_name === 'string' && typeof node.access_type === 'string') {
      const whole = node.access_type === 'ALL' || (node.access_type === 'index' && node.attached_condition !== undefined);
      if (whole && (node.possible_keys ?? []).length === 0) out.push({ table: node.table_name, condition: node.attached_condition ?? '' });
    }
    Object.values(v).forEach(walk);
  };
  walk(plan);
  return out;
}
