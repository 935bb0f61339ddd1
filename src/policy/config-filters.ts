// Every row filter of a config, parsed once when the policy is built: each grant's rowFilter and
// each view's rowSecurity, with who enforces the latter.
import { isTableService, type Config, type GrantConfig } from '../config/schema.js';
import { rowSecurityOf } from '../config/row-security.js';
import { viewIdOf, type ViewId } from '../config/view-id.js';
import { parseRowFilter, type RowFilter } from './row-filter.js';

export interface ViewRowSecurity {
  readonly filter: RowFilter;
  readonly exemptRoles: readonly string[];
  /**
   * 'gateway': govern() ANDs it on (embedded views). 'store': the hub enforces it inside
   * PostgreSQL; the gateway only checks that the caller's claims fit it (docs/hub.md).
   */
  readonly enforcedBy: 'gateway' | 'store';
}

export class ConfigRowFilters {
  private readonly grants = new Map<GrantConfig, RowFilter>();
  private readonly views = new Map<ViewId, ViewRowSecurity>();

  constructor(config: Config) {
    for (const role of Object.values(config.roles)) {
      for (const grant of Object.values(role.grants)) {
        if (grant.rowFilter) this.grants.set(grant, parseRowFilter(grant.rowFilter, 'rowFilter'));
      }
    }
    for (const [service, svc] of Object.entries(config.services)) {
      if (isTableService(svc)) continue;
      const hub = svc.engine === 'hub';
      for (const [name, view] of Object.entries(svc.views)) {
        const rs = rowSecurityOf(view);
        if (!rs) continue;
        this.views.set(
          viewIdOf(service, name),
          Object.freeze({
            // The hub's claim check has always named its errors after the row filter.
            filter: parseRowFilter(rs.filter, hub ? 'rowFilter' : 'rowSecurity'),
            exemptRoles: Object.freeze([...rs.exemptRoles]),
            enforcedBy: hub ? 'store' : 'gateway',
          }),
        );
      }
    }
  }

  /** The grant's parsed rowFilter, when it has one. */
  ofGrant(grant: GrantConfig): RowFilter | undefined {
    return this.grants.get(grant);
  }

  /** The view's parsed rowSecurity, when it has one. */
  ofView(id: ViewId): ViewRowSecurity | undefined {
    return this.views.get(id);
  }
}
