// GET /admin/api/roles (docs/console.md, "JSON API"): the role x view matrix. Each cell is what
// `viewgate contract snapshot` records for the role (src/commands/contract/live.ts: the grant, the
// caller schema with masks and filterability, maxLimit, rights) plus the grant's row filter and
// limits as configured. A view the role has no grant on has no cell.
import type { Runtime } from '../runtime.js';
import { publicProblem } from './problem.js';
import { roleIdentity, roleView } from '../commands/contract/live.js';

export async function roles(rt: Runtime) {
  const out = [];
  for (const [role, cfg] of Object.entries(rt.config.roles)) {
    const identity = roleIdentity(role);
    const cells: Record<string, unknown> = {};
    for (const summary of rt.gateway.listViews(identity)) {
      try {
        const cell = await roleView(rt.gateway, identity, summary.id);
        const grant = rt.config.roles[role]!.grants[cell.grant]!;
        cells[summary.id] = {
          ...cell,
          fields: grant.fields ?? null,
          masks: grant.masks ?? {},
          rowFilter: grant.rowFilter ?? null,
          limits: {
            maxLimit: cell.maxLimit,
            rateLimit: grant.rateLimit ?? null,
            cacheTtlMs: grant.cacheTtl ?? null,
            timeoutMs: grant.timeout ?? null,
            maxScanRows: grant.maxScanRows ?? null,
          },
        };
      } catch (err) {
        cells[summary.id] = { problem: publicProblem(rt, err) };
      }
    }
    out.push({ role, ...(cfg.description ? { description: cfg.description } : {}), metrics: cfg.metrics, views: cells });
  }
  return { views: rt.catalog.ids(), roles: out };
}
