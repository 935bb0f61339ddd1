// Explain text of a scan plan (read-plan.ts): its finds as mongosh would run them, and what is then
// done in process.
import { BSONRegExp, Decimal128, ObjectId, type Document } from 'mongodb';
import type { Predicate, Pushdown } from '../../query/predicate.js';
import type { Value } from '../../values.js';
import type { CollectionMeta } from './collection.js';
import { projectionOf, type Find, type Plan } from './read-plan.js';

/** A BSON value as mongosh text. */
export function shell(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return `NumberLong("${v}")`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object') return String(v);
  if (v instanceof Date) return `ISODate("${v.toISOString()}")`;
  if (v instanceof ObjectId) return `ObjectId("${v.toHexString()}")`;
  if (v instanceof Decimal128) return `NumberDecimal("${v.toString()}")`;
  if (v instanceof BSONRegExp) return `/${v.pattern.replace(/\//g, '\\/')}/${v.options}`;
  if (Array.isArray(v)) return `[${v.map(shell).join(', ')}]`;
  return `{${Object.entries(v as Document)
    .map(([k, x]) => `${JSON.stringify(k)}: ${shell(x)}`)
    .join(', ')}}`;
}

/** A filter document as mongosh text with every value as `?` (for traces: the query's shape, never the client's values). */
export function shape(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(shape).join(', ')}]`;
  if (
    v === null ||
    typeof v !== 'object' ||
    v instanceof Date ||
    v instanceof ObjectId ||
    v instanceof Decimal128 ||
    v instanceof BSONRegExp
  )
    return '?';
  return `{${Object.entries(v as Document)
    .map(([k, x]) => `${JSON.stringify(k)}: ${shape(x)}`)
    .join(', ')}}`;
}

/** How a text writes the values it holds: as they are (explain) or hidden (traces). */
interface Literals {
  doc: (v: unknown) => string;
  value: (v: Value) => string;
}

function sqlValue(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return `'${JSON.stringify(v).replace(/'/g, "''")}'`;
}

const SHOWN: Literals = { doc: shell, value: sqlValue };
const HIDDEN: Literals = { doc: shape, value: () => '?' };

/** A predicate as SQL-like text (source column names), for explain. */
function predicateText(p: Predicate, lit: Literals): string {
  switch (p.op) {
    case 'and':
    case 'or':
      return p.args.length === 0
        ? p.op === 'and'
          ? 'TRUE'
          : 'FALSE'
        : `(${p.args.map((a) => predicateText(a, lit)).join(` ${p.op.toUpperCase()} `)})`;
    case 'not':
      return p.arg.op === 'isnull' ? `${p.arg.column} IS NOT NULL` : `NOT ${predicateText(p.arg, lit)}`;
    case 'const':
      return p.value === null ? 'NULL' : p.value ? 'TRUE' : 'FALSE';
    case 'isnull':
      return `${p.column} IS NULL`;
    case 'cmp':
      return `${p.column} ${p.cmp} ${lit.value(p.value)}`;
    case 'in': {
      const shown = p.values.slice(0, 8).map(lit.value).join(', ');
      return `${p.column} IN (${p.values.length > 8 ? `${shown}, ... ${p.values.length} values` : shown})`;
    }
    case 'like':
      return `${p.column} LIKE ${lit.value(p.pattern)}`;
  }
}

/**
 * The finds of a plan as mongosh text, each on a line, with comments on what runs in process;
 * `hideValues`: every value of the filters as `?` (the statement of a trace).
 */
export function planText(meta: CollectionMeta, pd: Pushdown, plan: Plan, timeoutMs: number, hideValues = false): string {
  const lit = hideValues ? HIDDEN : SHOWN;
  const projection = projectionOf(meta, pd, plan.residual);
  const coll = /^[A-Za-z_][A-Za-z0-9_]*$/.test(meta.name) ? `db.${meta.name}` : `db.getCollection(${JSON.stringify(meta.name)})`;
  const text = (f: Find): string =>
    `${coll}.find(${lit.doc(f.filter)}, ${shell(projection)})` +
    (f.sort ? `.sort(${shell(f.sort)})` : '') +
    (f.skip ? `.skip(${f.skip})` : '') +
    (f.limit !== undefined ? `.limit(${f.limit})` : '') +
    (timeoutMs > 0 ? `.maxTimeMS(${timeoutMs})` : '');
  const page = `offset ${plan.offset}${plan.limit === undefined ? '' : `, limit ${plan.limit}`}`;
  const keys = plan.orderBy.map((o) => `${o.column}${o.desc ? ' desc' : ''}`).join(', ');
  const lines: string[] = [];
  switch (plan.kind) {
    case 'single':
      lines.push(
        plan.residual
          ? text({ filter: plan.filter, sort: plan.sort })
          : text({ filter: plan.filter, sort: plan.sort, skip: plan.offset || undefined, limit: plan.limit }),
      );
      break;
    case 'split':
      lines.push(
        text({ ...plan.first, skip: plan.offset || undefined, limit: plan.limit }),
        text({ ...plan.second, limit: plan.limit }),
        `// PostgreSQL NULL order on "${plan.lead}": the second find continues the first (its skip/limit follow from the first's rows)`,
      );
      break;
    case 'merge':
      lines.push(...plan.parts.map(text));
      break;
    case 'memory':
      lines.push(text({ filter: plan.filter }));
      break;
  }
  if (plan.residual) {
    lines.push(
      `// residual evaluated in process on each document: ${predicateText(plan.residual, lit)} (SQL three-valued logic; rows where it is TRUE are kept; the filter above is a superset)`,
    );
  }
  if (plan.kind === 'merge') {
    lines.push(
      `// merged in process by ${keys} (PostgreSQL order: text by code point, ObjectIds as their hex text, NULLs last ascending), then ${page}`,
    );
  } else if (plan.kind === 'memory') {
    lines.push(`// sorted in process by ${keys || '(no order)'} (PostgreSQL NULL order), then ${page}`);
  } else if (plan.residual) {
    lines.push(`// then ${page}, after the residual`);
  }
  return lines.join('\n');
}
