// PostgreSQL's implicit typing rules for analysis: a literal of unknown type takes its type from
// context, numbers widen, CASE/COALESCE/IN find one common type, conditions must be boolean.
import type { Value } from '../../values.js';
import type { Expr } from './ast.js';
import { fromText } from './casts.js';
import { Refusal } from './refusal.js';
import { arithmeticType, isNumber, typeName, type SqlType } from './sql-types.js';

/** An expression during analysis: a string literal or NULL keeps PostgreSQL's `unknown` type until context decides. */
export interface Typed {
  e: Expr;
  unknown: boolean;
  loc: number;
}

export function boolean(t: Typed, clause: string): Expr {
  const r = resolve(t, 'bool');
  if (r.e.type !== 'bool') throw new Refusal(`${clause} needs a boolean condition, got ${typeName(r.e.type)}`, t.loc);
  return r.e;
}

/** A literal of unknown type becomes text when nothing else decides. */
export function finish(t: Typed): Typed {
  return t.unknown ? resolve(t, 'text') : t;
}

/** Gives an unknown literal the type `to` (parsing its text now, so a bad literal fails at load). */
export function resolve(t: Typed, to: SqlType): Typed {
  if (!t.unknown) return t;
  const c = t.e as Extract<Expr, { kind: 'const' }>;
  let value: Value = null;
  if (c.value !== null) {
    try {
      value = fromText(c.value as string, to);
    } catch (err) {
      throw new Refusal((err as Error).message.replace(/ \(while evaluating the view\)$/, ''), t.loc);
    }
  }
  return { e: { kind: 'const', value, type: to }, unknown: false, loc: t.loc };
}

/** Implicit coercion to `to` (integer widening, int -> numeric -> float, date -> timestamptz). */
export function coerce(t: Typed, to: SqlType, what: string): Expr {
  if (t.unknown) return resolve(t, to).e;
  const from = t.e.type;
  if (from === to) return t.e;
  const ok = (isNumber(from) && isNumber(to) && arithmeticType(from, to) === to) || (from === 'date' && to === 'timestamptz');
  if (!ok) throw new Refusal(`${what}: ${typeName(from)} cannot be matched with ${typeName(to)}; add a cast`, t.loc);
  return { kind: 'cast', arg: t.e, type: to };
}

/** The common type of CASE branches, COALESCE arguments or IN list items. */
export function commonType(items: Typed[], what: string): SqlType {
  const known = items.filter((t) => !t.unknown).map((t) => t.e.type);
  if (known.length === 0) return 'text';
  let out = known[0]!;
  for (const t of known.slice(1)) {
    if (t === out) continue;
    if (isNumber(t) && isNumber(out)) out = arithmeticType(t, out)!;
    else if ((t === 'date' && out === 'timestamptz') || (t === 'timestamptz' && out === 'date')) out = 'timestamptz';
    else throw new Refusal(`${what} types ${typeName(out)} and ${typeName(t)} cannot be matched`, items.find((x) => x.e.type === t)!.loc);
  }
  return out;
}
