// What both HTTP surfaces hand the gateway (REST) or the MCP SDK (which passes it on to the tool
// call): it is aborted when the client closes its connection before the answer was sent
// (docs/operations.md, "Cancelled requests"). Nothing is made per request until something asks:
// `aborted` reads the response's state, and the signal (with its listener on the response's
// 'close') is made only when a store query or a shared load needs one (src/cancellation.ts).
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Cancellation } from '../cancellation.js';

/** Whether the connection closed before the whole answer was written. */
const left = (res: ServerResponse): boolean => res.destroyed && !res.writableFinished;

class ClientGone implements Cancellation {
  private made?: AbortController;
  private gone = false;

  constructor(private readonly res: ServerResponse) {}

  /**
   * Once seen, it stays: answering the request ends the response, which then reads as finished,
   * and a statement stopped because the client left must still read as cancelled when its error
   * arrives after that (a count beside a page: not a store failure).
   */
  get aborted(): boolean {
    return (this.gone ||= this.made ? this.made.signal.aborted : left(this.res));
  }

  get signal(): AbortSignal {
    if (this.made) return this.made.signal;
    const made = (this.made = new AbortController());
    if (left(this.res)) made.abort();
    else
      this.res.once('close', () => {
        if (!this.res.writableFinished) made.abort();
      });
    return made.signal;
  }
}

/** Aborted when the connection closes before the whole answer was written. */
export function clientGone(reply: FastifyReply): Cancellation {
  return new ClientGone(reply.raw);
}
