// The policy of one config: built once (its row filters parsed then), it answers which grant lets a
// role read a view, the per-(role, view) record of everything the policy decides (access.ts), and
// whether a built view's grants fit it.
import type { Config } from '../config/schema.js';
import type { ViewId } from '../config/view-id.js';
import type { StoreRowSecurity, View } from '../engine/view.js';
import { viewAccess, rowSecurityCheck, type ViewAccess } from './access.js';
import { ConfigRowFilters } from './config-filters.js';
import { CuratedTools } from './curated-tools.js';
import { readGrant, type DecidingGrant } from './grants.js';
import { MisconfiguredView, policyProblems, type PolicyProblem } from './validate.js';

export class Policy {
  private readonly filters: ConfigRowFilters;
  // Built views live as long as the process; a record depends only on the view and the role.
  private readonly records = new WeakMap<View, Map<string, ViewAccess>>();
  private readonly problemsByView = new WeakMap<View, PolicyProblem[]>();
  /** The config's curated tools, compiled once: who may use which (docs/tools.md). */
  readonly tools: CuratedTools;

  constructor(readonly config: Config) {
    this.filters = new ConfigRowFilters(config);
    this.tools = new CuratedTools(config);
  }

  /** The grant that lets the role read the view, with its key; undefined when none does. */
  grant(role: string, id: ViewId): DecidingGrant | undefined {
    return readGrant(this.config, role, id);
  }

  /** Everything the policy decides for the role on the built view; undefined when it may not read it. */
  access(role: string, view: View): ViewAccess | undefined {
    let byRole = this.records.get(view);
    if (!byRole) this.records.set(view, (byRole = new Map()));
    const known = byRole.get(role);
    if (known) return known;
    const decided = this.grant(role, view.id);
    if (!decided) return undefined;
    const record = viewAccess(this.config, this.filters, view, role, decided);
    byRole.set(role, record);
    return record;
  }

  /** The grants (and auth settings) and the curated tools that do not fit these views. */
  problems(views: readonly View[]): PolicyProblem[] {
    return [...policyProblems(this.config, this.filters, views), ...this.tools.problems(views)];
  }

  /**
   * Throws MisconfiguredView when the grants do not fit the view. Checked on every use, not only at
   * start, so a view first built later (its store was down) is refused the same way.
   */
  refuseMisconfigured(view: View): void {
    let problems = this.problemsByView.get(view);
    if (!problems) this.problemsByView.set(view, (problems = this.problems([view])));
    if (problems.length > 0) throw new MisconfiguredView(view, problems);
  }

  /**
   * A hub view's rowSecurity as an administrator's query meets it (`viewgate explain`): it binds
   * unless the given role is exempt.
   */
  storeRowSecurity(view: View, role: string | undefined): StoreRowSecurity | undefined {
    const rs = this.filters.ofView(view.id);
    if (!rs || rs.enforcedBy !== 'store' || (role !== undefined && rs.exemptRoles.includes(role))) return undefined;
    return rowSecurityCheck(view, rs.filter);
  }
}
