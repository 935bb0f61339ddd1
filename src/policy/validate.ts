// Checks grants against the views they apply to, once views are built (start-up and `check`):
// fields and masks name real columns, row filters parse and name only the view's output columns.
import type { Config } from '../config/schema.js';
import type { View } from '../engine/view.js';
import { parseFilter } from '../query/filter-parser.js';
import { astFields } from '../query/ast.js';

export interface PolicyProblem {
  path: string;
  message: string;
}

function applies(key: string, view: View): boolean {
  return key === '*' || key === view.id || key === `${view.service}.*`;
}

export function policyProblems(config: Config, views: View[]): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  for (const [roleName, role] of Object.entries(config.roles)) {
    for (const [key, grant] of Object.entries(role.grants)) {
      const path = `roles.${roleName}.grants.${key}`;
      const exact = key !== '*' && !key.endsWith('.*');
      for (const view of views.filter((v) => applies(key, v))) {
        const cols = new Set(view.columns.map((c) => c.name));
        const missing = (names: string[]) => names.filter((n) => !cols.has(n));
        if (exact) {
          const f = missing(grant.fields ?? []);
          if (f.length) out.push({ path: `${path}.fields`, message: `view "${view.id}" has no column ${f.map((n) => `"${n}"`).join(', ')}` });
          const m = missing(Object.keys(grant.masks));
          if (m.length) out.push({ path: `${path}.masks`, message: `view "${view.id}" has no column ${m.map((n) => `"${n}"`).join(', ')}` });
        }
        if (grant.rowFilter) {
          try {
            const names = [...new Set(astFields(parseFilter(grant.rowFilter, { allowClaims: true, param: 'rowFilter' })).map((f) => f.field))];
            const bad = missing(names);
            if (bad.length) {
              out.push({
                path: `${path}.rowFilter`,
                message: `names ${bad.map((n) => `"${n}"`).join(', ')}, which view "${view.id}" does not output; a row filter may only use the view's columns`,
              });
            }
          } catch (err) {
            out.push({ path: `${path}.rowFilter`, message: (err as Error).message });
          }
        }
      }
      if (Object.values(grant.masks).includes('hash') && !config.masking.hashSecret) {
        out.push({ path: `${path}.masks`, message: 'the hash mask needs masking.hashSecret' });
      }
    }
  }
  return out;
}
