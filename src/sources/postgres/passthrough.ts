// Identity passthrough (the PostgREST pattern), shared by hub reads and PostgreSQL sources with
// `passthrough: true` (docs/security.md, "Identity passthrough"). A read is one READ ONLY
// transaction:
//   BEGIN ... READ ONLY
//   SELECT set_config('request.jwt.claims', $1, true), set_config('viewgate.role', $2, true)
//          [, set_config('viewgate.trace_id', $3, true)]
//   <the query, one statement with bound parameters>
//   COMMIT
// `true` makes every setting local to the transaction, so a pooled connection never carries one
// caller's identity into the next caller's transaction. A read whose client went away starts no
// further statement, its running one is cancelled and its connection is discarded; any other
// failure rolls back.
import type pg from 'pg';
import { requestCancelled } from '../../errors.js';
import type { ReadContext, ReadIdentity } from '../read-context.js';
import { cancelOnAbort } from './cancel.js';
import type { Cancel } from '../../cancellation.js';

export type PassthroughIdentity = ReadIdentity;

export const SET_IDENTITY_SQL = "SELECT set_config('request.jwt.claims', $1, true), set_config('viewgate.role', $2, true)";
const SET_IDENTITY_AND_TRACE_SQL = `${SET_IDENTITY_SQL}, set_config('viewgate.trace_id', $3, true)`;
const SET_TRACE_SQL = "SELECT set_config('viewgate.trace_id', $1, true)";

/** The statement that opens a read, with its bound values. */
export interface Prelude {
  text: string;
  values: string[];
}

/** Claims as JSON; a bigint (never from a token, possibly from code) keeps its digits. */
function claimsJson(claims: Record<string, unknown>): string {
  return JSON.stringify(claims, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * The settings a read carries: the caller's identity when `passthrough` (no identity: no claims and
 * an empty role, which a policy reading a claim denies), the trace id when the request has one;
 * undefined when neither, and the read runs as a plain statement.
 */
export function readPrelude(passthrough: boolean, context: ReadContext | undefined): Prelude | undefined {
  const traceId = context?.traceId;
  if (!passthrough) return traceId === undefined ? undefined : { text: SET_TRACE_SQL, values: [traceId] };
  const identity = [claimsJson(context?.identity?.claims ?? {}), context?.identity?.role ?? ''];
  return traceId === undefined
    ? { text: SET_IDENTITY_SQL, values: identity }
    : { text: SET_IDENTITY_AND_TRACE_SQL, values: [...identity, traceId] };
}

export interface TransactionOptions {
  /** BEGIN and its characteristics. */
  begin: string;
  /** Run after BEGIN, before the work. */
  prelude?: Prelude;
  /**
   * Discard the connection after a failure (after ROLLBACK): a connection whose prepared statement
   * no longer fits its table must not be reused.
   */
  discardOnError?: boolean;
}

/**
 * Runs `work` on a pooled connection inside one transaction; `signal` aborts when nobody waits for
 * the answer any more. Errors are the driver's (or requestCancelled()): the caller maps them.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  options: TransactionOptions,
  work: (client: pg.PoolClient) => Promise<T>,
  signal?: Cancel,
): Promise<T> {
  const client = await pool.connect();
  // Waiting for a pool slot may have outlasted the reader.
  if (signal?.aborted) {
    client.release();
    throw requestCancelled();
  }
  const guard = cancelOnAbort(client, signal);
  let discard = false;
  try {
    await client.query(options.begin);
    if (options.prelude) await client.query(options.prelude.text, options.prelude.values);
    const out = await work(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    // A cancelled connection is discarded below, which ends its transaction.
    if (!guard.cancelled) {
      try {
        await client.query('ROLLBACK');
        discard = options.discardOnError === true;
      } catch {
        // A connection that cannot roll back is discarded, never handed to the next caller.
        discard = true;
      }
    }
    throw err;
  } finally {
    guard.done();
    client.release(discard || guard.cancelled);
  }
}
