// The cost guard on hub views (docs/security.md, "Cost guards"). A hub statement is judged by the
// hub's own generic plan, exactly as a PostgreSQL source judges its statements: through the hub
// source's accessPlan, so with its cache per statement text, its breaker, and its catalog refresh.
// The plan's local relations (materialized views, tables) are judged by their total size; each
// Foreign Scan reads another store, and is judged by that store: postgres_fdw's Remote SQL by the
// PostgreSQL source the foreign server was made from (`hub apply` names it viewgate_<source>).
// Any other foreign scan (mysql_fdw, mongo_fdw, a server viewgate did not make) cannot be judged
// before it runs: MySQL's EXPLAIN needs the values a generic plan does not have, and mongo_fdw
// shows no query.
import type { Config } from '../config/schema.js';
import type { Sources } from '../sources/index.js';
import type { AccessPlan, ForeignRead, FullScan, NativeQuery, PlanScans, Source, Unjudgeable } from '../sources/source.js';
import { serverName } from './names.js';
import { hubServices } from './services.js';

/** What a materialized view offers instead: its reads are judged by the hub's own indexes. */
const MATERIALIZE = 'ask for the view to be materialized (`materialize:` in its config), or for a grant without maxScanRows';

export class HubScanJudge {
  constructor(
    private readonly hub: Source,
    /** The sources behind the hub's foreign servers, by server name. */
    private readonly servers: ReadonlyMap<string, Source>,
  ) {}

  async accessPlan(native: NativeQuery): Promise<AccessPlan> {
    if (!this.hub.accessPlan) throw new Error(`the hub "${this.hub.name}" cannot tell its plans`);
    const local = await this.hub.accessPlan({ op: 'statement', native });
    const remote = await Promise.all((local.foreignReads ?? []).map((f) => this.judgeForeign(f)));
    const unjudgeable = [...(local.unjudgeable ?? []), ...remote.flatMap((r) => r.unjudgeable)];
    const pageScans = [...(local.pageScans ?? []), ...remote.flatMap((r) => r.pageScans)];
    return {
      native,
      fullScans: [...local.fullScans, ...remote.flatMap((r) => r.fullScans)],
      ...(pageScans.length > 0 ? { pageScans } : {}),
      ...(unjudgeable.length > 0 ? { unjudgeable } : {}),
    };
  }

  private async judgeForeign(read: ForeignRead): Promise<Required<Omit<PlanScans, 'foreignReads'>> & { unjudgeable: Unjudgeable[] }> {
    const source = this.servers.get(read.server);
    const what = `foreign table ${read.table} (${read.wrapper || 'an unknown wrapper'}${source ? `, source "${source.name}"` : ''})`;
    if (!source?.accessPlan || source.kind !== 'postgres' || read.wrapper !== 'postgres_fdw' || read.remote === undefined) {
      return { fullScans: [], pageScans: [], unjudgeable: [{ read: what, help: MATERIALIZE }] };
    }
    // postgres_fdw sends its parameters as $n::type; the generic plan never reads their values.
    const params = Math.max(0, ...[...read.remote.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    const plan = await source.accessPlan({
      op: 'statement',
      native: { source: source.name, text: read.remote, params: Array.from({ length: params }, () => null) },
    });
    // A foreign table of the source itself (a wrapper behind the wrapper) is not followed.
    const nested = (plan.foreignReads ?? []).map((f) => ({ read: `${what}, which reads foreign table ${f.table}`, help: MATERIALIZE }));
    const held = (scans: FullScan[] = []): FullScan[] => scans.map((s) => ({ ...s, source: source.name }));
    return { fullScans: held(plan.fullScans), pageScans: held(plan.pageScans), unjudgeable: nested };
  }
}

/** The judge of a hub's statements: the hub source, and the sources its services map through foreign servers. */
export function hubScanJudge(config: Config, sources: Sources, hub: string): HubScanJudge {
  const servers = new Map<string, Source>();
  for (const [, svc] of hubServices(config)) {
    if (svc.source !== hub) continue;
    for (const name of Object.keys(svc.foreign ?? {})) servers.set(serverName(name), sources.get(name));
  }
  return new HubScanJudge(sources.get(hub), servers);
}
