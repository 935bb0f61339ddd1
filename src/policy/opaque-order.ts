// The opaque tie-break (docs/security.md, "Row order"): when a caller may not read every key column
// unmasked, appending the key to ORDER BY would return rows in the order of values the caller
// cannot see (a sorted hidden salary, a masked e-mail's alphabetical rank). Ties of the client's
// order are then broken by a keyed hash of the key instead: an order that is stable (pages
// concatenate to the whole result) and says nothing about the key's values.
//
// The gateway asks the engine for every matching row (at most the view's row budget) in the
// client's order, permutes each run of rows that tie on the client's terms by HMAC(key), then cuts
// the page, so offset and limit apply after the opaque order in every engine and store.
import { createHmac, randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { OrderTerm } from '../query/predicate.js';
import { canonical, type Row, type Value } from '../values.js';
import type { CallerSchema } from './caller-schema.js';

export interface OpaqueOrder {
  /** The view's key columns, hashed together. */
  key: string[];
  /** The client's own terms: rows keep the engine's order on them; only their ties are permuted. */
  clientTerms: OrderTerm[];
  /** Most rows the gateway sorts for one request; more matching rows are a 422. */
  maxRows: number;
  /**
   * A cursor's position (src/policy/cursor.ts): the engine already returns only rows at or after
   * `values` on the client's terms; of the rows that tie with them, those whose tag is not above
   * `tag` came before.
   */
  after?: { values: Value[]; tag: string };
}

/** Whether rows must be ordered opaquely: some key column is hidden or masked for this caller. */
export function needsOpaqueOrder(key: readonly string[], schema: CallerSchema): boolean {
  return key.some((k) => {
    const col = schema.byName.get(k);
    return !col || col.masked;
  });
}

const processSecret = randomBytes(32);

/**
 * The HMAC key: derived from masking.hashSecret, so every replica (and every restart) pages the same
 * way; without one, a random secret per process (pages stay stable while the process lives).
 */
export function opaqueOrderSecret(config: Config): Buffer {
  const s = config.masking.hashSecret;
  return s ? createHmac('sha256', s).update('viewgate opaque row order').digest() : processSecret;
}

/**
 * What is hashed for one row: `["service.view", key values...]` as JSON, numbers (and bigints) as
 * decimal text, so the order does not depend on how a driver returns an integer.
 */
function opaqueTagInput(viewId: string, values: unknown[]): string {
  return JSON.stringify([
    viewId,
    ...values.map((v) =>
      typeof v === 'number' || typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : (v ?? null),
    ),
  ]);
}

/** The keyed hash a row is ordered by among its ties. */
export function opaqueTag(r: Row, order: OpaqueOrder, viewId: string, secret: Buffer): string {
  return createHmac('sha256', secret)
    .update(
      opaqueTagInput(
        viewId,
        order.key.map((k) => r[k] ?? null),
      ),
    )
    .digest('hex');
}

/** The rows, each run that ties on the client's terms reordered by HMAC(view id, key values); after a cursor's position only. */
export function orderOpaquely(rows: Row[], order: OpaqueOrder, viewId: string, secret: Buffer): Row[] {
  const tag = (r: Row): string => opaqueTag(r, order, viewId, secret);
  const sameRun = (a: Row, b: Row): boolean =>
    order.clientTerms.every((t) => canonical(a[t.column] ?? null) === canonical(b[t.column] ?? null));
  const { after } = order;
  const before = (r: Row, t: string): boolean =>
    after !== undefined &&
    t <= after.tag &&
    order.clientTerms.every((c, i) => canonical(r[c.column] ?? null) === canonical(after.values[i] ?? null));
  const out: Row[] = [];
  let run: { row: Row; tag: string }[] = [];
  const flush = (): void => {
    run.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    for (const x of run) out.push(x.row);
    run = [];
  };
  for (const r of rows) {
    const t = tag(r);
    if (before(r, t)) continue;
    if (run.length > 0 && !sameRun(run[0]!.row, r)) flush();
    run.push({ row: r, tag: t });
  }
  flush();
  return out;
}
