// What a store module exports (docs/architecture.md, "How to add a store"): one descriptor per
// folder under src/sources/, listed once in src/sources/registry.ts.
import type { StoreConfig, StoreConfigSpec } from '../config/stores.js';
import type { Source } from './source.js';

export interface StoreDescriptor<C extends StoreConfig = StoreConfig> extends StoreConfigSpec<C> {
  /** A source over one configured entry; opens nothing until connect(). */
  create(name: string, config: C): Source;
  /** What `viewgate check` suggests for driver messages only this store gives, beside the shared hints. */
  hints?: readonly StoreHint[];
}

export interface StoreHint {
  test: RegExp;
  next: string;
}
