// SIGHUP reloads the configuration file (docs/operations.md, "Reloading the configuration"). The
// new config is read, checked and built next to the running one; only then is it swapped in, in
// one step (Runtime.swap), so a request runs wholly under the old or wholly under the new config.
// Auth, roles, grants, masks, limits, tools and admin settings take effect at once (a new policy
// and gateway); sources, services and views are rebuilt only when their own settings changed;
// what the new state no longer uses is closed once the old state's requests are done. Caches
// derived from a changed grant are not reused: response cache keys and cursors hold the grant
// (src/ops/cache-key.ts, src/policy/cursor.ts), exports are bound to it, and a new policy and
// authenticator start empty. A config that fails to load, check or build is refused and the
// running one kept. Settings only a restart applies (listen address, TLS files, ...) are kept
// as they run, and named in the log.
import { isTableService, type Config, type ServiceConfig } from './config/schema.js';
import { serviceOf } from './config/view-id.js';
import { closeHubSessions } from './hub/passthrough/session.js';
import { redactUrl } from './ops/logger.js';
import { operatorDetail } from './errors.js';
import { canonical } from './values.js';
import { warmViews, type Runtime, type RuntimeState } from './runtime.js';
import type { Sources } from './sources/index.js';
import { SHUTDOWN_GRACE_MS } from './shutdown.js';

/** Settings read once when the server starts: a reload keeps their running values. */
const RESTART_ONLY = [
  'server.host',
  'server.port',
  'server.tls',
  'server.bodyLimit',
  'server.cors',
  'server.mcp',
  'server.trustProxy',
  'redis',
  'audit',
  'telemetry',
] as const;

/** Something that runs on one state's timers (the hub's refresh scheduler). */
export interface StateTimers {
  stop(): Promise<void>;
}

export interface ReloadOptions {
  /** Reads and validates the config file as at start (with the command line's overrides); throws when it cannot. */
  load: () => Config;
  /** What runs on the running state's timers (started by the caller). */
  timers?: StateTimers;
  /** Starts what runs on a new state's own timers; stopped when the state is replaced or the server closes. */
  startTimers?: (state: RuntimeState) => StateTimers;
  /** How long the replaced state's requests may run before its removed sources are closed anyway. */
  drainMs?: number;
}

/** What one reload changed, as the log line says it. */
export interface ReloadSummary {
  sourcesRebuilt: string[];
  sourcesAdded: string[];
  sourcesRemoved: string[];
  servicesRebuilt: string[];
  grantsChanged: number;
  needsRestart: string[];
}

export type ReloadResult = { applied: true; summary: ReloadSummary } | { applied: false; problem: string };

function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

function setAt(obj: object, path: string, value: unknown): void {
  const keys = path.split('.');
  const parent = keys
    .slice(0, -1)
    .reduce<Record<string, unknown>>((o, k) => (o[k] ??= {}) as Record<string, unknown>, obj as Record<string, unknown>);
  const last = keys.at(-1)!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
}

const same = (a: unknown, b: unknown): boolean => canonical(a ?? null) === canonical(b ?? null);

/** The names in either record whose entries differ (added, removed or changed). */
function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => !Object.hasOwn(a, k) || !Object.hasOwn(b, k) || !same(a[k], b[k]),
  );
}

/** How many grants differ between two configs, over every role (a role added or removed counts all its grants). */
function changedGrants(a: Config, b: Config): number {
  let n = 0;
  for (const role of new Set([...Object.keys(a.roles), ...Object.keys(b.roles)])) {
    n += changedKeys(a.roles[role]?.grants ?? {}, b.roles[role]?.grants ?? {}).length;
  }
  return n;
}

/**
 * Keeps the running values of the restart-only settings in `next` (it is changed in place);
 * returns the ones whose file value differed.
 */
function keepRestartOnly(running: Config, next: Config): string[] {
  const differ = RESTART_ONLY.filter((path) => !same(at(running, path), at(next, path)));
  for (const path of differ) setAt(next, path, structuredClone(at(running, path)));
  return differ;
}

export class ConfigReloader {
  private timers: StateTimers | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly rt: Runtime,
    private readonly opts: ReloadOptions,
  ) {
    this.timers = opts.timers;
  }

  /** Reloads once; reloads asked while one runs run after it, in order. Never throws. */
  reload(): Promise<ReloadResult> {
    const run = this.queue.then(() => this.reloadNow());
    this.queue = run;
    return run;
  }

  /** Stops the current state's timers (the server is closing). */
  async stop(): Promise<void> {
    await this.timers?.stop();
  }

  private refuse(problem: string): ReloadResult {
    this.rt.log.error({ problem: redactUrl(problem) }, 'configuration reload refused; the running configuration is kept');
    this.rt.metrics.configReloaded(false);
    return { applied: false, problem };
  }

  private async reloadNow(): Promise<ReloadResult> {
    const { rt } = this;
    const old = rt.state;
    let next: Config;
    try {
      next = this.opts.load();
    } catch (err) {
      return this.refuse(operatorDetail(err));
    }
    const needsRestart = keepRestartOnly(old.config, next);
    const changedSources = changedKeys(old.config.sources, next.sources);
    const isHub = (svc: ServiceConfig | undefined) => svc !== undefined && !isTableService(svc) && svc.engine === 'hub';
    const hubChanged = changedKeys(old.config.services, next.services).some(
      (s) => isHub(old.config.services[s]) || isHub(next.services[s]),
    );
    // Hub sessions and refresh states belong to the sources object: a new one rebuilds every hub view.
    const replaceSources = changedSources.length > 0 || hubChanged;
    const reused = new Set(Object.keys(next.sources).filter((name) => !changedSources.includes(name)));
    let sources: Sources | undefined;
    try {
      sources = replaceSources ? rt.sourcesFor(next, reused) : old.sources;
      const built = rt.stateFor(
        next,
        sources,
        same(old.config.auth, next.auth) && same(old.config.roles, next.roles) ? old.gateway.auth : undefined,
      );
      const servicesRebuilt = this.adoptViews(old, built, changedSources, replaceSources);
      if (replaceSources) await sources.connect();
      const problems = await warmViews({ catalog: built.catalog, gateway: built.gateway, log: rt.log });
      if (problems) throw new Error(problems);
      const summary: ReloadSummary = {
        sourcesRebuilt: changedSources.filter((s) => Object.hasOwn(old.config.sources, s) && Object.hasOwn(next.sources, s)),
        sourcesAdded: changedSources.filter((s) => !Object.hasOwn(old.config.sources, s)),
        sourcesRemoved: changedSources.filter((s) => !Object.hasOwn(next.sources, s)),
        servicesRebuilt,
        grantsChanged: changedGrants(old.config, next),
        needsRestart,
      };
      this.swap(old, built, replaceSources);
      for (const path of needsRestart)
        rt.log.warn({ setting: path }, `configuration reload: ${path} changed, which needs a restart; the running value is kept`);
      rt.log.info(summary, 'configuration reloaded');
      rt.metrics.configReloaded(true);
      return { applied: true, summary };
    } catch (err) {
      // The sources made for the refused config (none are in use): the running ones stay open.
      if (sources && sources !== old.sources) void sources.closeAllBut(old.sources);
      return this.refuse(operatorDetail(err));
    }
  }

  /** Gives the new catalog the views whose settings did not change; returns the services rebuilt. */
  private adoptViews(old: RuntimeState, next: RuntimeState, changedSources: string[], replaceSources: boolean): string[] {
    const engineSame = same(old.config.engine, next.config.engine);
    const rebuilt: string[] = [];
    for (const [name, svc] of Object.entries(next.config.services)) {
      const before = old.config.services[name];
      // A table service's views hold their one source; the others look theirs up in the sources object.
      const sourcesKept = isTableService(svc) ? !changedSources.includes(svc.source) : !replaceSources;
      if (before === undefined || !same(before, svc) || !engineSame || !sourcesKept) {
        rebuilt.push(name);
        continue;
      }
      next.catalog.adopt(
        old.catalog,
        old.catalog.ids().filter((id) => serviceOf(id) === name),
      );
    }
    return rebuilt.sort();
  }

  /** Swaps `next` in; what only `old` used is closed once its requests are done. */
  private swap(old: RuntimeState, next: RuntimeState, replaceSources: boolean): void {
    const { rt } = this;
    rt.log.level = next.config.logging.level;
    old.drift.stop();
    rt.swap(next);
    next.drift.start(next.config.contract.checkInterval);
    if (!replaceSources) return;
    const oldTimers = this.timers;
    this.timers = this.opts.startTimers?.(next);
    void old.inFlight.idle(this.opts.drainMs ?? SHUTDOWN_GRACE_MS).then(async (finished) => {
      if (!finished)
        rt.log.warn('configuration reload: requests under the replaced configuration still run; closing its removed sources anyway');
      await oldTimers?.stop();
      await closeHubSessions(old.sources);
      await old.sources.closeAllBut(next.sources);
    });
  }
}

/** `viewgate serve`: SIGHUP reloads the config file. */
export function reloadOnSighup(rt: Runtime, reloader: ConfigReloader): void {
  process.on('SIGHUP', () => {
    rt.log.info('SIGHUP: reloading the configuration');
    void reloader.reload();
  });
}
