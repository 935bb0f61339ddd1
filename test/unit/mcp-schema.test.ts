// Tool and prompt schemas whose JSON Schema is converted once (src/mcp/schema.ts), and which kinds
// of definitions a server built for one message registers (src/mcp/server.ts).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withCachedJsonSchema } from '../../src/mcp/schema.js';
import { offerFor } from '../../src/mcp/server.js';

const TARGET = { target: 'draft-2020-12' } as const;
const zodSchema = z.strictObject({ view: z.string().min(1).describe('The view.'), limit: z.number().int().min(1).optional() });

describe('withCachedJsonSchema', () => {
  const schema = withCachedJsonSchema(zodSchema);

  it("gives zod's own JSON Schema, for input and output alike", () => {
    expect(schema['~standard'].jsonSchema.input(TARGET)).toEqual(zodSchema['~standard'].jsonSchema.input(TARGET));
    expect(schema['~standard'].jsonSchema.output(TARGET)).toEqual(zodSchema['~standard'].jsonSchema.output(TARGET));
  });

  it('converts once and shares a frozen result', () => {
    const first = schema['~standard'].jsonSchema.input(TARGET);
    expect(schema['~standard'].jsonSchema.input(TARGET)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen((first.properties as Record<string, object>).view)).toBe(true);
    expect(schema['~standard'].jsonSchema.output(TARGET)).not.toBe(first);
    expect(schema['~standard'].jsonSchema.input({ target: 'draft-07' })).not.toBe(first);
  });

  it('validates as the zod schema does', async () => {
    expect(await schema['~standard'].validate({ view: 'crm.customers', limit: 2 })).toEqual({ value: { view: 'crm.customers', limit: 2 } });
    const refused = await schema['~standard'].validate({ view: '', extra: 1 });
    expect(refused.issues?.map((i) => i.path?.join('.') ?? '')).toEqual(await zodIssuePaths({ view: '', extra: 1 }));
  });
});

async function zodIssuePaths(value: unknown): Promise<string[]> {
  const r = await zodSchema['~standard'].validate(value);
  return r.issues?.map((i) => i.path?.join('.') ?? '') ?? [];
}

describe('offerFor', () => {
  it('registers only the kind a tools/, resources/ or prompts/ message uses, and everything for any other', () => {
    expect(offerFor('tools/call')).toEqual({ tools: true, resources: false, prompts: false });
    expect(offerFor('resources/templates/list')).toEqual({ tools: false, resources: true, prompts: false });
    expect(offerFor('prompts/get')).toEqual({ tools: false, resources: false, prompts: true });
    for (const method of ['initialize', 'batch', 'completion/complete', 'ping', undefined])
      expect(offerFor(method)).toEqual({ tools: true, resources: true, prompts: true });
  });
});
