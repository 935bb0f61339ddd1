// /healthz: the process is up. /readyz: every source answers; unauthenticated, so it says only
// whether the server is ready and which stores are down, by name; the driver's words (hosts, ports)
// go to the log (docs/security.md "Store outages"). /metrics: Prometheus text exposition
// (src/ops/metrics.ts) for callers whose role has `metrics: true`, or anyone with
// `server.metrics.public: true` (docs/security.md "/metrics").
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.js';
import { sendError, sendJson, toApiError } from './envelope.js';
import { redactUrl } from '../ops/logger.js';
import { operatorDetail } from '../errors.js';
import { forbidden } from '../policy/identity.js';
import { credentialsFrom } from './routes.js';

export function registerHealthRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get('/healthz', async (_req, reply) => sendJson(reply, 200, { status: 'ok' }));

  app.get('/readyz', async (req, reply) => {
    const down: string[] = [];
    await Promise.all(
      rt.sources.all().map(async (s) => {
        try {
          await s.ping();
        } catch (err) {
          down.push(s.name);
          rt.log.warn({ requestId: String(req.id), source: s.name, kind: s.kind, err: redactUrl(operatorDetail(err)) }, 'readyz: source is down');
        }
      }),
    );
    down.sort();
    reply.header('cache-control', 'no-store');
    return sendJson(reply, down.length === 0 ? 200 : 503, down.length === 0 ? { status: 'ready' } : { status: 'not ready', down });
  });

  app.get('/metrics', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!rt.config.server.metrics.public) {
      try {
        const identity = await rt.auth.authenticate(credentialsFrom(req.headers));
        const role = Object.hasOwn(rt.config.roles, identity.role) ? rt.config.roles[identity.role] : undefined;
        if (!role?.metrics) throw forbidden(`role "${identity.role}" may not read /metrics; give the role \`metrics: true\` in the configuration`);
      } catch (err) {
        return sendError(reply, toApiError(err, rt.log, String(req.id)));
      }
    }
    const text = await rt.metrics.exposition();
    return reply.code(200).header('content-type', rt.metrics.contentType()).send(text);
  });
}
