// Creates the configured sources (one pool each), each behind its circuit breaker and timed into
// the store metrics (src/sources/guarded-source.ts).
import type { Config } from '../config/schema.js';
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerOptions, type BreakerStateName } from './breaker.js';
import { GuardedSource, type StoreMetrics } from './guarded-source.js';
import type { Source } from './source.js';
import { storeDescriptor } from './registry.js';
import { RoleRoutedSource } from './role-routed-source.js';
import type { StoreConfig } from '../config/stores.js';

export interface SourcesOptions {
  metrics?: StoreMetrics;
  breaker?: BreakerOptions;
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
  private readonly reconnectListeners: ((source: string) => void)[] = [];
  private readonly open = new Set<string>();

  constructor(config: Config, opts: SourcesOptions = {}) {
    const { metrics } = opts;
    const hooks = {
      onStateChange: (store: string, state: BreakerStateName) => {
        metrics?.breakerChanged(store, state);
        this.breakerChanged(store, state);
      },
      ...(metrics ? { onReject: metrics.breakerRejected.bind(metrics) } : {}),
    };
    for (const [name, cfg] of Object.entries(config.sources)) {
      const breaker = new CircuitBreaker(name, opts.breaker ?? DEFAULT_BREAKER, hooks);
      this.byName.set(name, new GuardedSource(createSource(name, cfg), breaker, metrics));
    }
  }

  /** Calls `listener` with a store's name when it answers again after its circuit was open. */
  onReconnect(listener: (source: string) => void): void {
    this.reconnectListeners.push(listener);
  }

  private breakerChanged(store: string, state: BreakerStateName): void {
    if (state === 'open') this.open.add(store);
    if (state === 'closed' && this.open.delete(store)) for (const l of this.reconnectListeners) l(store);
  }

  get(name: string): Source {
    const s = this.byName.get(name);
    if (!s) throw new Error(`unknown source "${name}"`);
    return s;
  }

  all(): Source[] {
    return [...this.byName.values()];
  }

  async connect(): Promise<void> {
    await Promise.all(this.all().map((s) => s.connect()));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all().map((s) => s.close()));
  }
}
