// The MongoDB store: collections and their columns are declared in config (MongoDB has no schema
// to read). Runs on MongoDB and on FerretDB.
import { z } from 'zod';
import { duration, poolSize, storeUrl } from '../../config/schema.js';
import { COLUMN_TYPES } from '../../values.js';
import type { StoreConfig } from '../../config/stores.js';
import type { StoreDescriptor } from '../store.js';
import { MongoSource } from './source.js';
import { storeTls } from '../../config/tls.js';

const column = z.strictObject({
  type: z.enum(COLUMN_TYPES),
  path: z.string().min(1).optional(),
  onTypeMismatch: z.enum(['error', 'null']).default('error'),
  description: z.string().optional(),
});

const config = z.strictObject({
  kind: z.literal('mongodb'),
  url: storeUrl,
  database: z.string().min(1),
  timeout: duration.default(30_000),
  pool: poolSize,
  description: z.string().optional(),
  tls: storeTls.optional(),
  collections: z.record(z.string(), z.strictObject({ description: z.string().optional(), columns: z.record(z.string(), column) })),
});

export type MongoConfig = z.infer<typeof config>;

export function isMongoConfig(c: StoreConfig): c is MongoConfig {
  return c.kind === 'mongodb';
}

export const mongodb: StoreDescriptor<MongoConfig> = {
  kind: 'mongodb',
  config,
  declaredTables: (c) => Object.keys(c.collections),
  capabilities: { hubHost: false, auditSink: false },
  create: (name, c) =>
    new MongoSource({ name, url: c.url, database: c.database, timeoutMs: c.timeout, pool: c.pool, collections: c.collections, tls: c.tls }),
};
