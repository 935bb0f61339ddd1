// The response cache key (docs/operations.md, "Response cache"): the view, the normalized query,
// the role, the value of every claim the row filters read (the grant's rowFilter and the view's
// rowSecurity), the masks, and the grant itself, so two tenants (or two configurations sharing one
// Redis) never share an entry. The governed query already carries the bound row filter; the claim
// values are added on their own so the key stays tenant-specific even if an engine applies a
// claim-based filter it does not show. Claims nothing reads (iat, jti, ...) stay out, so a fresh
// token for the same tenant hits the same entry. Hub views are the exception: the hub gets every
// claim (request.jwt.claims) and its own RLS policies may read any of them, so their key holds all
// claims. Which claims count is the policy's decision (ViewAccess.cacheClaims).
import { hash } from 'node:crypto';
import type { Config, GrantConfig } from '../config/schema.js';
import type { EngineQuery } from '../engine/view.js';
import type { ViewAccess } from '../policy/access.js';
import type { Identity } from '../policy/identity.js';
import { claimAt } from '../policy/identity.js';
import { canonical } from '../values.js';

function sha256(text: string): string {
  return hash('sha256', text, 'base64url');
}

/** What the key needs of the policy's record for the caller's role on the view. */
export type CacheScope = Pick<ViewAccess, 'viewId' | 'role' | 'grant' | 'cacheClaims'>;

export class CacheKeys {
  /** Everything outside the grant that changes results: stores, views, the hash secret for masks. */
  private readonly deployment: string;
  /** Grants are config objects that live as long as the config: their digest is computed once. */
  private readonly grantDigest = new WeakMap<GrantConfig, string>();

  constructor(config: Config) {
    this.deployment = sha256(canonical({ sources: config.sources, services: config.services, masking: config.masking })).slice(0, 16);
  }

  key(identity: Identity, scope: CacheScope, query: EngineQuery): string {
    const claims =
      scope.cacheClaims === 'all' ? identity.claims : scope.cacheClaims.map((path) => [path, claimAt(identity.claims, path) ?? null]);
    // The query's identity is the caller as the engine sees it, and the rowSecurity a store checks
    // is the role's on the view: the claims above and the role below are what counts.
    const { identity: _who, storeRowSecurity: _rs, ...normalized } = query;
    let grantDigest = this.grantDigest.get(scope.grant);
    if (grantDigest === undefined) {
      // The grant holds the masks, fields and row filter; its digest stands for its whole text, so
      // each request hashes only what is its own.
      grantDigest = sha256(canonical(scope.grant));
      this.grantDigest.set(scope.grant, grantDigest);
    }
    const viewId = scope.viewId;
    const material = [
      this.deployment,
      canonical(viewId),
      canonical(scope.role),
      grantDigest,
      canonical(claims),
      canonical(normalized),
    ].join('\n');
    return `cache:v2:${viewId}:${sha256(material)}`;
  }
}
