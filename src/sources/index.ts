// Creates the configured sources (one pool each), each behind its circuit breaker and timed into
// the store metrics (src/sources/guarded-source.ts).
import type { Config } from '../config/schema.js';
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerOptions, type BreakerStateName } from './breaker.js';
import { GuardedSource, type StoreMetrics, type StoreTracing } from './guarded-source.js';
import type { Source } from './source.js';
import { storeDescriptor } from './registry.js';
import { RoleRoutedSource } from './role-routed-source.js';
import type { StoreConfig } from '../config/stores.js';

export interface SourcesOptions {
  metrics?: StoreMetrics;
  breaker?: BreakerOptions;
  /** A config reload (src/reload.ts): these sources of the running set are taken over as they are, pool and breaker. */
  reuse?: { from: Sources; names: ReadonlySet<string> };
  /** Spans of store round trips (telemetry configured). */
  tracing?: StoreTracing;
}

/** Stores whose circuit is open, and who hears when one answers again: shared by a set and every set a reload derives from it. */
class BreakerEvents {
  readonly reconnectListeners: ((source: string) => void)[] = [];
  private readonly open = new Set<string>();

  changed(store: string, state: BreakerStateName): void {
    if (state === 'open') this.open.add(store);
    if (state === 'closed' && this.open.delete(store)) for (const l of this.reconnectListeners) l(store);
  }
}

/** The store's Source; with roleUrls, one more per listed role, built with its URL (role-routed-source.ts). */
function createSource(name: string, cfg: StoreConfig): Source {
  const store = storeDescriptor(cfg.kind);
  const main = store.create(name, cfg);
  if (!cfg.roleUrls) return main;
  const byRole = new Map(Object.entries(cfg.roleUrls).map(([role, url]) => [role, store.create(name, { ...cfg, url } as StoreConfig)]));
  return new RoleRoutedSource(main, byRole);
}

export class Sources {
  private readonly byName = new Map<string, Source>();
  private readonly events: BreakerEvents;
  /** The sources this set made itself (not taken over from the set it replaces). */
  private readonly made = new Set<string>();

  constructor(config: Config, opts: SourcesOptions = {}) {
    const { metrics, reuse, tracing } = opts;
    const events = (this.events = reuse?.from.events ?? new BreakerEvents());
    const hooks = {
      onStateChange: (store: string, state: BreakerStateName) => {
        metrics?.breakerChanged(store, state);
        events.changed(store, state);
      },
      ...(metrics ? { onReject: metrics.breakerRejected.bind(metrics) } : {}),
    };
    for (const [name, cfg] of Object.entries(config.sources)) {
      if (reuse?.names.has(name)) {
        this.byName.set(name, reuse.from.get(name));
        continue;
      }
      const breaker = new CircuitBreaker(name, opts.breaker ?? DEFAULT_BREAKER, hooks);
      this.byName.set(name, new GuardedSource(createSource(name, cfg), breaker, metrics, tracing));
      this.made.add(name);
    }
  }

  /** Calls `listener` with a store's name when it answers again after its circuit was open. */
  onReconnect(listener: (source: string) => void): void {
    this.events.reconnectListeners.push(listener);
  }

  get(name: string): Source {
    const s = this.byName.get(name);
    if (!s) throw new Error(`unknown source "${name}"`);
    return s;
  }

  all(): Source[] {
    return [...this.byName.values()];
  }

  /** Connects the sources this set made; those taken over by a reload are connected already. */
  async connect(): Promise<void> {
    await Promise.all([...this.made].map((name) => this.get(name).connect()));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all().map((s) => s.close()));
  }

  /** Closes the sources `next` does not hold (removed or changed by a reload); `next`'s own stay open. */
  async closeAllBut(next: Sources): Promise<void> {
    await Promise.allSettled(
      this.all()
        .filter((s) => next.byName.get(s.name) !== s)
        .map((s) => s.close()),
    );
  }
}
