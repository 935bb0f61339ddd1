// `viewgate check` warnings about writes (docs/writes.md, "References"): a column a role may write
// that some federated view joins on, without a `write.references` entry. Such a column lets a
// tenant attach its rows to another tenant's data (an order written with another tenant's
// customer_id appears in that tenant's federated view).
import { isTableService, type Config } from '../config/schema.js';
import { viewIdOf, type ViewId } from '../config/view-id.js';
import type { View } from '../engine/view.js';
import { parseViewSql, unwrap, type RawNode } from '../engine/embedded/parse.js';
import { decidingGrant } from '../policy/grants.js';
import { grantsWrites } from '../policy/write-access.js';

/** The column names a join condition compares, by relation alias. */
function columnRefs(node: unknown, out: [string, string][]): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) columnRefs(n, out);
    return;
  }
  const o = node as RawNode;
  if ('ColumnRef' in o) {
    const fields = ((o.ColumnRef as RawNode).fields ?? []) as RawNode[];
    const names = fields.map((f) => unwrap(f)[1]?.sval as string | undefined);
    if (names.length === 2 && names[0] && names[1]) out.push([names[0], names[1]]);
    return;
  }
  for (const v of Object.values(o)) columnRefs(v, out);
}

/** `source.table.column` of every column an embedded view joins on, with the views that do. */
async function joinKeys(config: Config): Promise<Map<string, string[]>> {
  const keys = new Map<string, string[]>();
  for (const [service, svc] of Object.entries(config.services)) {
    if (isTableService(svc) || svc.engine === 'hub') continue;
    for (const [name, v] of Object.entries(svc.views)) {
      let syntax;
      try {
        syntax = await parseViewSql(`${service}.${name}`, v.sql);
      } catch {
        continue; // reported as the view's own problem
      }
      const rels = new Map([syntax.from, ...syntax.joins.map((j) => j.relation)].map((r) => [r.alias, r]));
      const refs: [string, string][] = [];
      for (const j of syntax.joins) columnRefs(j.on, refs);
      for (const [alias, column] of refs) {
        const r = rels.get(alias);
        if (!r) continue;
        const k = `${r.source}.${r.table.split('.').pop()}.${column}`;
        keys.set(k, [...(keys.get(k) ?? []), `${service}.${name}`]);
      }
    }
  }
  return keys;
}

export async function writeWarnings(config: Config, views: ReadonlyMap<ViewId, View>): Promise<string[]> {
  const joins = await joinKeys(config);
  if (joins.size === 0) return [];
  const out: string[] = [];
  for (const [service, svc] of Object.entries(config.services)) {
    if (!isTableService(svc)) continue;
    for (const entry of svc.tables) {
      const table = (typeof entry === 'string' ? entry : entry.name).split('.').pop()!;
      const id = viewIdOf(service, table);
      const view = views.get(id);
      for (const [roleName, role] of Object.entries(config.roles)) {
        const decided = decidingGrant(role.grants, id);
        const grant = decided?.grant;
        if (!grant?.write || !grantsWrites(grant) || !(grant.write.insert || grant.write.update)) continue;
        for (const [k, joinedBy] of joins) {
          const [source, t, column] = k.split('.') as [string, string, string];
          if (source !== svc.source || t !== table || Object.hasOwn(grant.write.references, column)) continue;
          const listed = grant.write.fields;
          const writable = listed
            ? listed.includes(column)
            : !Object.hasOwn(grant.masks, column) &&
              (!grant.fields || grant.fields.includes(column)) &&
              !(view?.key ?? []).includes(column);
          if (!writable) continue;
          out.push(
            `roles.${roleName}.grants.${decided!.key}.write: column "${column}" of "${id}" is writable and a join key of ${joinedBy.map((v) => `"${v}"`).join(', ')}; ` +
              `declare it in write.references so a written value must name a row the caller can read`,
          );
        }
      }
    }
  }
  return [...new Set(out)];
}
