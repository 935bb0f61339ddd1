// Identity passthrough (the PostgREST pattern). Every hub read is one READ ONLY transaction:
//   BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY
//   SELECT set_config('request.jwt.claims', $1, true), set_config('viewgate.role', $2, true)
//   <the query, one statement with bound parameters>   (and its count, on the same snapshot)
//   COMMIT
// `true` makes both settings local to the transaction, so a pooled connection never carries one
// caller's identity into the next caller's transaction. A read whose client went away starts no
// further statement, its running one is cancelled and its connection is discarded.
import pg from 'pg';
import type { Config } from '../../config/schema.js';
import { requestCancelled, type StoreError } from '../../errors.js';
import type { NativeQuery } from '../../sources/source.js';
import { cancelOnAbort } from '../../sources/postgres/cancel.js';
import { pgReason } from '../../sources/postgres/errors.js';
import { isPostgresConfig } from '../../sources/postgres/index.js';
import { pgConnection } from '../../sources/postgres/ssl.js';
import type { StoreTls } from '../../config/tls.js';
import { toStoreError, urlSecrets } from '../../sources/store-errors.js';

export interface PassthroughIdentity {
  role: string;
  claims: Record<string, unknown>;
}

export type RunQuery = (q: NativeQuery) => Promise<unknown[][]>;

export const SET_IDENTITY_SQL = "SELECT set_config('request.jwt.claims', $1, true), set_config('viewgate.role', $2, true)";

/** Claims as JSON; a bigint (never from a token, possibly from code) keeps its digits. */
function claimsJson(claims: Record<string, unknown>): string {
  return JSON.stringify(claims, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

// Raw text for every type, as the PostgreSQL source: the value model decides conversions.
const RAW_TYPES = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

export interface HubSessionOptions {
  /** The hub source's name, for errors. */
  name: string;
  url: string;
  timeoutMs?: number;
  pool?: number;
  /** The hub source's tls block. */
  tls?: StoreTls;
}

export class HubSession {
  readonly name: string;
  private pool?: pg.Pool;
  private readonly secrets: string[];

  constructor(private readonly opts: HubSessionOptions) {
    this.name = opts.name;
    this.secrets = urlSecrets(opts.url);
  }

  private getPool(): pg.Pool {
    if (this.pool) return this.pool;
    const timeout = this.opts.timeoutMs ?? 30_000;
    const pool = new pg.Pool({
      ...pgConnection(this.opts.url, this.opts.tls),
      options: '-c TimeZone=UTC -c DateStyle=ISO -c bytea_output=hex',
      statement_timeout: timeout,
      connectionTimeoutMillis: timeout > 0 ? Math.min(Math.max(timeout, 1000), 10_000) : 10_000,
      max: this.opts.pool ?? 10,
      types: RAW_TYPES,
      // Idle connections never keep the process alive (close() ends them on shutdown).
      allowExitOnIdle: true,
    });
    pool.on('error', () => {});
    this.pool = pool;
    return pool;
  }

  private storeError(err: unknown): StoreError {
    return toStoreError(this.name, err, pgReason, this.secrets);
  }

  /**
   * Runs `work` in a READ ONLY transaction that carries the caller's identity; `signal` aborts when
   * nobody waits for the answer any more.
   */
  async read<T>(identity: PassthroughIdentity | undefined, work: (run: RunQuery) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.transaction(
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      async (client) => {
        await client.query(SET_IDENTITY_SQL, [claimsJson(identity?.claims ?? {}), identity?.role ?? '']);
        return work(async (q) => {
          if (signal?.aborted) throw requestCancelled();
          return (await client.query({ text: q.text, values: q.params, rowMode: 'array' })).rows as unknown[][];
        });
      },
      signal,
    );
  }

  /** Calls a hub refresh function in a read-write transaction without the read timeout. */
  async refresh(fn: string): Promise<string | null> {
    return this.transaction('BEGIN', async (client) => {
      // A refresh may take far longer than a read; an hour bounds one that hangs.
      await client.query("SET LOCAL statement_timeout = '1h'");
      const r = await client.query({ text: `SELECT ${fn}()`, rowMode: 'array' });
      return ((r.rows[0] as unknown[] | undefined)?.[0] as string | null | undefined) ?? null;
    });
  }

  /** One statement outside any passthrough (catalog reads). */
  async query(text: string, params: unknown[] = []): Promise<unknown[][]> {
    try {
      return (await this.getPool().query({ text, values: params, rowMode: 'array' })).rows as unknown[][];
    } catch (err) {
      throw this.storeError(err);
    }
  }

  private async transaction<T>(begin: string, work: (client: pg.PoolClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.getPool().connect();
    } catch (err) {
      throw this.storeError(err);
    }
    if (signal?.aborted) {
      client.release();
      throw requestCancelled();
    }
    const guard = cancelOnAbort(client, signal);
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const out = await work(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      // A cancelled connection is discarded below, which ends its transaction.
      if (!guard.cancelled) {
        try {
          await client.query('ROLLBACK');
        } catch (e) {
          // A connection that cannot roll back is discarded, never handed to the next caller.
          broken = e as Error;
        }
      }
      throw signal?.aborted ? requestCancelled() : this.storeError(err);
    } finally {
      guard.done();
      client.release(broken ?? guard.cancelled);
    }
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    if (p) await p.end();
  }
}

// One session (pool) per hub source and runtime. The runtime's Sources object is the owner, so two
// runtimes in one process (tests) never share a pool.
const registry = new WeakMap<object, Map<string, HubSession>>();

export function hubSession(owner: object, config: Config, hub: string): HubSession {
  let sessions = registry.get(owner);
  if (!sessions) registry.set(owner, (sessions = new Map()));
  let s = sessions.get(hub);
  if (!s) {
    const src = config.sources[hub];
    if (!src || !isPostgresConfig(src)) throw new Error(`the hub "${hub}" is not a postgres source`);
    s = new HubSession({ name: hub, url: src.url, timeoutMs: src.timeout, pool: src.pool, tls: src.tls });
    sessions.set(hub, s);
  }
  return s;
}

export async function closeHubSessions(owner: object): Promise<void> {
  const sessions = registry.get(owner);
  registry.delete(owner);
  if (sessions) await Promise.allSettled([...sessions.values()].map((s) => s.close()));
}
