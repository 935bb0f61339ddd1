// The stores viewgate speaks: one line per store folder. Importing this module registers each
// store's config schema with the config loader (src/config/stores.ts).
import { registerStoreConfig } from '../config/stores.js';
import type { StoreDescriptor } from './store.js';
import { postgres } from './postgres/index.js';
import { mysql } from './mysql/index.js';
import { mongodb } from './mongodb/index.js';
import { sqlite } from './sqlite/index.js';

export const STORES: readonly StoreDescriptor[] = [postgres, mysql, mongodb, sqlite];

for (const store of STORES) registerStoreConfig(store);

export function storeDescriptor(kind: string): StoreDescriptor {
  const store = STORES.find((s) => s.kind === kind);
  if (!store) throw new Error(`unknown store kind "${kind}"`);
  return store;
}
