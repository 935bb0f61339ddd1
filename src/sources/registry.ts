// The registered stores (listed in src/sources/stores.ts). Importing this module registers each
// store's config schema with the config loader (src/config/stores.ts).
import { registerStoreConfig } from '../config/stores.js';
import type { StoreDescriptor } from './store.js';
import * as listed from './stores.js';

/** By kind, in code-point order (a module namespace lists its exports so). */
export const STORES: readonly StoreDescriptor[] = Object.values(listed);

for (const store of STORES) registerStoreConfig(store);

export function storeDescriptor(kind: string): StoreDescriptor {
  const store = STORES.find((s) => s.kind === kind);
  if (!store) throw new Error(`unknown store kind "${kind}"`);
  return store;
}
