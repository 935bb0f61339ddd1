// The hub's pool. Every hub read is one READ ONLY transaction (REPEATABLE READ, so a page and its
// count see one snapshot) that carries the caller's identity and the request's trace id
// (src/sources/postgres/passthrough.ts, which PostgreSQL sources with `passthrough` share).
import pg from 'pg';
import type { Config } from '../../config/schema.js';
import { requestCancelled, type StoreError } from '../../errors.js';
import type { NativeQuery } from '../../sources/source.js';
import { pgReason } from '../../sources/postgres/errors.js';
import { isPostgresConfig } from '../../sources/postgres/index.js';
import { inTransaction, readPrelude, type PassthroughIdentity, type TransactionOptions } from '../../sources/postgres/passthrough.js';
import { currentRead } from '../../sources/read-context.js';
import { pgConnection } from '../../sources/postgres/ssl.js';
import type { StoreTls } from '../../config/tls.js';
import { toStoreError, urlSecrets } from '../../sources/store-errors.js';
import type { Cancel } from '../../cancellation.js';

export type RunQuery = (q: NativeQuery) => Promise<unknown[][]>;

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
   * Runs `work` in a READ ONLY transaction that carries the caller's identity (and the request's
   * trace id, when it has one); `signal` aborts when nobody waits for the answer any more.
   */
  async read<T>(identity: PassthroughIdentity | undefined, work: (run: RunQuery) => Promise<T>, signal?: Cancel): Promise<T> {
    const traceId = currentRead()?.traceId;
    const prelude = readPrelude(true, { ...(identity ? { identity } : {}), ...(traceId !== undefined ? { traceId } : {}) });
    return this.transaction(
      { begin: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', ...(prelude ? { prelude } : {}) },
      (client) =>
        work(async (q) => {
          if (signal?.aborted) throw requestCancelled();
          return (await client.query({ text: q.text, values: q.params, rowMode: 'array' })).rows as unknown[][];
        }),
      signal,
    );
  }

  /** Calls a hub refresh function in a read-write transaction without the read timeout. */
  async refresh(fn: string): Promise<string | null> {
    return this.transaction({ begin: 'BEGIN' }, async (client) => {
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

  private async transaction<T>(options: TransactionOptions, work: (client: pg.PoolClient) => Promise<T>, signal?: Cancel): Promise<T> {
    try {
      return await inTransaction(this.getPool(), options, work, signal);
    } catch (err) {
      throw signal?.aborted ? requestCancelled() : this.storeError(err);
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
