// The target of a cast (`x::numeric(10, 2)`): PostgreSQL's type names mapped to the engine's types,
// with the modifiers the engine applies.
import type { TypeMod } from './casts.js';
import type { RawNode } from './parse.js';
import { Refusal } from './refusal.js';
import type { SqlType } from './sql-types.js';

const TYPE_NAMES: Record<string, SqlType> = {
  int2: 'int2',
  smallint: 'int2',
  int4: 'int4',
  int: 'int4',
  integer: 'int4',
  int8: 'int8',
  bigint: 'int8',
  numeric: 'numeric',
  decimal: 'numeric',
  float8: 'float8',
  float4: 'float8',
  real: 'float8',
  float: 'float8',
  text: 'text',
  varchar: 'text',
  bool: 'bool',
  boolean: 'bool',
  timestamptz: 'timestamptz',
  date: 'date',
  jsonb: 'jsonb',
  json: 'jsonb',
};

export function castTarget(tn: RawNode, loc: number): { type: SqlType; mod?: TypeMod } {
  const names = (tn.names as RawNode[]).map((n) => n.String?.sval as string);
  const name = names[names.length - 1]!.toLowerCase();
  if (tn.arrayBounds) throw new Refusal('array types are not supported', loc);
  if (name === 'timestamp') throw new Refusal('timestamp without time zone is not supported: cast to timestamptz', loc);
  const type = TYPE_NAMES[name];
  if (!type) throw new Refusal(`cast to ${name} is not supported`, loc);
  const mods = ((tn.typmods ?? []) as RawNode[]).map((m) => Number(m.A_Const?.ival?.ival ?? 0));
  if (mods.length === 0) return { type };
  if (name === 'numeric' || name === 'decimal') {
    const [precision, scale = 0] = mods as [number, number?];
    if (precision < 1 || precision > 1000 || scale < 0 || scale > precision) throw new Refusal(`invalid numeric(${mods.join(', ')})`, loc);
    return { type, mod: { precision, scale } };
  }
  if (name === 'varchar') return { type, mod: { length: mods[0]! } };
  throw new Refusal(`type modifiers on ${name} are not supported`, loc);
}
