// Refreshing materialized hub views, and what viewgate knows about each one's refreshes (shown by
// /readyz and describe). The refresh itself is the hub's SECURITY DEFINER function, so viewgate's
// read-only login can run it; the function also keeps a second refresh of a view from starting
// while one runs, across processes.
import { canonicalTimestamp } from '../values.js';
import type { Config } from '../config/schema.js';
import { hubServices } from './services.js';
import { internalSchema, qualified, REFRESH_TABLE, refreshFunction } from './names.js';
import type { HubSession } from './passthrough/session.js';

export interface RefreshStatus {
  /** service.view */
  view: string;
  /** The cron expression, when `serve` refreshes on a schedule. */
  schedule?: string;
  lastRefresh: string | null;
  lastDurationMs?: number;
  lastError?: string;
  lastErrorAt?: string;
  refreshes: number;
  failures: number;
  /** Scheduled refreshes skipped because the previous one was still running. */
  skipped: number;
  running: boolean;
}

export type RefreshOutcome = { status: 'refreshed'; at: string } | { status: 'skipped' };

const registries = new WeakMap<object, Map<string, RefreshStatus>>();

/** The refresh states of one runtime (owner: its Sources object). */
export function refreshStates(owner: object): Map<string, RefreshStatus> {
  let m = registries.get(owner);
  if (!m) registries.set(owner, (m = new Map()));
  return m;
}

export function refreshState(owner: object, view: string): RefreshStatus {
  const m = refreshStates(owner);
  let s = m.get(view);
  if (!s) m.set(view, (s = { view, lastRefresh: null, refreshes: 0, failures: 0, skipped: 0, running: false }));
  return s;
}

/** Every materialized hub view in the config, as service.view with its schedule (if any). */
export function materializedViews(config: Config): { id: string; service: string; view: string; hub: string; schedule?: string }[] {
  return hubServices(config).flatMap(([service, svc]) =>
    Object.entries(svc.views)
      .filter(([, v]) => v.materialize)
      .map(([view, v]) => ({
        id: `${service}.${view}`,
        service,
        view,
        hub: svc.source,
        ...(v.materialize?.refresh ? { schedule: v.materialize.refresh } : {}),
      })),
  );
}

function refreshFunctionSql(service: string, view: string): string {
  return qualified(internalSchema(service), refreshFunction(view));
}

/** One refresh, recorded in `state`; a refresh already running (here or elsewhere) is skipped. */
export async function refreshHubView(session: HubSession, service: string, view: string, state: RefreshStatus): Promise<RefreshOutcome> {
  if (state.running) {
    state.skipped++;
    return { status: 'skipped' };
  }
  state.running = true;
  const started = performance.now();
  try {
    const at = await session.refresh(refreshFunctionSql(service, view));
    if (at === null) {
      state.skipped++;
      return { status: 'skipped' };
    }
    const iso = canonicalTimestamp(at) ?? at;
    state.lastRefresh = iso;
    state.lastDurationMs = Math.round(performance.now() - started);
    state.refreshes++;
    return { status: 'refreshed', at: iso };
  } catch (err) {
    state.failures++;
    state.lastError = (err as Error).message;
    state.lastErrorAt = new Date().toISOString();
    throw err;
  } finally {
    state.running = false;
  }
}

/** Reads the hub's record of past refreshes into the states (e.g. refreshes by `hub refresh`). */
export async function loadLastRefreshes(session: HubSession, service: string, states: (view: string) => RefreshStatus): Promise<void> {
  const rows = await session.query(`SELECT view_name, refreshed_at, duration_ms FROM ${qualified(internalSchema(service), REFRESH_TABLE)}`);
  for (const [name, at, ms] of rows as [string, string, string][]) {
    const s = states(`${service}.${name}`);
    const iso = canonicalTimestamp(at) ?? at;
    if (s.lastRefresh === null || iso > s.lastRefresh) {
      s.lastRefresh = iso;
      s.lastDurationMs = Math.round(Number(ms));
    }
  }
}
