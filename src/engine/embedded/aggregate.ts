// GROUP BY in process: count/sum/avg/min/max with PostgreSQL's result types and exact numeric
// arithmetic (sum keeps the largest input scale; avg is numeric division of sum by count).
import { compareValues, type Row, type Value } from '../../values.js';
import type { AggregateSpec, Expr } from './ast.js';
import { hashKey } from './casts.js';
import { dataError } from './errors.js';
import { evalExpr } from './eval.js';
import { addDec, divDec, formatDec, fromBigInt, parseDec, type Dec } from './numeric.js';
import { columnTypeOf, intRange, isInt, type SqlType } from './sql-types.js';

interface Accumulator {
  add(v: Value): void;
  result(): Value;
}

function accumulator(spec: AggregateSpec): Accumulator {
  const argType = spec.arg?.type ?? 'int8';
  const inner = plainAccumulator(spec.fn, argType, spec.type);
  if (!spec.distinct) return inner;
  const seen = new Set<string>();
  return {
    add(v) {
      if (v === null) return;
      const k = hashKey(v, argType);
      if (seen.has(k)) return;
      seen.add(k);
      inner.add(v);
    },
    result: () => inner.result(),
  };
}

function plainAccumulator(fn: AggregateSpec['fn'], argType: SqlType, resultType: SqlType): Accumulator {
  switch (fn) {
    case 'count': {
      let n = 0n;
      return { add: (v) => void (v !== null && n++), result: () => n };
    }
    case 'min':
    case 'max': {
      let best: Value = null;
      const t = columnTypeOf(argType);
      const sign = fn === 'min' ? -1 : 1;
      return {
        add(v) {
          if (v !== null && (best === null || Math.sign(compareValues(t, v, best)) === sign)) best = v;
        },
        result: () => best,
      };
    }
    case 'sum':
    case 'avg': {
      if (argType === 'float8') {
        let s = 0;
        let n = 0;
        return {
          add(v) {
            if (v === null) return;
            s += v as number;
            n++;
          },
          result: () => (n === 0 ? null : fn === 'sum' ? s : s / n),
        };
      }
      let sum: Dec | undefined;
      let n = 0n;
      return {
        add(v) {
          if (v === null) return;
          // An integer sum a store returns as a decimal, or the reverse, adds the same.
          const d = typeof v === 'bigint' ? fromBigInt(v) : parseDec(v as string);
          sum = sum ? addDec(sum, d) : d;
          n++;
        },
        result() {
          if (!sum) return null;
          if (fn === 'avg') return formatDec(divDec(sum, fromBigInt(n)));
          if (isInt(resultType)) {
            const [lo, hi] = intRange(resultType);
            if (sum.unscaled < lo || sum.unscaled > hi) throw dataError('bigint out of range', '22003');
            return sum.unscaled;
          }
          return formatDec(sum);
        },
      };
    }
  }
}

/**
 * Groups `rows` by `keys` and computes `aggregates`; the output rows hold the group keys as
 * g0, g1, ... and the aggregates as a0, a1, ... With no keys there is exactly one group, even
 * over no rows (SELECT count(*) FROM empty gives 0).
 */
export function aggregate(rows: Row[], keys: Expr[], aggregates: AggregateSpec[]): Row[] {
  const groups = new Map<string, { keyValues: Value[]; accs: Accumulator[] }>();
  const newGroup = (keyValues: Value[]) => ({ keyValues, accs: aggregates.map(accumulator) });
  if (keys.length === 0) groups.set(JSON.stringify([]), newGroup([]));
  for (const row of rows) {
    const keyValues = keys.map((k) => evalExpr(k, row));
    // NULLs group together, as in PostgreSQL.
    const id = JSON.stringify(keyValues.map((v, i) => (v === null ? null : hashKey(v, keys[i]!.type))));
    let g = groups.get(id);
    if (!g) groups.set(id, (g = newGroup(keyValues)));
    aggregates.forEach((a, i) => g!.accs[i]!.add(a.arg ? evalExpr(a.arg, row) : true));
  }
  return [...groups.values()].map((g) => {
    const out: Row = {};
    g.keyValues.forEach((v, i) => (out[`g${i}`] = v));
    g.accs.forEach((acc, i) => (out[aggregates[i]!.slot] = acc.result()));
    return out;
  });
}
