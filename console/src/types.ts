// The shapes the JSON API answers (docs/console.md, "JSON API"; built by src/admin/*.ts). Restated here on
// purpose: the console is browser code and imports nothing from src/ (npm run lint keeps them apart).

export interface Session {
  subject: string;
  name?: string;
  roles: string[];
  csrfToken: string;
  expiresAt: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Row = Record<string, Json>;

export interface SeriesPoint {
  /** The minute's start, ISO 8601. */
  t: string;
  requests: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface Overview {
  stores: { name: string; kind: string; status: 'up' | 'down'; latencyMs: number }[];
  /** Requests per minute, averaged over the last hour. */
  requestRate: number;
  /** The share of requests answered with 5xx over the last hour (0..1). */
  errorRate: number;
  /** Cache hits per lookup (0..1); null before the first lookup. */
  cacheHitRatio: number | null;
  refreshes: { view: string; ok: boolean; lastSuccess: string | null }[];
  outOfContract: string[];
  series: SeriesPoint[];
}

export interface ViewInfo {
  id: string;
  service: string;
  name: string;
  engine: string;
  sql?: string;
  deprecated: { since?: string; sunset?: string; successor?: string } | null;
  outOfContract: boolean;
  description?: string;
  key?: string[];
  columns?: { name: string; type: string; nullable: boolean; description?: string; lineage: string[] }[];
  explain?: {
    query: Record<string, Json>;
    /** The embedded engine's plan as text; another engine's plan as it describes it. */
    plan: Json;
    queries: { source: string; text: string; params: Json[] }[];
    /** Rows read from each store. */
    fetched: Record<string, number>;
    returned: number;
    error?: string;
  };
  /** Why the view does not build (operators only). */
  problem?: string;
}

/** A number, or a rate such as { text: "60/minute" }; null when not set. */
export type RoleLimit = number | { text: string } | null;

export interface RoleCell {
  grant?: string;
  columns?: { name: string; type: string; masked: boolean; mask?: string; filterable: boolean }[];
  fields?: string[] | null;
  masks?: Record<string, string>;
  rowFilter?: string | null;
  limits?: Record<string, RoleLimit>;
  rights?: Record<string, Json>;
  problem?: string;
}

export interface RolesAnswer {
  views: string[];
  roles: { role: string; description?: string; metrics: boolean; views: Record<string, RoleCell> }[];
}

export interface CheckAnswer {
  check: { ok: boolean; lines: string[] };
  contract:
    | {
        contract: string;
        ok: boolean;
        summary: { breaking: number; compatible: number };
        changes: { severity: 'breaking' | 'compatible'; view: string | null; role: string | null; change: string }[];
      }
    | { contract: string; unreadable: string };
}

/** A view as one caller sees it (describe_view), or why it cannot be described now. */
export interface CallerView {
  id: string;
  description?: string;
  key?: string[];
  maxLimit?: number;
  read?: boolean;
  columns?: { name: string; type: string; masked: boolean; mask?: string; filterable: boolean }[];
  problem?: string;
}

export interface Simulation {
  identity: { subject: string; role: string; claims: Record<string, Json> };
  schema: CallerView[];
  tools: { name: string; description?: string; [more: string]: unknown }[];
  toolsTokens: number;
  /** The gateway's answer as REST sends it (or its error envelope); null when nothing was asked to read. */
  rows: { status: number; body: { resource?: Row[]; meta?: Record<string, Json>; error?: { message: string } } } | null;
}

/** One record of the PostgreSQL audit sink (GET /admin/api/audit). */
export interface AuditRecord {
  id: string;
  time: string;
  surface: string;
  action: string;
  subject: string | null;
  role: string | null;
  view: string | null;
  decision: string;
  status: number;
  rowCount: number | null;
  latencyMs: number | null;
  simulatedBy: string | null;
  [more: string]: Json;
}
