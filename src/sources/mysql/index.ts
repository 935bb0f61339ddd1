// The MariaDB/MySQL store: tables, columns, keys and comments are read from its catalog.
import { z } from 'zod';
import { duration, poolSize, storeUrl } from '../../config/schema.js';
import type { StoreConfig } from '../../config/stores.js';
import type { StoreDescriptor } from '../store.js';
import { MysqlSource } from './source.js';
import { storeTls } from '../../config/tls.js';

const config = z.strictObject({
  kind: z.literal('mysql'),
  url: storeUrl,
  timeout: duration.default(30_000),
  pool: poolSize,
  description: z.string().optional(),
  tls: storeTls.optional(),
});

export type MysqlConfig = z.infer<typeof config>;

export function isMysqlConfig(c: StoreConfig): c is MysqlConfig {
  return c.kind === 'mysql';
}

export const mysql: StoreDescriptor<MysqlConfig> = {
  kind: 'mysql',
  config,
  capabilities: { hubHost: false, auditSink: false },
  create: (name, c) => new MysqlSource({ name, url: c.url, timeoutMs: c.timeout, pool: c.pool, tls: c.tls }),
};
