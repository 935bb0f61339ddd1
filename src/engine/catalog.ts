// The catalog: every configured view with its schema and engine, built from config + introspection.
// A view that cannot be built (store down, bad SQL) is kept as a problem, so `check` can list it
// and `serve` can retry it on the next request instead of refusing to start.
import type { Config, TableServiceConfig } from '../config/schema.js';
import { isTableService } from '../config/schema.js';
import type { Sources } from '../sources/index.js';
import { ApiError, operatorDetail } from '../errors.js';
import { TableViewEngine } from './table-view.js';
import { buildEmbeddedView } from './embedded/index.js';
import { buildHubView } from '../hub/view.js';
import type { View } from './view.js';
import { policyProblems, type PolicyProblem } from '../policy/validate.js';

export interface ViewEntry {
  id: string;
  service: string;
  name: string;
  description: string;
  /** The built view, once it was built successfully. */
  view?: View;
  problem?: string;
  /** Grants that do not fit the built view (the view is then not served). */
  policy?: PolicyProblem[];
}

/** A view whose grants do not fit it (e.g. a row filter naming a column it does not output). */
export class MisconfiguredView extends ApiError {
  constructor(
    readonly view: View,
    readonly problems: PolicyProblem[],
  ) {
    super('view_misconfigured', `view "${view.id}" is not served: the configuration's grants do not fit it; \`viewgate check\` names the problem`, { view: view.id });
  }
}

type Builder = () => Promise<View>;

export class Catalog {
  private readonly builders = new Map<string, Builder>();
  private readonly built = new Map<string, View>();
  private readonly pending = new Map<string, Promise<View>>();
  private readonly problems = new Map<string, string>();
  private readonly descriptions = new Map<string, string>();

  constructor(
    private readonly config: Config,
    private readonly sources: Sources,
  ) {
    for (const [svcName, svc] of Object.entries(config.services)) {
      if (isTableService(svc)) {
        for (const entry of svc.tables) this.addTable(svcName, svc, entry);
      } else {
        for (const [viewName, v] of Object.entries(svc.views)) {
          const id = `${svcName}.${viewName}`;
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
    const id = `${svcName}.${viewName}`;
    const configured = typeof entry === 'string' ? undefined : entry.description;
    this.descriptions.set(id, configured ?? svc.description ?? `${table} in ${svc.source}`);
    this.builders.set(id, async () => {
      const source = this.sources.get(svc.source);
      const info = await source.introspect(table);
      // The table's own comment describes it better than its service does; the config's words win.
      const description = configured ?? info.description ?? svc.description ?? `${table} in ${svc.source}`;
      this.descriptions.set(id, description);
      const key = (typeof entry === 'string' ? undefined : entry.key) ?? info.primaryKey;
      const cols = this.config.sources[svc.source];
      const declared = cols?.kind === 'mongodb' ? cols.collections[table]?.columns : undefined;
      return {
        id,
        service: svcName,
        name: viewName,
        description,
        key,
        columns: info.columns.map((c) => ({
          name: c.name,
          type: c.type,
          nullable: c.nullable,
          ...((declared?.[c.name]?.description ?? c.description) ? { description: declared?.[c.name]?.description ?? c.description } : {}),
        })),
        engine: new TableViewEngine(source, info),
      };
    });
  }

  /** Every configured view id, whether or not it could be built. */
  ids(): string[] {
    return [...this.builders.keys()];
  }

  has(id: string): boolean {
    return this.builders.has(id);
  }

  description(id: string): string {
    return this.descriptions.get(id) ?? '';
  }

  /** The built view; builds it (introspection) on first use and retries after a failure. */
  async get(id: string): Promise<View> {
    const done = this.built.get(id);
    if (done) return done;
    const inFlight = this.pending.get(id);
    if (inFlight) return inFlight;
    const build = this.builders.get(id);
    if (!build) throw new ApiError('not_found', `no view "${id}"`, { view: id });
    const p = build().then(
      (v) => {
        // Checked here, not only at start, so a view first built later (its store was down) is
        // refused the same way instead of failing on each request.
        const problems = policyProblems(this.config, [v]);
        if (problems.length > 0) throw new MisconfiguredView(v, problems);
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
        const [service, name] = splitId(id);
        const base = { id, service, name, description: this.description(id) };
        try {
          return { ...base, view: await this.get(id) };
        } catch (err) {
          if (err instanceof MisconfiguredView) return { ...base, view: err.view, policy: err.problems };
          // For check and the start-up log: the driver's detail, not the caller's message.
          return { ...base, problem: operatorDetail(err) };
        }
      }),
    );
  }
}

export function splitId(id: string): [string, string] {
  const i = id.indexOf('.');
  return [id.slice(0, i), id.slice(i + 1)];
}
