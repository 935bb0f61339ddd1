// The catalog: every configured view with its schema and engine, built from config + introspection.
// A view that cannot be built (store down, bad SQL) is kept as a problem, so `check` can list it
// and `serve` can retry it on the next request instead of refusing to start.
import { intWidthOf } from '../engine/aggregate/types.js';
import type { Config, DeprecationConfig, TableServiceConfig } from '../config/schema.js';
import { isTableService } from '../config/schema.js';
import { serviceOf, viewIdOf, viewNameOf, type ViewId } from '../config/view-id.js';
import type { Sources } from '../sources/index.js';
import { ApiError, operatorDetail, StoreError } from '../errors.js';
import { TableViewEngine } from '../engine/table-view.js';
import { buildEmbeddedView } from '../engine/embedded/index.js';
import { buildHubView } from '../hub/view.js';
import type { View } from '../engine/view.js';
import { misfitOf, sameShape } from './view-fit.js';

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

/** A view's sources stopped fitting it, or fit it again (Catalog.recheck). */
interface DriftChange {
  id: ViewId;
  /** What no longer fits, for operators (logs, check); absent when the view healed. */
  detail?: string;
}

/** The 503 of a view whose sources no longer fit it: it names the view only (the detail may name a hidden column). */
function outOfContractError(id: ViewId): ApiError {
  return new ApiError('view_out_of_contract', `view "${id}" is out of contract; operators: see viewgate check`, { view: id });
}

export class Catalog {
  private readonly builders = new Map<ViewId, Builder>();
  private readonly built = new Map<ViewId, View>();
  private readonly pending = new Map<ViewId, Promise<View>>();
  private readonly problems = new Map<ViewId, string>();
  private readonly descriptions = new Map<ViewId, string>();
  private readonly writeCapable = new Set<ViewId>();
  private readonly deprecations = new Map<ViewId, DeprecationConfig>();
  /** Each view as first built: the schema it is served with, which its sources must keep fitting. */
  private readonly baselines = new Map<ViewId, View>();
  /** Views whose sources no longer fit them, with what does not fit (for operators only). */
  private readonly drifted = new Map<ViewId, string>();
  /** Views PostgreSQL runs (hub): `hub apply` follows their sources, not the drift check. */
  private readonly hubViews = new Set<ViewId>();
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
          if (v.deprecated) this.deprecations.set(id, v.deprecated);
          if (svc.engine === 'hub') this.hubViews.add(id);
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
    if (typeof entry !== 'string' && entry.deprecated) this.deprecations.set(id, entry.deprecated);
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
            storeType: c.nativeType,
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
   * A config reload (src/reload.ts): takes over these views from the catalog being replaced, as
   * built and as first built (drift keeps comparing with that), when their settings did not change.
   */
  adopt(from: Catalog, ids: Iterable<ViewId>): void {
    for (const id of ids) {
      if (!this.builders.has(id)) continue;
      const view = from.built.get(id);
      if (view) this.built.set(id, view);
      const baseline = from.baselines.get(id);
      if (baseline) this.baselines.set(id, baseline);
      const drifted = from.drifted.get(id);
      if (drifted !== undefined) this.drifted.set(id, drifted);
      if (from.descriptions.has(id)) this.descriptions.set(id, from.descriptions.get(id)!);
    }
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

  /** The view's `deprecated` settings, when it has them (docs/contracts.md, "Deprecation"). */
  deprecation(id: ViewId): DeprecationConfig | undefined {
    return this.deprecations.get(id);
  }

  /** What no longer fits when the view's sources have drifted from it; undefined while they fit. */
  drift(id: ViewId): string | undefined {
    return this.drifted.get(id);
  }

  /** The ids of the views that are out of contract now, sorted. */
  outOfContract(): ViewId[] {
    return [...this.drifted.keys()].sort();
  }

  /** The view if it is built already (no introspection). */
  peek(id: ViewId): View | undefined {
    return this.built.get(id);
  }

  /** The built view when it is built and its sources fit it (get() without waiting); undefined otherwise. */
  ready(id: ViewId): View | undefined {
    return this.drifted.has(id) ? undefined : this.built.get(id);
  }

  /** The built view; builds it (introspection) on first use and retries after a failure. */
  async get(id: ViewId): Promise<View> {
    if (this.drifted.has(id)) throw outOfContractError(id);
    const done = this.built.get(id);
    if (done) return done;
    const inFlight = this.pending.get(id);
    if (inFlight) return inFlight;
    const build = this.builders.get(id);
    if (!build) throw new ApiError('not_found', `no view "${id}"`, { view: id });
    const p = build().then(
      (v) => {
        this.built.set(id, v);
        if (!this.baselines.has(id)) this.baselines.set(id, v);
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

  /**
   * Builds every view built before again from its sources as they are now (each store is asked
   * afresh) and compares it with the view as first built. A view whose columns are gone or changed
   * type, or whose key changed, or that no longer builds at all, is out of contract (get() answers
   * 503) until its sources fit again; a store that cannot be reached is no drift (its breaker
   * answers for it). Returns the views that changed state.
   */
  async recheck(): Promise<DriftChange[]> {
    for (const s of this.sources.all()) s.refreshCatalog?.();
    const changes: DriftChange[] = [];
    for (const [id, baseline] of this.baselines) {
      if (this.hubViews.has(id)) continue;
      const detail = await this.fitOf(id, baseline);
      if (detail === null) continue;
      const was = this.drifted.get(id);
      if (detail !== undefined) {
        this.drifted.set(id, detail);
        if (was !== detail) changes.push({ id, detail });
      } else if (was !== undefined) {
        this.drifted.delete(id);
        changes.push({ id });
      }
    }
    return changes;
  }

  /** undefined: the sources fit the view; a string: what does not fit; null: unknown (a store is down). */
  private async fitOf(id: ViewId, baseline: View): Promise<string | undefined | null> {
    let fresh: View;
    try {
      fresh = await this.builders.get(id)!();
    } catch (err) {
      if (err instanceof StoreError && err.reason !== 'failed') return null;
      return operatorDetail(err);
    }
    const misfit = misfitOf(baseline, fresh);
    if (misfit !== undefined) return misfit;
    // A compatible change (a wider type, a new column) is served as the store has it now.
    if (!sameShape(this.built.get(id) ?? baseline, fresh)) this.built.set(id, fresh);
    return undefined;
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
