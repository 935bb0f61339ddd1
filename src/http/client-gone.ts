// The signal both HTTP surfaces hand the gateway (REST) or the MCP SDK (which passes it on to the
// tool call): it aborts when the client closes its connection before the answer was sent
// (docs/operations.md, "Cancelled requests").
import type { FastifyReply } from 'fastify';

/** Aborts when the connection closes before the whole answer was written. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  const res = reply.raw;
  if (res.socket === null || res.socket.destroyed) gone.abort();
  else
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
  return gone.signal;
}
