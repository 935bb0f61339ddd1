// The configuration file's shape (docs/configuration.md), validated with zod. Unknown keys are
// errors everywhere: a typo in a security setting must never be ignored.
import { z } from 'zod';
import { storeConfigSpec, storeKinds, type StoreConfig } from './stores.js';
import { serverTls } from './tls.js';
import { cidrList } from './network.js';

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "5s", "30s", "1h", "500ms" or a number of milliseconds -> milliseconds. */
export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return v >= 0 ? v : undefined;
  const m = DURATION_RE.exec(v.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

export const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration; write e.g. 500ms, 5s, 1m or 1h` });
    return z.NEVER;
  }
  return ms;
});

const RATE_RE = /^(\d+)\s*\/\s*(second|minute|hour|s|m|h)$/;
const PER_MS: Record<string, number> = { second: 1000, s: 1000, minute: 60_000, m: 60_000, hour: 3_600_000, h: 3_600_000 };

export interface Rate {
  count: number;
  perMs: number;
  text: string;
}

const rate = z.string().transform((v, ctx): Rate => {
  const m = RATE_RE.exec(v.trim());
  if (!m || Number(m[1]) < 1) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a rate; write N/second, N/minute or N/hour` });
    return z.NEVER;
  }
  return { count: Number(m[1]), perMs: PER_MS[m[2]!]!, text: v.trim() };
});

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'use letters, digits and _ only, not starting with a digit');

/** Role names as identity providers write them: `platform-admin`, `Data.Reader`, `realm:viewer`. */
const roleName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/, 'a role name uses letters, digits and _ - . : only, starting with a letter, digit or _');

/** A store's connection URL (docs/configuration.md, "Sources"). */
export const storeUrl = z.string().min(1, 'the connection URL is empty (is its environment variable set?)');

/** Connection pool size of a networked store. */
export const poolSize = z.number().int().min(1).max(1000).default(10);

/** Per role, its own connection URL (docs/security.md, "Identity passthrough"); any kind with a `url`. */
const perRoleUrls = z.record(roleName, storeUrl).optional();

/** One `sources` entry: validated by the schema its kind registered (src/config/stores.ts). */
const source = z.looseObject({ kind: z.string(), roleUrls: perRoleUrls }).transform(({ roleUrls, ...entry }, ctx): StoreConfig => {
  const spec = storeConfigSpec(entry.kind);
  if (!spec) {
    ctx.addIssue({
      code: 'custom',
      path: ['kind'],
      message: `unknown store kind "${entry.kind}"; the kinds are: ${storeKinds().join(', ')}`,
    });
    return z.NEVER;
  }
  const parsed = spec.config.safeParse(entry);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  }
  if (roleUrls === undefined) return parsed.data;
  if (!('url' in parsed.data)) {
    ctx.addIssue({
      code: 'custom',
      path: ['roleUrls'],
      message: `roleUrls replaces the source's url, and a ${entry.kind} source has none`,
    });
    return z.NEVER;
  }
  return { ...parsed.data, roleUrls };
});

const MASK_RE = /^(email|hash|redact|null|partial\(\s*\d+\s*,\s*\d+\s*\))$/;
const mask = z.string().regex(MASK_RE, 'a mask is one of email, partial(F,L), hash, redact, null');

/**
 * Writes over REST on single-store tables (docs/writes.md): which statements, which columns,
 * filter-wide bulk writes and their cap, and the views a written column must point into.
 */
const writeGrant = z.strictObject({
  insert: z.boolean().default(false),
  update: z.boolean().default(false),
  delete: z.boolean().default(false),
  fields: z.array(z.string().min(1)).optional(),
  bulk: z.boolean().default(false),
  maxBulkRows: z.number().int().min(1).default(1000),
  references: z
    .record(z.string().min(1), z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'a view as service.view'))
    .default({}),
});

const grant = z.strictObject({
  read: z.boolean().default(false),
  explain: z.boolean().default(false),
  fields: z.array(z.string().min(1)).optional(),
  masks: z.record(z.string(), mask).default({}),
  rowFilter: z.string().min(1).optional(),
  maxLimit: z.number().int().min(1).optional(),
  rateLimit: rate.optional(),
  cacheTtl: duration.optional(),
  // MCP export_view (docs/mcp.md "Exports"): may write the governed result to an export resource, up to maxExportRows rows.
  export: z.boolean().optional(),
  maxExportRows: z.number().int().min(1).optional(),
  /** Aggregates and group (docs/security.md, "Aggregate rights"); with read: false an aggregate-only grant. */
  aggregate: z.boolean().default(false),
  /** Governed SQL over the view (docs/sql.md): query_sql and POST /_sql may read it. */
  sql: z.boolean().default(false),
  /** Every group returned is built from at least k distinct values of distinctOn (a bare number: k rows). */
  minGroupSize: z
    .union([z.number().int().min(1), z.strictObject({ k: z.number().int().min(1), distinctOn: z.string().min(1).optional() })])
    .optional(),
  write: writeGrant.optional(),
  /** Cost guards (docs/security.md, "Cost guards"): the caller's statement timeout, and the most rows a full scan may read. */
  timeout: duration.pipe(z.number().min(1, 'timeout is at least 1ms')).optional(),
  maxScanRows: z.number().int().min(1).optional(),
});

/** A calendar date or an ISO 8601 timestamp (docs/contracts.md, "Deprecation"). */
const instant = z.preprocess(
  (v) => (v instanceof Date ? v.toISOString() : v),
  z
    .string()
    .refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)), 'write a date as YYYY-MM-DD or an ISO 8601 timestamp'),
);

/** A view on its way out (docs/contracts.md, "Deprecation"): headers on REST, a mark in MCP and OpenAPI, 410 after sunset. */
const deprecated = z.strictObject({
  since: instant.optional(),
  sunset: instant.optional(),
  successor: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*[.][A-Za-z_][A-Za-z0-9_]*$/, 'the successor is a view named service.view')
    .optional(),
});

const rowSecurity = z.union([z.string().min(1), z.strictObject({ filter: z.string().min(1), exemptRoles: z.array(roleName).default([]) })]);

/** What every engine's view has. */
const viewBase = {
  description: z.string().optional(),
  key: z.array(z.string().min(1)).min(1).optional(),
  sql: z.string().min(1),
  columns: z.record(z.string(), z.strictObject({ description: z.string() })).optional(),
  rowSecurity: rowSecurity.optional(),
  deprecated: deprecated.optional(),
};

/** A key of one engine written on another: refused with what to write instead. */
const onlyOn = (message: string) => z.never({ error: message }).optional();

/** An embedded view: viewgate federates it per request, within its row budget. */
const embeddedView = z.strictObject({
  ...viewBase,
  rowBudget: z.number().int().min(1).optional(),
  materialize: onlyOn(
    'materialize needs a PostgreSQL hub: move the view to a service with `engine: hub` (docs/hub.md), or remove materialize',
  ),
});

/** A hub view: PostgreSQL runs it (and may materialize it); the row budget does not apply. */
const hubView = z.strictObject({
  ...viewBase,
  rowBudget: onlyOn('rowBudget limits the embedded engine; a hub view is run by PostgreSQL, so remove it'),
  materialize: z
    .strictObject({
      refresh: z.string().min(1).optional(),
      indexes: z.array(z.array(z.string().min(1)).min(1)).default([]),
    })
    .optional(),
});

const tableEntry = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    key: z.array(z.string()).min(1).optional(),
    deprecated: deprecated.optional(),
  }),
]);

/** A service's objectives (docs/operations.md, "Error budgets"): metrics of the budget left and how fast it burns. */
const slo = z
  .strictObject({
    /** Percent of requests that must not fail with a 5xx, e.g. 99.9. */
    availability: z.number().gt(0).lt(100).optional(),
    /** 95% of requests must be faster than this. */
    latencyP95: duration.pipe(z.number().gt(0, 'latencyP95 is more than 0')).optional(),
  })
  .refine((o) => o.availability !== undefined || o.latencyP95 !== undefined, 'an slo names availability, latencyP95 or both');

/** A service bound to one source: each table is exposed as a view of the same name. */
export const tableService = z.strictObject({
  description: z.string().optional(),
  slo: slo.optional(),
  source: z.string().min(1),
  tables: z.array(tableEntry).min(1),
});

const foreignMapping = z.strictObject({
  schema: name,
  tables: z.array(z.string().min(1)).optional(),
  collections: z.array(z.string().min(1)).optional(),
});

/** A service of SQL views that viewgate federates itself. */
export const embeddedService = z.strictObject({
  description: z.string().optional(),
  slo: slo.optional(),
  engine: z.literal('embedded').default('embedded'),
  source: onlyOn('`source` and `foreign` belong to `engine: hub` services'),
  foreign: onlyOn('`source` and `foreign` belong to `engine: hub` services'),
  views: z.record(name, embeddedView),
});

/** A service of SQL views run by a PostgreSQL hub. */
export const hubService = z.strictObject({
  description: z.string().optional(),
  slo: slo.optional(),
  engine: z.literal('hub'),
  source: z.string({ error: 'a hub service names its hub: a postgres source' }).min(1),
  foreign: z.record(z.string(), foreignMapping).optional(),
  views: z.record(name, hubView),
});

type ServiceShape = z.output<typeof tableService> | z.output<typeof embeddedService> | z.output<typeof hubService>;

/**
 * One schema per kind of service, so a key of one engine cannot be written on another: `engine: hub`
 * picks the hub schema, `tables` without an engine the table-service schema, anything else the
 * embedded one. (A plain union would report every alternative's errors at once.)
 */
const service = z.unknown().transform((v, ctx): ServiceShape => {
  const o = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  if (o && o.engine !== undefined && o.engine !== 'embedded' && o.engine !== 'hub') {
    ctx.addIssue({ code: 'custom', path: ['engine'], message: `engine is "embedded" or "hub", not ${JSON.stringify(o.engine)}` });
    return z.NEVER;
  }
  const schema = o?.engine === 'hub' ? hubService : o && o.engine === undefined && !('views' in o) ? tableService : embeddedService;
  const r = schema.safeParse(v);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: issue.path } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

const EXPIRY_RE = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * When an API key stops working, in milliseconds since the epoch: a date (`2027-01-01`: the start
 * of that day, UTC) or an ISO timestamp with its offset (`2027-01-01T12:00:00Z`).
 */
const expiry = z.union([z.string(), z.date()]).transform((v, ctx): number => {
  const text = typeof v === 'string' ? v.trim() : v.toISOString();
  const m = EXPIRY_RE.exec(text);
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  const real = day !== undefined && day.getUTCMonth() === Number(m![2]) - 1 && day.getUTCDate() === Number(m![3]);
  const ms = real ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a date or timestamp; write e.g. 2027-01-01 or 2027-01-01T12:00:00Z` });
    return z.NEVER;
  }
  return ms;
});

// Several keys may share a name (rotation: the old and the new key are one principal, `key:<name>`).
const apiKey = z.strictObject({
  name: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the sha256 of the key as 64 hex digits (e.g. `printf %s "$KEY" | sha256sum`)'),
  role: roleName,
  claims: z.record(z.string(), z.unknown()).default({}),
  /** Requests from elsewhere are refused (docs/security.md, "Client addresses"). */
  allowFrom: cidrList.optional(),
  expires: expiry.optional(),
});

/** A claim name, or a path of segments for a nested claim (`[realm_access, roles]`). */
const roleClaim = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('roles');

/** The console's single sign-on (docs/console.md, "Single sign-on"): authorization code + PKCE. */
const adminOidc = z.strictObject({
  issuer: z.string().url(),
  clientId: z.string().min(1),
  // Empty (an unset ${OIDC_CLIENT_SECRET:-}) means a public client.
  clientSecret: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional()),
  // The provider sends the browser back here, and only /admin/callback ends a sign-in.
  redirectUrl: z
    .string()
    .url()
    .refine((u) => new URL(u).pathname.endsWith('/admin/callback'), "redirectUrl must be this server's /admin/callback address"),
  scopes: z.array(z.string().min(1)).min(1).default(['openid', 'profile', 'email']),
  roleClaim,
});

/** The console and its JSON API (docs/console.md). */
const admin = z.strictObject({
  roles: z.array(roleName).min(1),
  sessionSecret: z.string().min(32, 'sessionSecret must be at least 32 characters (e.g. `openssl rand -hex 32`)'),
  oidc: adminOidc.optional(),
});

const jwt = z.strictObject({
  issuer: z.string().min(1).optional(),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  jwksUrl: z.string().url().optional(),
  secret: z.string().min(1).optional(),
  publicKey: z.string().min(1).optional(),
  algorithms: z.array(z.string().min(1)).min(1).optional(),
  clockSkew: duration.default(30_000),
  roleClaim,
  defaultRole: roleName.optional(),
  // Which claim names the principal in the identity key (docs/security.md "Identity key").
  subjectClaim: z.string().min(1).default('sub'),
  requireSub: z.boolean().default(false),
});

/** A value a curated tool's parameter may list in `enum`, give as `example`, or bound with `min`/`max`. */
const paramValue = z.union([z.string(), z.number(), z.boolean()]);

/** One parameter of a curated tool (docs/tools.md): a value-model type and what it accepts. */
const toolParam = z.strictObject({
  type: z.enum(['text', 'int', 'float', 'numeric', 'bool', 'timestamptz', 'date']),
  optional: z.boolean().default(false),
  description: z.string().optional(),
  enum: z.array(paramValue).min(1).optional(),
  /** Bounds of numbers, dates and timestamps (inclusive). */
  min: z.union([z.number(), z.string()]).optional(),
  max: z.union([z.number(), z.string()]).optional(),
  /** A regular expression text values must match (unanchored, as in JSON Schema). */
  pattern: z.string().min(1).optional(),
  example: paramValue.optional(),
});

/** A curated tool (docs/tools.md): a named, typed question over one view. */
const curatedTool = z.strictObject({
  description: z.string().min(1),
  view: z.string().min(1),
  params: z.record(name, toolParam).default({}),
  filter: z.string().min(1).optional(),
  fields: z.array(z.string().min(1)).min(1).optional(),
  order: z.string().min(1).optional(),
  limit: z.number().int().min(1).optional(),
  aggregate: z
    .strictObject({
      group_by: z.array(z.string().min(1)).default([]),
      metrics: z
        .array(
          z.strictObject({
            // aggregate_view's functions (docs/query.md, "Aggregates").
            fn: z.enum(['count', 'count_distinct', 'sum', 'avg', 'min', 'max']),
            field: z.string().min(1).optional(),
            as: z
              .string()
              .regex(/^[a-z_][a-z0-9_]*$/, 'as must match [a-z_][a-z0-9_]*')
              .optional(),
          }),
        )
        .default([]),
      having: z.string().min(1).optional(),
    })
    .optional(),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      // A number, or digits from ${VIEWGATE_PORT}-style substitution (which always yields text).
      port: z
        .preprocess((v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v), z.number().int().min(0).max(65535))
        .default(8080),
      // Empty (e.g. an unset ${VIEWGATE_PUBLIC_URL:-}) means "the URL each request came to".
      publicUrl: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional()),
      bodyLimit: z.number().int().min(1024).default(1_048_576),
      cors: z.strictObject({ origins: z.array(z.string()).default([]) }).prefault({}),
      mcp: z
        .strictObject({
          allowedOrigins: z.array(z.string()).default([]),
          authorizationServers: z.array(z.string()).default([]),
          maxChars: z.number().int().min(500).default(16_000),
        })
        .prefault({}),
      // /metrics answers only roles with `metrics: true` unless public (docs/security.md).
      metrics: z.strictObject({ public: z.boolean().default(false) }).prefault({}),
      // Seals keyset cursors (docs/security.md "Cursors"); unset: a random key per process.
      cursorSecret: z.string().min(16, 'cursorSecret must be at least 16 characters').optional(),
      // HTTPS for REST and MCP (docs/security.md "TLS"); files read when the config is loaded.
      tls: serverTls.optional(),
      // Peers whose X-Forwarded-For is believed (docs/security.md, "Client addresses").
      trustProxy: cidrList.optional(),
    })
    .prefault({}),
  engine: z
    .strictObject({
      rowBudget: z.number().int().min(1).default(100_000),
      batchSize: z.number().int().min(1).max(100_000).default(500),
      concurrency: z.number().int().min(1).max(64).default(4),
    })
    .prefault({}),
  redis: z.strictObject({ url: z.string().optional() }).prefault({}),
  audit: z
    .strictObject({
      sink: z.enum(['stdout', 'file', 'postgres', 'off']).default('stdout'),
      path: z.string().min(1).optional(), // file sink; default ./audit.log
      source: z.string().optional(),
      failClosed: z.boolean().default(false),
    })
    .prefault({}),
  logging: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  masking: z.strictObject({ hashSecret: z.string().optional() }).prefault({}),
  // Drift at run time (docs/contracts.md): how often `serve` re-introspects the sources of its views.
  contract: z
    .strictObject({ checkInterval: duration.pipe(z.number().min(100, 'checkInterval is at least 100ms')).default(60_000) })
    .prefault({}),
  // OpenTelemetry traces over OTLP/HTTP (docs/operations.md, "Traces"); absent: no tracing at all.
  telemetry: z
    .strictObject({
      /** The collector's OTLP/HTTP address; a URL without a path gets /v1/traces. */
      otlpEndpoint: z.string().url(),
      serviceName: z.string().min(1).default('viewgate'),
      /** Sent with every export (e.g. a collector's API key, from ${file:...}). */
      headers: z.record(z.string(), z.string()).default({}),
      /** The share of new traces kept; a continued trace follows its caller's sampling decision. */
      sampleRatio: z.number().min(0).max(1).default(1),
      /** How long finished spans wait before they are sent together. */
      exportInterval: duration.pipe(z.number().min(10, 'exportInterval is at least 10ms')).default(5000),
    })
    .optional(),
  sources: z.record(name, source),
  services: z.record(name, service),
  auth: z
    .strictObject({
      apiKeys: z.array(apiKey).default([]),
      jwt: jwt.optional(),
    })
    .prefault({}),
  /** The console and its JSON API under /admin (docs/console.md); absent: no /admin at all. */
  admin: admin.optional(),
  /** Curated tools (docs/tools.md); checked against their views when the config loads (src/config/tools.ts). */
  tools: z.record(name, curatedTool).default({}),
  roles: z.record(
    roleName,
    z.strictObject({
      description: z.string().optional(),
      grants: z.record(z.string(), grant).default({}),
      /** May read /metrics (docs/security.md). */
      metrics: z.boolean().default(false),
      /** Requests from elsewhere are refused (docs/security.md, "Client addresses"). */
      allowFrom: cidrList.optional(),
    }),
  ),
});

export type Config = z.infer<typeof configSchema>;
export type SourceConfig = Config['sources'][string];
export type ServiceConfig = Config['services'][string];
export type TableServiceConfig = z.infer<typeof tableService>;
type EmbeddedServiceConfig = z.infer<typeof embeddedService>;
type HubServiceConfig = z.infer<typeof hubService>;
export type ViewServiceConfig = EmbeddedServiceConfig | HubServiceConfig;
type EmbeddedViewConfig = z.infer<typeof embeddedView>;
type HubViewConfig = z.infer<typeof hubView>;
export type ViewConfig = EmbeddedViewConfig | HubViewConfig;
export type GrantConfig = z.infer<typeof grant>;
export type DeprecationConfig = z.infer<typeof deprecated>;
export type ApiKeyConfig = z.infer<typeof apiKey>;
export type JwtConfig = z.infer<typeof jwt>;
export type AdminConfig = z.infer<typeof admin>;
export type CuratedToolConfig = z.infer<typeof curatedTool>;
export type ToolParamConfig = z.infer<typeof toolParam>;

export function isTableService(s: ServiceConfig): s is TableServiceConfig {
  return 'tables' in s;
}
