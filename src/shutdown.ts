// Graceful shutdown (docs/operations.md, "Resilience"): stop accepting connections, let in-flight
// requests finish (new requests on kept-alive connections get 503 and `Connection: close`), then
// flush the audit log and close the cache, the limiter, Redis and the store pools, in that order,
// so every finished request has its audit record. Requests still running after the grace period
// have their connections cut. The process then ends within a fixed deadline whatever its outputs
// do: logs and audit records are flushed asynchronously for a bounded time, never synchronously (a
// reader that stopped reading would hold a synchronous flush forever; docs/operations.md, "Slow or
// stalled log consumers").
import type { FastifyInstance } from 'fastify';
import type { Runtime } from './runtime.js';
import { OUTPUT_FLUSH_MS } from './ops/output.js';

/** Below Kubernetes' default 30 s termination grace, so we finish before a SIGKILL. */
export const SHUTDOWN_GRACE_MS = 25_000;

/** After the grace period, closing the pools and flushing the output get this long; then the process exits anyway. */
export const CLOSE_DEADLINE_MS = 3_000;

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
 * SIGTERM/SIGINT run `shutdown` once, flush the output for at most OUTPUT_FLUSH_MS and exit (code 0,
 * or 1 when shutdown failed). Whatever hangs, the process exits by graceMs + CLOSE_DEADLINE_MS (code
 * 1); a second signal while shutting down exits at once with code 1.
 */
export function onSignals(app: FastifyInstance, rt: Runtime, graceMs = SHUTDOWN_GRACE_MS): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      rt.log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    // Nothing below may keep the process alive past this: a stuck driver socket, an audit file on
    // a stalled disk, an output nobody reads.
    setTimeout(() => {
      rt.log.error({ deadlineMs: graceMs + CLOSE_DEADLINE_MS }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, graceMs + CLOSE_DEADLINE_MS).unref();
    rt.log.info({ signal }, 'shutting down: finishing in-flight requests');
    void shutdown(app, rt, graceMs)
      .then(
        () => {
          rt.log.info('shutdown complete');
          return 0;
        },
        (err: unknown) => {
          rt.log.error({ err }, 'shutdown failed');
          return 1;
        },
      )
      .then(async (code) => {
        if (!(await rt.output.flush(OUTPUT_FLUSH_MS))) {
          // Said on stderr: stdout is the output that is not being read.
          process.stderr.write(`viewgate: exiting with ${rt.output.buffered} bytes of log/audit output its reader never took\n`);
        }
        process.exit(code);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
