// A curated tool's parameters (docs/tools.md) as zod schemas: MCP lists them as the tool's input
// schema (the SDK validates calls with it) and OpenAPI as the query parameters of its REST path.
// Whatever a schema lets through is checked again, and coerced, by src/query/tool-query.ts on
// every surface, so the two never disagree on what a value means.
import { z } from 'zod';
import type { ToolParamConfig } from '../config/schema.js';

/** A value of each type, shown as the example when the parameter declares none. */
const TYPE_EXAMPLES: Partial<Record<ToolParamConfig['type'], string>> = {
  timestamptz: '2024-05-01T00:00:00Z',
  date: '2024-05-01',
};

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function typed(spec: ToolParamConfig): z.ZodType {
  const values = spec.enum;
  switch (spec.type) {
    case 'text':
      if (values) return z.enum(values.map(String) as [string, ...string[]]);
      return spec.pattern !== undefined ? z.string().regex(new RegExp(spec.pattern, 'u')) : z.string();
    case 'bool':
      return z.boolean();
    case 'int':
    case 'float': {
      if (values) return z.literal(values.map(Number));
      let n = spec.type === 'int' ? z.number().int() : z.number();
      if (spec.min !== undefined) n = n.min(Number(spec.min));
      if (spec.max !== undefined) n = n.max(Number(spec.max));
      return n;
    }
    case 'numeric': {
      // Exact decimals may come as text; bounds are checked on every value when the call runs.
      if (values) return z.literal(values.map((v) => (typeof v === 'string' ? v : Number(v))));
      let n = z.number();
      if (spec.min !== undefined) n = n.min(Number(spec.min));
      if (spec.max !== undefined) n = n.max(Number(spec.max));
      return z.union([n, z.string().regex(DECIMAL, 'a decimal number, e.g. 12.50')]);
    }
    case 'date':
    case 'timestamptz': {
      return values ? z.enum(values.map(String) as [string, ...string[]]) : z.string();
    }
  }
}

/** What the description adds to the schema: bounds JSON Schema cannot state for dates and timestamps. */
function notes(spec: ToolParamConfig): string {
  const out: string[] = [];
  if (spec.description) out.push(spec.description);
  if (spec.type === 'timestamptz') out.push('ISO 8601; without an offset the time is UTC.');
  if ((spec.type === 'date' || spec.type === 'timestamptz') && spec.min !== undefined) out.push(`Not before ${spec.min}.`);
  if ((spec.type === 'date' || spec.type === 'timestamptz') && spec.max !== undefined) out.push(`Not after ${spec.max}.`);
  if (spec.optional) out.push('Optional: leave it out to not restrict on it.');
  return out.join(' ');
}

/** One parameter's schema: its type, enum, bounds, pattern, description and example; optional ones may be left out. */
export function paramSchema(spec: ToolParamConfig): z.ZodType {
  const example = spec.example ?? spec.enum?.[0] ?? TYPE_EXAMPLES[spec.type];
  const format = spec.enum ? undefined : spec.type === 'date' ? 'date' : spec.type === 'timestamptz' ? 'date-time' : undefined;
  const described = typed(spec).meta({
    ...(format ? { format } : {}),
    ...(notes(spec) ? { description: notes(spec) } : {}),
    ...(example !== undefined ? { examples: [example] } : {}),
  });
  return spec.optional ? described.optional() : described;
}
