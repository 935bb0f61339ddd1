// The catalog: every configured view with its schema and engine, built from config + introspection.
// A view that cannot be built (store down, bad SQL) is kept as a problem, so `check` can list it
// and `serve` can retry it on the next request instead of refusing to start.
import { intWidthOf } from '../engine/aggregate/types.js';
import type { Config, TableServiceConfig } from '../config/schema.js';
import { isTableService } from '../config/schema.js';
import { serviceOf, viewIdOf, viewNameOf, type ViewId } from '../config/view-id.js';
import type { Sources } from '../sources/index.js';
import { ApiError, operatorDetail } from '../errors.js';
import { TableViewEngine } from '../engine/table-view.js';
import { buildEmbeddedView } from '../engine/embedded/index.js';
import { buildHubView } from '../hub/view.js';
import type { View } from '../engine/view.js';

export interface ViewEntry {
  id: ViewId;
  service: string;
  name: string;
  description: string;
  /** The built view, once it was built successfully. */
  view?: View;
  problem?: string;
}

type Builder = () => Promise<View>;

export class Catalog {
  private readonly builders = new Map<ViewId, Builder>();
  private readonly built = new Map<ViewId, View>();
  private readonly pending = new Map<ViewId, Promise<View>>();
  private readonly problems = new Map<ViewId, string>();
  private readonly descriptions = new Map<ViewId, string>();
  private readonly writeCapable = new Set<ViewId>();
  private readonly rowBudget: number;

  constructor(
    config: Config,
    private readonly sources: Sources,
  ) {
    this.rowBudget = config.engine.rowBudget;
    for (const [svcName, svc] of Object.entries(config.services)) {
      if (isTableService(svc)) {
        for (const entry of svc.tables) this.addTable(svcName, svc, entry);
      } else {
        for (const [viewName, v] of Object.entries(svc.views)) {
          const id = viewIdOf(svcName, viewName);
          this.descriptions.set(id, v.description ?? '');
          const spec = { service: svcName, name: viewName, view: v, config, sources };
          this.builders.set(id, () => (svc.engine === 'hub' ? buildHubView(spec) : buildEmbeddedView(spec)));
        }
      }
    }
  }

  private addTable(svcName: string, svc: TableServiceConfig, entry: TableServiceConfig['tables'][number]): void {
    const table = typeof entry === 'string' ? entry : entry.name;
    const viewName = table.includes('.') ? table.split('.').pop()! : table;
    const id = viewIdOf(svcName, viewName);
    const configured = typeof entry === 'string' ? undefined : entry.description;
    this.descriptions.set(id, configured ?? svc.description ?? `${table} in ${svc.source}`);
    if (this.sources.all().some((s) => s.name === svc.source && s.writer)) this.writeCapable.add(id);
    this.builders.set(id, async () => {
      const source = this.sources.get(svc.source);
      const info = await source.introspect(table);
      // The table's own comment describes it better than its service does; the config's words win.
      const description = configured ?? info.description ?? svc.description ?? `${table} in ${svc.source}`;
      this.descriptions.set(id, description);
      const key = (typeof entry === 'string' ? undefined : entry.key) ?? info.primaryKey;
      // Writable only when the key is one of the table's primary or unique keys (docs/writes.md).
      const writer = source.writer;
      const unique = writer ? await writer.uniqueKeys(table) : [];
      const keyIsUnique = key.length > 0 && unique.some((u) => u.length === key.length && u.every((c) => key.includes(c)));
      return {
        id,
        service: svcName,
        name: viewName,
        description,
        key,
        columns: info.columns.map((c) => {
          const intWidth = intWidthOf(c);
          return {
            name: c.name,
            type: c.type,
            nullable: c.nullable,
            ...(c.description ? { description: c.description } : {}),
            ...(intWidth ? { intWidth } : {}),
          };
        }),
        engine: new TableViewEngine(source, info, this.rowBudget),
        ...(writer && keyIsUnique ? { write: { writer, table } } : {}),
      };
    });
  }

  /**
   * Whether writes to the view can be served at all, from the config alone: a table of a service
   * bound to one source whose store writes (federated, hub and SQLite views cannot be written).
   */
  writesTo(id: ViewId): boolean {
    return this.writeCapable.has(id);
  }

  /** Every configured view id, whether or not it could be built. */
  ids(): ViewId[] {
    return [...this.builders.keys()];
  }

  /** Whether a configured view has this id. */
  has(id: string): id is ViewId {
    return this.builders.has(id as ViewId);
  }

  description(id: ViewId): string {
    return this.descriptions.get(id) ?? '';
  }

  /** The view if it is built already (no introspection). */
  peek(id: ViewId): View | undefined {
    return this.built.get(id);
  }

  /** The built view; builds it (introspection) on first use and retries after a failure. */
  async get(id: ViewId): Promise<View> {
    const done = this.built.get(id);
    if (done) return done;
    const inFlight = this.pending.get(id);
    if (inFlight) return inFlight;
    const build = this.builders.get(id);
    if (!build) throw new ApiError('not_found', `no view "${id}"`, { view: id });
    const p = build().then(
      (v) => {
        this.built.set(id, v);
        this.problems.delete(id);
        this.pending.delete(id);
        return v;
      },
      (err: unknown) => {
        this.problems.set(id, operatorDetail(err));
        this.pending.delete(id);
        throw err;
      },
    );
    this.pending.set(id, p);
    return p;
  }

  /** Builds every view; returns one entry per view with its problem, if any. */
  async buildAll(): Promise<ViewEntry[]> {
    return Promise.all(
      this.ids().map(async (id) => {
        const base = { id, service: serviceOf(id), name: viewNameOf(id), description: this.description(id) };
        try {
          return { ...base, view: await this.get(id) };
        } catch (err) {
          // For check and the start-up log: the driver's detail, not the caller's message.
          return { ...base, problem: operatorDetail(err) };
        }
      }),
    );
  }
}
