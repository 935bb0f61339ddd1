// What both HTTP surfaces hand the gateway (REST) or the MCP SDK (which passes it on to the tool
// call): it is aborted when the client closes its connection before the answer was sent
// (docs/operations.md, "Cancelled requests"). The signal is made only when something asks for
// it (src/cancellation.ts): a cached answer never does.
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Cancellation } from '../cancellation.js';

class ClientGone implements Cancellation {
  private gone = false;
  private made?: AbortController;

  constructor(res: ServerResponse) {
    if (res.socket === null || res.socket.destroyed) this.gone = true;
    else
      res.on('close', () => {
        if (res.writableFinished) return;
        this.gone = true;
        this.made?.abort();
      });
  }

  get aborted(): boolean {
    return this.gone;
  }

  get signal(): AbortSignal {
    if (!this.made) {
      this.made = new AbortController();
      if (this.gone) this.made.abort();
    }
    return this.made.signal;
  }
}

/** Aborted when the connection closes before the whole answer was written. */
export function clientGone(reply: FastifyReply): Cancellation {
  return new ClientGone(reply.raw);
}
