// Whether MongoDB writes run in session transactions (docs/writes.md): only a server that both says
// it is a replica set (or mongos) and runs a read inside a transaction gets them. FerretDB 1.x has
// none; started with --repl-set-name it claims a replica set anyway, and must still be treated as a
// server without transactions (its commands refuse the transaction fields).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoSource } from '../../src/sources/mongodb/source.js';
import { freePort } from '../support/private-postgres.js';
import { createMongoDatabase, testDbName } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

const FERRETDB = join(process.env.VG_BIN_DIR ?? join(homedir(), '.cache/viewgate/bin'), 'ferretdb');
const items = { items: { columns: { _id: { type: 'text' as const }, n: { type: 'int' as const } } } };

/** What the source learns from its server before a write. */
async function transactionsOf(src: MongoSource): Promise<boolean> {
  await src.writer.prepare?.();
  return src.writer.transactions;
}

describe('MongoDB session transactions', () => {
  let db: Awaited<ReturnType<typeof createMongoDatabase>>;
  let replSet: { child: ChildProcess; url: string; dir: string };
  const sources: MongoSource[] = [];
  const source = (url: string, database: string): MongoSource => {
    const s = new MongoSource({ name: 'mg', url, database, timeoutMs: 5000, pool: 2, collections: items });
    sources.push(s);
    return s;
  };

  beforeAll(async () => {
    db = await createMongoDatabase('mongo_tx');
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'vg-ferretdb-rs-'));
    const child = spawn(
      FERRETDB,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${dir}/`,
        `--state-dir=${dir}`,
        `--listen-addr=127.0.0.1:${port}`,
        '--telemetry=disable',
        '--debug-addr=127.0.0.1:0',
        '--repl-set-name=rs0',
      ],
      { stdio: 'ignore' },
    );
    const url = `mongodb://127.0.0.1:${port}/?directConnection=true`;
    replSet = { child, url, dir };
    await waitFor(
      async () => {
        const c = new MongoClient(url, { serverSelectionTimeoutMS: 500 });
        try {
          await c.db('admin').command({ ping: 1 });
          return true;
        } catch {
          return undefined;
        } finally {
          await c.close();
        }
      },
      { what: 'FerretDB started with --repl-set-name', timeout: 20_000 },
    );
  });

  afterAll(async () => {
    for (const s of sources) await s.close();
    await db?.drop();
    replSet?.child.kill('SIGTERM');
    if (replSet) rmSync(replSet.dir, { recursive: true, force: true });
  });

  it('a standalone server (FerretDB) has none', async () => {
    const src = source(db.url, db.name);
    await src.connect();
    expect(await transactionsOf(src)).toBe(false);
  });

  it('a server that claims a replica set but refuses transaction fields has none, and its writes still work', async () => {
    const client = new MongoClient(replSet.url);
    try {
      const hello = await client.db('admin').command({ hello: 1 });
      // The case this test is about: the server says it is a replica set with sessions.
      expect(hello.setName).toBe('rs0');
      expect(hello.logicalSessionTimeoutMinutes).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
    const database = testDbName('mongo_tx_rs');
    const src = source(replSet.url, database);
    await src.connect();
    expect(await transactionsOf(src)).toBe(false);
    const id = '65a1b2c3d4e5f60718293a4b';
    const row = await src.writer.run((tx) => tx.insert('items', { _id: id, n: 7 }, ['_id', 'n']), { atomic: false });
    expect(row).toEqual({ _id: id, n: 7n });
    const read = await src.writer.run((tx) => tx.select('items', ['n'], { op: 'cmp', column: '_id', cmp: '=', value: id }), {
      atomic: false,
    });
    expect(read).toEqual([{ n: 7n }]);
  });
});
