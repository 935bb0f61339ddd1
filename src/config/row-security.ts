// A view's `rowSecurity` in one shape: the config takes a filter alone or with the roles it exempts.
import type { ViewConfig } from './schema.js';

export interface RowSecurity {
  filter: string;
  exemptRoles: string[];
}

export function rowSecurityOf(view: ViewConfig): RowSecurity | undefined {
  const rs = view.rowSecurity;
  if (rs === undefined) return undefined;
  return typeof rs === 'string' ? { filter: rs, exemptRoles: [] } : { filter: rs.filter, exemptRoles: rs.exemptRoles };
}
