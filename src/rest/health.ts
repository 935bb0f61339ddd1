// /healthz: the process is up. /readyz: every source answers and every view fits its sources; unauthenticated, so it says only
// whether the server is ready and which stores are down, by name; the driver's words (hosts, ports)
// go to the log (docs/security.md "Store outages"). /metrics: Prometheus text exposition
// (src/ops/metrics.ts) for callers whose role has `metrics: true`, or anyone with
// `server.metrics.public: true` (docs/security.md "/metrics").
import type { FastifyPluginAsync } from 'fastify';
import type { Gateway } from '../gateway/index.js';
import { credentialsFrom } from '../http/credentials.js';
import { sendError, sendJson } from '../http/envelope.js';

export interface HealthOptions {
  gateway: Gateway;
  /** The names of the stores that do not answer a ping now, sorted; what went wrong goes to the log. */
  storesDown: (requestId: string) => Promise<string[]>;
  /** How many views are out of contract now (docs/contracts.md): their names are not told to an unauthenticated probe. */
  viewsOutOfContract?: () => number;
  /** The metrics in the Prometheus text format. */
  exposition: () => Promise<{ contentType: string; text: string }>;
}

export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, { gateway, storesDown, viewsOutOfContract, exposition }) => {
  app.get('/healthz', async (_req, reply) => sendJson(reply, 200, { status: 'ok' }));

  app.get('/readyz', async (req, reply) => {
    const down = await storesDown(String(req.id));
    const drifted = viewsOutOfContract?.() ?? 0;
    reply.header('cache-control', 'no-store');
    if (down.length === 0 && drifted === 0) return sendJson(reply, 200, { status: 'ready' });
    return sendJson(reply, 503, { status: 'not ready', down, ...(drifted > 0 ? { viewsOutOfContract: drifted } : {}) });
  });

  app.get('/metrics', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!gateway.config.server.metrics.public) {
      const who = await gateway.authorizeMetrics(credentialsFrom(req), String(req.id));
      if (!who.ok) return sendError(reply, who.error);
    }
    const { contentType, text } = await exposition();
    return reply.code(200).header('content-type', contentType).send(text);
  });
};
