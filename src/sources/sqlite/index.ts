// The SQLite store: one database file, opened read-only; tables, views and columns are read from
// its catalog.
import { resolve } from 'node:path';
import { z } from 'zod';
import { duration } from '../../config/schema.js';
import type { StoreDescriptor } from '../store.js';
import { SqliteSource } from './source.js';

const config = z.strictObject({
  kind: z.literal('sqlite'),
  /** The database file; a relative path is resolved against the process's working directory. */
  path: z.string().min(1, 'the path of the SQLite file is empty (is its environment variable set?)'),
  /** How long a query waits for a writer's lock on the file (SQLite's busy timeout). */
  timeout: duration.default(5_000),
  description: z.string().optional(),
});

type SqliteConfig = z.infer<typeof config>;

export const sqlite: StoreDescriptor<SqliteConfig> = {
  kind: 'sqlite',
  config,
  capabilities: { hubHost: false, auditSink: false },
  hints: [
    {
      test: /unable to open database file|directory does not exist|SQLITE_CANTOPEN/,
      next: 'the SQLite file cannot be opened: check `path` (a relative path is resolved against the working directory), that the file exists and that this process may read it',
    },
    {
      test: /file is not a database|SQLITE_NOTADB/,
      next: 'the file at `path` is not an SQLite database (or is encrypted): check `path`',
    },
    {
      test: /database is locked|SQLITE_BUSY/,
      next: "a writer held the SQLite file's lock for longer than the source's `timeout`: raise it, or make the writer's transactions shorter",
    },
  ],
  create: (name, c) => new SqliteSource({ name, path: resolve(c.path), timeoutMs: c.timeout }),
};
