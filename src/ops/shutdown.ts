// Graceful shutdown (SPEC 10): stop accepting connections, let in-flight requests finish (new
// requests on kept-alive connections get 503 and `Connection: close`), then flush the audit log and
// close the cache, the limiter, Redis and the store pools, in that order, so every finished request
// has its audit record. Requests still running after the grace period have their connections cut.
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.js';

/** Below Kubernetes' default 30 s termination grace, so we finish before a SIGKILL. */
export const SHUTDOWN_GRACE_MS = 25_000;

export async function shutdown(app: FastifyInstance, rt: Runtime, graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
  const force = setTimeout(() => {
    rt.log.warn({ graceMs }, 'shutdown: requests still running after the grace period; closing their connections');
    app.server.closeAllConnections();
  }, graceMs);
  force.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(force);
  }
  await rt.close();
}

/**
 * SIGTERM/SIGINT run `shutdown` once and then let the process end (exit code 0); a second signal
 * while shutting down exits at once with code 1.
 */
export function onSignals(app: FastifyInstance, rt: Runtime, graceMs = SHUTDOWN_GRACE_MS): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      rt.log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    rt.log.info({ signal }, 'shutting down: finishing in-flight requests');
    shutdown(app, rt, graceMs).then(
      () => {
        rt.log.info('shutdown complete');
        process.exitCode ??= 0;
      },
      (err: unknown) => {
        rt.log.error({ err }, 'shutdown failed');
        process.exitCode = 1;
      },
    ).finally(() => {
      rt.log.flush();
      // Whatever still holds the event loop (a stuck driver socket) must not keep us alive.
      setTimeout(() => process.exit(), 2_000).unref();
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
