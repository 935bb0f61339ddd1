// `viewgate check` warns about a grant whose maxScanRows can never let a hub view be read: a view
// that is not materialized and reads a foreign table of a MySQL or MongoDB source reads it through
// mysql_fdw or mongo_fdw, whose reads the cost guard cannot judge, so every read is refused
// (docs/security.md, "Cost guards").
import { parse } from 'libpg-query';
import type { Config } from '../config/schema.js';
import { viewIdOf } from '../config/view-id.js';
import { hubServices } from '../hub/services.js';
import { readGrant } from '../policy/grants.js';

/** `schema.table` of every relation a statement names with a schema (from the PostgreSQL parser's tree). */
function schemaRelations(tree: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(tree)) tree.forEach((t) => schemaRelations(t, out));
  else if (tree !== null && typeof tree === 'object') {
    const node = tree as Record<string, unknown>;
    const rv = node.RangeVar as { schemaname?: string; relname?: string } | undefined;
    if (rv?.schemaname !== undefined && rv.relname !== undefined) out.add(`${rv.schemaname}.${rv.relname}`);
    Object.values(node).forEach((v) => schemaRelations(v, out));
  }
  return out;
}

export async function hubGuardWarnings(config: Config): Promise<string[]> {
  const out: string[] = [];
  for (const [service, svc] of hubServices(config)) {
    // The foreign schemas of sources no judge can read for: mysql_fdw and mongo_fdw.
    const unjudgeable = new Map(
      Object.entries(svc.foreign ?? {}).flatMap(([source, m]) => {
        const kind = config.sources[source]?.kind;
        return kind === 'mysql' || kind === 'mongodb' ? [[m.schema, kind === 'mysql' ? 'mysql_fdw' : 'mongo_fdw'] as const] : [];
      }),
    );
    for (const [name, view] of Object.entries(svc.views)) {
      if (view.materialize || unjudgeable.size === 0) continue;
      const tree = await parse(view.sql).catch(() => undefined);
      const read = [...schemaRelations(tree)].find((r) => unjudgeable.has(r.slice(0, r.indexOf('.'))));
      if (read === undefined) continue;
      const id = viewIdOf(service, name);
      for (const role of Object.keys(config.roles)) {
        const decided = readGrant(config, role, id);
        if (decided?.grant.maxScanRows === undefined) continue;
        out.push(
          `roles.${role}.grants."${decided.key}" sets maxScanRows, and hub view "${id}" reads foreign table ${read} through ` +
            `${unjudgeable.get(read.slice(0, read.indexOf('.')))}, whose reads cannot be judged: every read of it by this role is refused (422). ` +
            `Materialize the view, or drop maxScanRows for it`,
        );
      }
    }
  }
  return out;
}
