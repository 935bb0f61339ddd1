// Whether a view built from its sources as they are now still fits the view as it was published
// (docs/contracts.md): the rules `serve` applies at run time and `viewgate contract check` applies
// to the contract file.
import type { View, ViewColumn } from '../engine/view.js';

/**
 * Whether a column's value-model type may change from `from` to `to` without breaking a client:
 * only int -> numeric (both JSON numbers or exact digits; every int is a numeric).
 */
export function typeChangeIsCompatible(from: string, to: string): boolean {
  return from === to || (from === 'int' && to === 'numeric');
}

/** What in `fresh` no longer fits `published`: a column gone or changed type, the key changed; undefined when it fits. */
export function misfitOf(published: View, fresh: View): string | undefined {
  const now = new Map(fresh.columns.map((c) => [c.name, c]));
  const problems: string[] = [];
  for (const c of published.columns) {
    const f = now.get(c.name);
    if (!f) problems.push(`column "${c.name}" is gone`);
    else if (!typeChangeIsCompatible(c.type, f.type)) problems.push(`column "${c.name}" changed type from ${c.type} to ${f.type}`);
  }
  if (published.key.join('\0') !== fresh.key.join('\0')) {
    problems.push(`the key changed from (${published.key.join(', ')}) to (${fresh.key.join(', ')})`);
  }
  return problems.length > 0 ? `${published.id}: ${problems.join('; ')}` : undefined;
}

function columnShape(c: ViewColumn): string {
  return [c.name, c.type, c.nullable, c.intWidth ?? '', c.storeType ?? '', c.description ?? ''].join('\0');
}

/** Whether two builds of a view have the same columns, types, store types, descriptions and key. */
export function sameShape(a: View, b: View): boolean {
  return (
    a.key.join('\0') === b.key.join('\0') &&
    a.description === b.description &&
    a.columns.map(columnShape).join('\n') === b.columns.map(columnShape).join('\n')
  );
}
