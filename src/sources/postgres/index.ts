// The PostgreSQL store: tables, columns, keys and comments are read from its catalog.
import { z } from 'zod';
import { duration, poolSize, storeUrl } from '../../config/schema.js';
import type { StoreConfig } from '../../config/stores.js';
import type { StoreDescriptor } from '../store.js';
import { PostgresSource } from './source.js';

const config = z.strictObject({
  kind: z.literal('postgres'),
  url: storeUrl,
  timeout: duration.default(30_000),
  pool: poolSize,
  /** Every read carries the caller's claims and role (docs/security.md, "Identity passthrough"). */
  passthrough: z.boolean().default(false),
  description: z.string().optional(),
});

export type PostgresConfig = z.infer<typeof config>;

export function isPostgresConfig(c: StoreConfig): c is PostgresConfig {
  return c.kind === 'postgres';
}

export const postgres: StoreDescriptor<PostgresConfig> = {
  kind: 'postgres',
  config,
  capabilities: { hubHost: true, auditSink: true },
  create: (name, c) => new PostgresSource({ name, url: c.url, timeoutMs: c.timeout, pool: c.pool, passthrough: c.passthrough }),
};
