// OpenTelemetry traces over OTLP/HTTP (docs/operations.md, "Traces"): one trace per gateway
// request, a span per pipeline stage and one per store round trip. Spans are made here, by the
// pipeline, never by instrumenting libraries. Without `telemetry` in the config nothing of this
// module runs: the gateway and the sources hold no Telemetry and skip every call into it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Config } from '../config/schema.js';
import { statementOf, type NativeQuery } from '../sources/source.js';
import type { StoreTracing } from '../sources/guarded-source.js';

type TelemetryConfig = NonNullable<Config['telemetry']>;

/** OpenTelemetry's db.system value of each store kind. */
const DB_SYSTEM: Record<string, string> = { postgres: 'postgresql', mysql: 'mysql', mongodb: 'mongodb', sqlite: 'sqlite' };

/** How long shutdown waits for the last spans to be sent. */
const SHUTDOWN_WAIT_MS = 2_000;

/** What the root span of a request is told when the request is done. */
export interface RequestEnd {
  status: number;
  view?: string;
  role?: string;
  rowCount?: number;
}

/** The OTLP traces URL: the endpoint as given, or with /v1/traces when it names no path. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/v1/traces';
  return url.toString();
}

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  get: (carrier: Record<string, string>, key: string) => carrier[key],
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
};

function failed(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
}

export class Telemetry implements StoreTracing {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  /** The span of the request (or of its current stage) the code running now works for. */
  private readonly active = new AsyncLocalStorage<Context>();

  constructor(config: TelemetryConfig) {
    const exporter = new OTLPTraceExporter({ url: tracesUrl(config.otlpEndpoint), headers: config.headers });
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.serviceName }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
      spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: config.exportInterval })],
    });
    this.tracer = this.provider.getTracer('viewgate');
  }

  /**
   * Runs one request inside its root span: continued from `traceparent` when the caller sent a
   * valid one, else a new trace. `run` gets the trace id and answers how the request ended.
   */
  async request<T>(
    name: string,
    attributes: Attributes,
    traceparent: string | undefined,
    run: (traceId: string) => Promise<{ result: T; end: RequestEnd }>,
  ): Promise<T> {
    const parent = traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, headerGetter) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    try {
      const { result, end } = await this.active.run(trace.setSpan(parent, span), () => run(span.spanContext().traceId));
      span.setAttributes({
        'viewgate.status': end.status,
        ...(end.view !== undefined ? { 'viewgate.view': end.view } : {}),
        ...(end.role !== undefined ? { 'viewgate.role': end.role } : {}),
        ...(end.rowCount !== undefined ? { 'viewgate.rows': end.rowCount } : {}),
      });
      if (end.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `status ${end.status}` });
      return result;
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  /** Runs `fn` as one stage of the current request, in a child span; outside a request `fn` runs alone. */
  stage<T>(name: string, fn: () => T): T {
    return this.within(name, {}, fn, () => undefined);
  }

  /** StoreTracing: one span per store round trip of the current request (none outside one). */
  query<T>(
    store: { name: string; kind: string },
    op: string,
    fn: () => Promise<T>,
    describe?: (v: T) => { native?: NativeQuery; rows?: number },
  ): Promise<T> {
    const attributes: Attributes = {
      'db.system': DB_SYSTEM[store.kind] ?? store.kind,
      'db.operation': op,
      'viewgate.store': store.name,
    };
    return this.within(`${op} ${store.name}`, attributes, fn, (span, v: T) => {
      const d = describe?.(v);
      // The statement with placeholders where the client's values are: they never reach a span.
      if (d?.native) span.setAttribute('db.statement', statementOf(d.native));
      if (d?.rows !== undefined) span.setAttribute('db.response.returned_rows', d.rows);
    });
  }

  /** A child span of the active one around `fn`, which runs with it active; sync or async. */
  private within<T>(name: string, attributes: Attributes, fn: () => T, done: (span: Span, v: Awaited<T>) => void): T {
    const parent = this.active.getStore();
    if (!parent) return fn();
    const span = this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
    const end = (v: Awaited<T>): Awaited<T> => {
      done(span, v);
      span.end();
      return v;
    };
    const fail = (err: unknown): never => {
      failed(span, err);
      span.end();
      throw err;
    };
    let out: T;
    try {
      out = this.active.run(trace.setSpan(parent, span), fn);
    } catch (err) {
      return fail(err);
    }
    if (out instanceof Promise) return out.then(end, fail) as T;
    return end(out as Awaited<T>) as T;
  }

  /** Sends every finished span now (tests, shutdown). */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /**
   * Sends what is left and stops exporting. A collector that cannot be reached (the exporter retries)
   * costs those spans, never the shutdown: it waits SHUTDOWN_WAIT_MS at most.
   */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS).unref()));
    await Promise.race([this.provider.shutdown().catch(() => undefined), waited]);
    clearTimeout(timer);
  }
}
