// Which grant applies: `service.view` beats `service.*` beats `*`. The most specific grant decides
// alone: a `read: false` on `service.view` denies the view even when `*` would allow it.
import type { Config, GrantConfig } from '../config/schema.js';
import { serviceOf, type ViewId } from '../config/view-id.js';

/** The grant that decides for a view, under its key in the role's grants (`crm.*` for every crm view). */
export interface DecidingGrant {
  readonly key: string;
  readonly grant: GrantConfig;
}

/** The grant that decides for the view among a role's grants, whether or not it lets the role read. */
export function decidingGrant(grants: Record<string, GrantConfig>, viewId: ViewId): DecidingGrant | undefined {
  const key = [viewId, `${serviceOf(viewId)}.*`, '*'].find((k) => Object.hasOwn(grants, k));
  return key === undefined ? undefined : { key, grant: grants[key]! };
}

/** The deciding grant of a role for a view, when it lets the role read the view (rows, or only aggregates). */
export function readGrant(config: Config, role: string, viewId: ViewId): DecidingGrant | undefined {
  const grants = Object.hasOwn(config.roles, role) ? config.roles[role]!.grants : undefined;
  const decided = grants ? decidingGrant(grants, viewId) : undefined;
  return decided?.grant.read || decided?.grant.aggregate ? decided : undefined;
}
