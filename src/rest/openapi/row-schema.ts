// JSON Schema of a view's row as one caller sees it: each column's type, nullability and notes
// (masked or not filterable).
import type { ViewDescription } from '../../gateway/index.js';
import type { ColumnType } from '../../values.js';
import type { Json } from './components.js';

type VisibleColumn = ViewDescription['columns'][number];

function columnSchema(c: VisibleColumn, mask: string | undefined): Json {
  const base = typeSchema(c.type);
  const schema: Json = c.nullable || c.masked ? nullable(base) : base;
  const notes: string[] = [];
  if (c.description) notes.push(c.description);
  if (c.masked)
    notes.push(`Masked for your role (${mask ?? 'masked'}): values are not the stored ones; not usable in filter, order or ids.`);
  else if (!c.filterable) notes.push('Not usable in filter or order.');
  if (notes.length) schema.description = notes.join(' ');
  if (c.masked) schema['x-viewgate-masked'] = mask ?? true;
  return schema;
}

function typeSchema(t: ColumnType): Json {
  switch (t) {
    case 'bool':
      return { type: 'boolean' };
    case 'int':
      return { type: 'integer', format: 'int64', description: 'Exact 64-bit integer (JSON digits, never rounded).' };
    case 'float':
      return { type: 'number', format: 'double' };
    case 'numeric':
      return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$', description: 'Exact decimal, as text.' };
    case 'text':
      return { type: 'string' };
    case 'timestamptz':
      return { type: 'string', format: 'date-time', description: 'UTC, six fraction digits.' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'jsonb':
      return { description: 'Any JSON value.' };
    case 'bytea':
      return { type: 'string', contentEncoding: 'base64' };
  }
}

/** A column's value as a write body gives it: its type, null allowed where the column is nullable. */
export function columnTypeSchema(t: ColumnType, isNullable: boolean): Json {
  return isNullable ? nullable(typeSchema(t)) : typeSchema(t);
}

function nullable(s: Json): Json {
  if (typeof s.type === 'string') return { ...s, type: [s.type, 'null'] };
  return s;
}

export function rowSchema(d: ViewDescription, masks: Record<string, string>): Json {
  return {
    type: 'object',
    title: d.id,
    description: d.description || undefined,
    properties: Object.fromEntries(d.columns.map((c) => [c.name, columnSchema(c, masks[c.name])])),
    additionalProperties: false,
  };
}
