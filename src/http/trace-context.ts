// The caller's W3C trace context (`traceparent`), handed to the gateway, which continues the trace
// when telemetry is configured (docs/operations.md, "Traces") and ignores it otherwise.
import type { IncomingHttpHeaders } from 'node:http';

export function traceparentOf(headers: IncomingHttpHeaders): { traceparent?: string } {
  const v = headers.traceparent;
  return typeof v === 'string' ? { traceparent: v } : {};
}
