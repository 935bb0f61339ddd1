// What the SQL stores share for the cost guard (docs/security.md, "Cost guards"): a table a plan
// reads whole, with the columns that would help, from the condition text the store's EXPLAIN shows.
import type { FullScan } from '../source.js';

/** What the guard needs of one table: its total size, its columns and those that lead an index. */
export interface TableFacts {
  rows: number;
  columns: readonly string[];
  indexed: readonly string[];
}

/** A table read whole under `condition` (the scan's filter as the store's plan prints it, or ''). */
export function fullScanOf(table: string, facts: TableFacts, condition: string): FullScan {
  const named = identifiers(condition);
  const filtered = facts.columns.filter((c) => named.has(c));
  return { table, rows: facts.rows, unindexed: filtered.filter((c) => !facts.indexed.includes(c)), indexed: [...facts.indexed] };
}

/** The identifiers of a condition as plans print them: bare, "double-quoted" or `backquoted`. */
function identifiers(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/"((?:[^"]|"")+)"|`((?:[^`]|``)+)`|'(?:[^']|'')*'|([A-Za-z_][A-Za-z0-9_$]*)/g)) {
    const name = m[1]?.replaceAll('""', '"') ?? m[2]?.replaceAll('``', '`') ?? m[3];
    if (name !== undefined) out.add(name);
  }
  return out;
}

/** A table's size for the guard: the store's own statistic when it has one, else an exact count. */
export async function tableRows(statistic: number | undefined, count: () => Promise<number>): Promise<number> {
  return statistic !== undefined && statistic > 0 ? statistic : count();
}
