// What the policy decides for one role on one view, computed once from the config and the built
// view and read by every step that needs it: the gateway (schema, limits, explain), govern() (row
// filters, opaque order), the response cache (cacheTtl, the claims its key holds), the rate limiter
// (the bucket's grant) and the hub (the rowSecurity it checks claims against).
import { isTableService, type Config, type GrantConfig, type Rate } from '../config/schema.js';
import type { ViewId } from '../config/view-id.js';
import type { StoreRowSecurity, View } from '../engine/view.js';
import { callerSchema, type CallerSchema } from './caller-schema.js';
import type { ConfigRowFilters } from './config-filters.js';
import type { DecidingGrant } from './grants.js';
import { needsOpaqueOrder } from './opaque-order.js';
import { bindRowFilter, type RowFilter } from './row-filter.js';
import { writeAccess, type WriteAccess } from './write-access.js';

interface MinGroupSize {
  readonly k: number;
  /** The column whose distinct values are counted; may be hidden from the role. Absent: rows are counted. */
  readonly distinctOn?: string;
}

export interface ViewAccess {
  readonly viewId: ViewId;
  readonly role: string;
  /** The key of the grant that decides (`crm.customers`, `crm.*` or `*`): also the rate-limit bucket's. */
  readonly grantKey: string;
  readonly grant: GrantConfig;
  /** The columns the role sees (masked and filterable marked), the compiled masks, the row limit. */
  readonly schema: CallerSchema;
  /** The view's key as the role may know it: empty when a key column is hidden (its name is not leaked). */
  readonly key: readonly string[];
  /** The key columns the role may read, in key order. */
  readonly readableKey: readonly string[];
  /** Ties are broken by a keyed hash: a key column is hidden or masked for the role (docs/security.md, "Row order"). */
  readonly opaqueOrder: boolean;
  /** Most rows matching one query that the gateway orders opaquely (the view's row budget). */
  readonly rowBudget: number;
  readonly explain: boolean;
  /** May export the governed result (MCP export_view). */
  readonly export: boolean;
  /** Most rows one export holds: the grant's maxExportRows (default 10000), never above the row budget. */
  readonly maxExportRows: number;
  /** Whether the role may read rows (lists, one row): false for an aggregate-only grant. */
  readonly read: boolean;
  /** Whether the role may aggregate and group (docs/security.md, "Aggregate rights"). */
  readonly aggregate: boolean;
  /** Every group returned must be built from at least k distinct values of distinctOn (none: k rows). */
  readonly minGroupSize?: MinGroupSize;
  /** Milliseconds a response may be cached; none: not cached. */
  readonly cacheTtl?: number;
  readonly rateLimit?: Rate;
  /** The row filters the gateway ANDs on for this role: the view's rowSecurity (unless exempt), then the grant's rowFilter. */
  readonly rowFilters: readonly RowFilter[];
  /** A hub view's rowSecurity when it binds this role (PostgreSQL enforces it; the hub checks the claims fit). */
  readonly storeRowSecurity?: StoreRowSecurity;
  /**
   * The claims the response cache key holds: those the grant's rowFilter and the view's rowSecurity
   * read, or 'all' for hub views and views over passthrough sources, whose own policies may read
   * any claim (docs/operations.md).
   */
  readonly cacheClaims: readonly (readonly string[])[] | 'all';
  /** What the grant's `write` allows (docs/writes.md); absent: the role may not write the view. */
  readonly write?: WriteAccess;
  /** The grant's cost guards (docs/security.md, "Cost guards"); absent: none. */
  readonly costGuard?: CostGuard;
}

/** A grant's cost guards: the statement timeout of the role's queries, and the largest table a plan may read whole. */
export interface CostGuard {
  readonly timeoutMs?: number;
  readonly maxScanRows?: number;
}

const DEFAULT_MAX_EXPORT_ROWS = 10_000;

/** The view's row budget (its own, or engine.rowBudget). */
function viewRowBudget(config: Config, view: View): number {
  const svc = Object.hasOwn(config.services, view.service) ? config.services[view.service] : undefined;
  const own = svc && 'views' in svc && Object.hasOwn(svc.views, view.name) ? svc.views[view.name]!.rowBudget : undefined;
  return own ?? config.engine.rowBudget;
}

function isHubView(config: Config, view: View): boolean {
  const svc = Object.hasOwn(config.services, view.service) ? config.services[view.service] : undefined;
  return svc !== undefined && 'views' in svc && svc.engine === 'hub';
}

/**
 * Whether the view may read a source that gets every claim (`passthrough`), whose own policies may
 * read any of them: a table service over one, or any SQL view while one is configured (its SQL may
 * name it).
 */
function readsPassthroughSource(config: Config, view: View): boolean {
  const passthrough = Object.keys(config.sources).filter((name) => config.sources[name]!.passthrough === true);
  if (passthrough.length === 0) return false;
  const svc = Object.hasOwn(config.services, view.service) ? config.services[view.service] : undefined;
  return svc !== undefined && (!isTableService(svc) || passthrough.includes(svc.source));
}

export function viewAccess(config: Config, filters: ConfigRowFilters, view: View, role: string, decided: DecidingGrant): ViewAccess {
  const { grant } = decided;
  const schema = callerSchema(view, grant, config.masking.hashSecret);
  const keyHidden = view.key.some((k) => !schema.byName.has(k));
  const grantFilter = grant.rowFilter ? filters.ofGrant(grant) : undefined;
  const rs = filters.ofView(view.id);
  const binds = rs !== undefined && !rs.exemptRoles.includes(role);
  const rowFilters = [...(binds && rs.enforcedBy === 'gateway' ? [rs.filter] : []), ...(grantFilter ? [grantFilter] : [])];
  const storeRowSecurity = binds && rs.enforcedBy === 'store' ? rowSecurityCheck(view, rs.filter) : undefined;
  return Object.freeze({
    viewId: view.id,
    role,
    grantKey: decided.key,
    grant,
    schema,
    key: Object.freeze(keyHidden ? [] : [...view.key]),
    readableKey: Object.freeze(view.key.filter((k) => schema.byName.has(k))),
    opaqueOrder: needsOpaqueOrder(view.key, schema),
    rowBudget: viewRowBudget(config, view),
    explain: grant.explain,
    export: grant.export === true,
    maxExportRows: Math.min(grant.maxExportRows ?? DEFAULT_MAX_EXPORT_ROWS, viewRowBudget(config, view)),
    read: grant.read,
    aggregate: grant.aggregate,
    ...(grant.minGroupSize !== undefined ? { minGroupSize: minGroupSizeOf(grant.minGroupSize) } : {}),
    ...(grant.cacheTtl !== undefined ? { cacheTtl: grant.cacheTtl } : {}),
    ...(grant.rateLimit !== undefined ? { rateLimit: grant.rateLimit } : {}),
    rowFilters: Object.freeze(rowFilters),
    ...(grant.write ? { write: writeAccess(view, grant, schema, rowFilters) } : {}),
    ...(storeRowSecurity ? { storeRowSecurity } : {}),
    ...(grant.timeout !== undefined || grant.maxScanRows !== undefined ? { costGuard: costGuardOf(grant) } : {}),
    // The rowSecurity's claims count for exempt roles too: their entries are only split more finely.
    cacheClaims:
      isHubView(config, view) || readsPassthroughSource(config, view)
        ? 'all'
        : Object.freeze([...(grantFilter?.claims ?? []), ...(rs?.filter.claims ?? [])]),
  });
}

function costGuardOf(grant: GrantConfig): CostGuard {
  return Object.freeze({
    ...(grant.timeout !== undefined ? { timeoutMs: grant.timeout } : {}),
    ...(grant.maxScanRows !== undefined ? { maxScanRows: grant.maxScanRows } : {}),
  });
}

function minGroupSizeOf(m: NonNullable<GrantConfig['minGroupSize']>): MinGroupSize {
  return Object.freeze(typeof m === 'number' ? { k: m } : { k: m.k, ...(m.distinctOn !== undefined ? { distinctOn: m.distinctOn } : {}) });
}

/** What the hub binds a caller's claims with: the view's rowSecurity, parsed once. */
export function rowSecurityCheck(view: View, filter: RowFilter): StoreRowSecurity {
  return Object.freeze({ bind: (claims: Record<string, unknown>) => bindRowFilter(view, filter, claims) });
}
