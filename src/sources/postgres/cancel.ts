// Stops a PostgreSQL statement nobody waits for any more, with the protocol's own cancel request
// (what psql's Ctrl-C sends): a short new connection carrying the backend's process id and secret
// key. It needs no login and no pool slot, so it works while every connection of the pool is busy.
import pg from 'pg';
import { watchAbort } from '../abort-watch.js';
import type { Cancel } from '../../cancellation.js';

/** What pg keeps on a connected client that a cancel request needs (not in pg's type declarations). */
interface KeyedClient {
  host: string;
  port: number;
  processID: number | null;
  secretKey: number | null;
}

/** pg's wire connection, as far as sending a cancel request goes (not in pg's type declarations). */
interface CancelConnection {
  connect(port: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
  on(event: 'connect' | 'error', listener: () => void): void;
}

export interface StatementGuard {
  /** Whether a cancel request was sent: the client must then be destroyed, never reused. */
  readonly cancelled: boolean;
  /** Stops listening to the signal (once the client's statements are done). */
  done(): void;
}

/**
 * While the guard is active, an abort of `signal` sends a cancel request for whatever statement
 * `client` runs. The request may arrive after that statement ended and stop the client's next one
 * (or find it idle, and do nothing), so a cancelled client is released as broken (destroyed) and
 * never carries another request's statement.
 */
export function cancelOnAbort(client: pg.ClientBase, signal: Cancel | undefined): StatementGuard {
  return new AbortGuard(client, signal);
}

/** A class rather than an object literal with a getter: made for every statement. */
class AbortGuard implements StatementGuard {
  cancelled = false;
  readonly done: () => void;

  constructor(client: pg.ClientBase, signal: Cancel | undefined) {
    this.done = watchAbort(signal, () => {
      this.cancelled = true;
      sendCancel(client as unknown as KeyedClient);
    });
  }
}

function sendCancel({ host, port, processID, secretKey }: KeyedClient): void {
  if (processID === null || secretKey === null) return;
  const con = new pg.Connection() as unknown as CancelConnection;
  // A store that cannot be reached for the cancel: the statement timeout still ends the statement.
  con.on('error', () => {});
  con.on('connect', () => con.cancel(processID, secretKey));
  // As pg connects: a host that is a directory is where the server's Unix socket lives.
  if (host.startsWith('/')) con.connect(`${host}/.s.PGSQL.${port}`);
  else con.connect(port, host);
}
