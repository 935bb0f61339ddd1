// Which grant applies: `service.view` beats `service.*` beats `*`. The most specific grant decides
// alone: a `read: false` on `service.view` denies the view even when `*` would allow it.
import type { Config, GrantConfig } from '../config/schema.js';

export function grantFor(config: Config, role: string, viewId: string): GrantConfig | undefined {
  const grants = Object.hasOwn(config.roles, role) ? config.roles[role]!.grants : undefined;
  if (!grants) return undefined;
  const service = viewId.slice(0, viewId.indexOf('.'));
  const key = [viewId, `${service}.*`, '*'].find((k) => Object.hasOwn(grants, k));
  const g = key === undefined ? undefined : grants[key];
  return g?.read ? g : undefined;
}
