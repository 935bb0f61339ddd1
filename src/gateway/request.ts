// What a surface hands the gateway for one request and what it gets back (docs/architecture.md,
// "The pipeline"). A request names its action, its surface, who asks and the operation; the
// gateway runs it and answers an Outcome carrying a frozen Trace of what happened.
import type { Cancel } from '../cancellation.js';
import type { Rate } from '../config/schema.js';
import type { ApiError } from '../errors.js';
import type { RateDecision } from '../ops/rate-limit.js';
import type { Credentials, Identity } from '../policy/identity.js';
import type { ClientQuery } from '../query/client-query.js';
import type { SqlRequest, SqlResult } from './sql/run.js';
import type { Row } from '../values.js';
import type { ExportResult, QueryResult, ViewDescription, ViewSummary } from './results.js';
import type { ExportEntry } from '../ops/export-store.js';
import type { RowFormat } from '../row-formats.js';
import type { WriteRequest } from './write/request.js';
import type { WriteResult } from './write/run.js';
import type { DeprecationNotice } from './deprecation.js';

export type Surface = 'rest' | 'mcp';

/**
 * Who asks: credentials for the gateway to verify (REST; read inside the pipeline, so a request
 * refused for how it carries them is audited too), or an identity verified when the caller
 * connected (MCP: the HTTP guard, stdio start-up).
 */
type Caller = { credentials: () => Credentials } | { identity: Identity };

/** Any other read as the verified identity, through the gateway's own methods (the OpenAPI document). */
interface ReadOperation<T> {
  op: 'read';
  run: (identity: Identity) => Promise<T>;
}

/**
 * What the request asks for. `parse` turns the client's input into a ClientQuery; the gateway
 * runs it inside the pipeline, so input that does not parse (400) is audited like any refusal.
 */
export type Operation =
  /** With a service: 404 when the caller may read none of its views. */
  | { op: 'list_views'; service?: string }
  | { op: 'describe'; view: string }
  /**
   * `text`: the query as one text, when the surface has it so (the same text always parses to the
   * same query, or fails alike): the gateway parses and governs it once (query-plans.ts).
   */
  | { op: 'query'; view: string; parse: () => ClientQuery; text?: string }
  /** One row by its key; the lookup takes only the field list of the parsed input. */
  | { op: 'get_row'; view: string; key: string; parse: () => ClientQuery; text?: string }
  /**
   * A write (docs/writes.md): 404 for a caller who may not read the view, 405 where the view cannot
   * be written, 403 for a role that may not; `parse` reads the body and the query string.
   */
  | { op: 'write'; view: string; method: string; parse: () => WriteRequest }
  /** Governed SQL over the caller's views (docs/sql.md). */
  | { op: 'sql'; parse: () => SqlRequest }
  /** The governed result written to the export store for this identity (grants with `export: true`). */
  | { op: 'export'; view: string; format: RowFormat; parse: () => ClientQuery }
  /** One export by its id: only the identity key that made it reads it; anything else is not found. */
  | { op: 'read_export'; id: string }
  /**
   * A curated tool (docs/tools.md) the caller may use (any other name is not found): its arguments
   * bind its parameters, and it runs as the caller's query of the tool's view.
   */
  | { op: 'tool'; tool: string; parse: () => ToolCall }
  | ReadOperation<unknown>;

/** A curated tool call's input: the parameters' values, and the cursor of the next page. */
export interface ToolCall {
  args: Record<string, unknown>;
  cursor?: unknown;
}

interface Results {
  list_views: ViewSummary[];
  describe: ViewDescription;
  query: QueryResult;
  get_row: Row;
  write: WriteResult;
  sql: SqlResult;
  export: ExportResult;
  read_export: ExportEntry;
  tool: QueryResult;
}

export type ResultOf<O extends Operation> =
  O extends ReadOperation<infer T> ? T : O extends { op: keyof Results } ? Results[O['op']] : never;

export interface GatewayRequest<O extends Operation = Operation> {
  requestId: string;
  surface: Surface;
  /** The REST route's name (query, get_row, ...) or the MCP tool's; audit records and metrics use it. */
  action: string;
  caller: Caller;
  operation: O;
  /** The client's arguments as the audit record keeps them (MCP tool arguments). */
  args?: unknown;
  /**
   * The view the client named up front, recorded even when its input is refused (MCP tool
   * arguments); otherwise the trace names the view once the operation reaches it.
   */
  view?: string;
  /**
   * Aborts when nobody waits for the answer any more (the client disconnected, an MCP
   * cancellation): the store queries the request started are stopped and it ends 499
   * (docs/operations.md, "Cancelled requests"). A Cancellation makes its signal only when a store
   * query or a shared cache load needs one (src/cancellation.ts).
   */
  signal?: Cancel;
  /** The caller's W3C `traceparent` header: with telemetry, the request's trace continues it. */
  traceparent?: string;
  /**
   * The console's simulator (docs/console.md): the identity key of the signed-in person who runs
   * this request as `caller`; the audit record keeps both.
   */
  simulatedBy?: string;
}

/** What the surface made of a result, inside the audited span. */
export interface Presented<V> {
  value: V;
  /** The rows the answer shows, when not every row of the result (MCP's output budget). */
  rowCount?: number;
  /**
   * The status the surface answers this success with when it is not 200 (a REST 304 Not
   * Modified): the request's metrics carry it, its audit record the 200 it was.
   */
  status?: number;
}

export type Present<R, V> = (result: R) => Presented<V> | Promise<Presented<V>>;

/** What the audit record and the metrics of one request need; frozen once the request is done. */
export interface Trace {
  readonly requestId: string;
  readonly surface: Surface;
  readonly action: string;
  readonly identity?: Identity;
  readonly view?: string;
  readonly fields?: readonly string[];
  readonly filter?: string;
  readonly rowCount?: number;
  readonly args?: unknown;
  /** Set when the grant has a cacheTtl: whether the cache answered, and how long a client may keep it. */
  readonly cache?: { readonly hit: boolean; readonly maxAgeMs: number };
  /** Set when the grant has a rateLimit: the caller's bucket after this request. */
  readonly rateLimit?: { readonly rate: Rate; readonly decision: RateDecision };
  /** Set when the view read is deprecated: what REST tells in Deprecation, Sunset and Link (docs/contracts.md). */
  readonly deprecation?: Readonly<DeprecationNotice>;
  /** The request's OpenTelemetry trace id, when telemetry is configured (audit records and logs carry it). */
  readonly traceId?: string;
  /** The identity key of the person who ran this request in the console's simulator. */
  readonly simulatedBy?: string;
  /** The status the request ended with, as handed to the audit log (a fail-closed refusal answers 503 instead). */
  readonly status: number;
  readonly latencyMs: number;
}

export type Outcome<V> = { ok: true; value: V; trace: Trace } | { ok: false; error: ApiError; trace: Trace };

/** A refusal names the identity when the credential was recognised (an expired key, an address not allowed). */
export type Authenticated = { ok: true; identity: Identity } | { ok: false; error: ApiError; identity?: Identity };

/** A request the pipeline did not run (refused on the way in, or a message that is not a read): one audit record. */
export interface UnhandledRequest {
  requestId: string;
  surface: Surface;
  action: string;
  identity?: Identity;
  view?: string;
  status: number;
  latencyMs: number;
  args?: unknown;
  /** The console's simulator: the identity key of the person who ran the request as `identity`. */
  simulatedBy?: string;
}
