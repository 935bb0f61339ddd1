// Tool and prompt schemas whose JSON Schema is converted once per process. The SDK converts a
// schema to JSON Schema on every tools/list, prompts/list and (for the output schema) tools/call;
// with a fresh McpServer per HTTP request that conversion would run on every request. The schemas
// here are fixed (the same for every caller), so their JSON Schemas are computed on first use and
// then shared, frozen so that no request can change what the next one advertises.
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';

type JsonSchema = Record<string, unknown>;
type Converter = StandardSchemaWithJSON['~standard']['jsonSchema'];
type ConverterOptions = Parameters<Converter['input']>[0];

/** `schema` with the same validation and types, and a JSON Schema conversion that runs once per io and target. */
export function withCachedJsonSchema<I, O>(schema: StandardSchemaWithJSON<I, O>): StandardSchemaWithJSON<I, O> {
  const std = schema['~standard'];
  const converted = new Map<string, JsonSchema>();
  const cached =
    (io: 'input' | 'output') =>
    (options: ConverterOptions): JsonSchema => {
      // Library options are passed through as asked; the SDK never sets them.
      if (options.libraryOptions !== undefined) return std.jsonSchema[io](options);
      const key = `${io} ${options.target}`;
      let json = converted.get(key);
      if (json === undefined) {
        json = deepFreeze(std.jsonSchema[io](options));
        converted.set(key, json);
      }
      return json;
    };
  return {
    '~standard': {
      version: std.version,
      vendor: std.vendor,
      validate: std.validate,
      jsonSchema: { input: cached('input'), output: cached('output') },
      ...(std.types !== undefined ? { types: std.types } : {}),
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
