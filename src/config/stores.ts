// The store kinds the configuration accepts, registered by src/sources/registry.ts. The config
// layer knows a store only by what its descriptor registers here: the schema of its `sources`
// entry and what the load-time checks ask of it. It never names a kind itself.
import type { z } from 'zod';

/** What every `sources` entry has, whatever its kind. */
export interface StoreConfig {
  kind: string;
  description?: string;
  /** Whether every read carries the caller's identity into the store (a kind whose schema has the key). */
  passthrough?: boolean;
  /** Per role, the URL its queries connect with instead of `url` (any kind with a `url`). */
  roleUrls?: Record<string, string>;
}

export interface StoreConfigSpec<C extends StoreConfig = StoreConfig> {
  kind: string;
  /** The schema of one `sources` entry of this kind (a strict object with `kind` as a literal). */
  config: z.ZodType<C, unknown>;
  /**
   * The tables a source of this kind declares in its config (MongoDB's collections), or undefined
   * when it serves whatever tables the store has.
   */
  declaredTables?(config: C): readonly string[] | undefined;
  capabilities: {
    /** Can be the PostgreSQL hub of an `engine: hub` service. */
    hubHost: boolean;
    /** Can hold the audit table of `audit.sink: postgres`. */
    auditSink: boolean;
  };
}

const specs = new Map<string, StoreConfigSpec>();

export function registerStoreConfig(spec: StoreConfigSpec): void {
  if (specs.has(spec.kind)) throw new Error(`store kind "${spec.kind}" is registered twice`);
  specs.set(spec.kind, spec);
}

export function storeConfigSpec(kind: string): StoreConfigSpec | undefined {
  return specs.get(kind);
}

export function storeKinds(): string[] {
  if (specs.size === 0) throw new Error('no store kinds are registered: import src/sources/registry.ts before loading a configuration');
  return [...specs.keys()];
}
