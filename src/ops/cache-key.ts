// The response cache key (docs/operations.md, "Response cache"): the view, the normalized query,
// the role, the value of every claim the row filters read (the grant's rowFilter and the view's
// rowSecurity), the masks, and the grant itself, so two tenants (or two configurations sharing one
// Redis) never share an entry. The governed query already carries the bound row filter; the claim
// values are added on their own so the key stays tenant-specific even if an engine applies a
// claim-based filter it does not show. Claims nothing reads (iat, jti, ...) stay out, so a fresh
// token for the same tenant hits the same entry. Hub views are the exception: the hub gets every
// claim (request.jwt.claims) and its own RLS policies may read any of them, so their key holds all
// claims.
import { createHash } from 'node:crypto';
import type { Config, GrantConfig } from '../config/schema.js';
import type { EngineQuery } from '../engine/view.js';
import type { Identity } from '../policy/identity.js';
import { claimAt } from '../policy/identity.js';
import { astClaims } from '../query/ast.js';
import { parseFilter } from '../query/filter-parser.js';

/** A deterministic text for any value: sorted object keys, bigints distinct from numbers and strings. */
export function canonical(v: unknown): string {
  if (v === undefined) return 'u';
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return JSON.stringify(v) ?? 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v instanceof Map) return `M${canonical([...v.entries()].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)))}`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

const claimPathsMemo = new Map<string, string[][]>();

/** Claim paths a row filter reads; a filter that does not parse reads none here (govern rejects it). */
function claimPaths(filter: string): string[][] {
  let paths = claimPathsMemo.get(filter);
  if (!paths) {
    try {
      paths = astClaims(parseFilter(filter, { allowClaims: true, param: 'rowFilter' }));
    } catch {
      paths = [];
    }
    claimPathsMemo.set(filter, paths);
  }
  return paths;
}

/** The row filters that apply to a view for a role: the grant's and the view's rowSecurity. */
function rowFilters(config: Config, viewId: string, grant: GrantConfig): string[] {
  const out = grant.rowFilter ? [grant.rowFilter] : [];
  const dot = viewId.indexOf('.');
  const svc = config.services[viewId.slice(0, dot)];
  const view = svc && 'views' in svc ? svc.views[viewId.slice(dot + 1)] : undefined;
  const rs = view?.rowSecurity;
  if (rs) out.push(typeof rs === 'string' ? rs : rs.filter);
  return out;
}

function isHubView(config: Config, viewId: string): boolean {
  const svc = config.services[viewId.slice(0, viewId.indexOf('.'))];
  return svc !== undefined && 'views' in svc && svc.engine === 'hub';
}

export class CacheKeys {
  /** Everything outside the grant that changes results: stores, views, the hash secret for masks. */
  private readonly deployment: string;
  /** Grants are config objects that live as long as the config: their text is computed once. */
  private readonly grantText = new WeakMap<GrantConfig, string>();

  constructor(private readonly config: Config) {
    this.deployment = sha256(canonical({ sources: config.sources, services: config.services, masking: config.masking })).slice(0, 16);
  }

  key(identity: Identity, viewId: string, grant: GrantConfig, query: EngineQuery): string {
    const claims = isHubView(this.config, viewId)
      ? identity.claims
      : rowFilters(this.config, viewId, grant)
          .flatMap(claimPaths)
          .map((path) => [path, claimAt(identity.claims, path) ?? null]);
    // The query's identity is the caller as the engine sees it; the claims above are what counts.
    const { identity: _who, ...normalized } = query;
    let grantText = this.grantText.get(grant);
    if (grantText === undefined) {
      // The grant holds the masks, fields and row filter.
      grantText = canonical(grant);
      this.grantText.set(grant, grantText);
    }
    const material = [this.deployment, canonical(viewId), canonical(identity.role), grantText, canonical(claims), canonical(normalized)].join('\n');
    return `cache:v1:${viewId}:${sha256(material)}`;
  }
}
