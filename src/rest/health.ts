// /healthz: the process is up. /readyz: every source answers (details per source). /metrics:
// Prometheus text exposition (src/ops/metrics.ts); unauthenticated like the health checks, so keep
// the port off the public internet or block /metrics at the proxy (docs/operations.md).
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.js';
import { sendJson } from './envelope.js';
import { redactUrl } from '../ops/logger.js';
import { refreshStates } from '../hub/refresh.js';

export function registerHealthRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get('/healthz', async (_req, reply) => sendJson(reply, 200, { status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks = await Promise.all(
      rt.sources.all().map(async (s) => {
        const started = performance.now();
        try {
          await s.ping();
          return { name: s.name, kind: s.kind, status: 'up', latencyMs: Math.round(performance.now() - started) };
        } catch (err) {
          return { name: s.name, kind: s.kind, status: 'down', error: redactUrl((err as Error).message) };
        }
      }),
    );
    const ready = checks.every((c) => c.status === 'up');
    const refresh = [...refreshStates(rt.sources).values()];
    return sendJson(reply, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', sources: checks, ...(refresh.length > 0 ? { refresh } : {}) });
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await rt.metrics.exposition();
    return reply.code(200).header('content-type', rt.metrics.contentType()).header('cache-control', 'no-store').send(text);
  });
}
