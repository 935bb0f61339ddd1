// The embedded engine starts no store query once its request is cancelled: over two SQLite files
// (real stores, in process), a bind join sends its keys in batches of two, one at a time; the
// request is cancelled as soon as the first batch has been answered, and no other batch is sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { ApiError } from '../../src/errors.js';
import { executePlan } from '../../src/engine/embedded/execute.js';
import { buildEmbeddedView, type EmbeddedEngine } from '../../src/engine/embedded/index.js';
import type { EngineQuery, View } from '../../src/engine/view.js';
import type { Pushdown } from '../../src/query/predicate.js';
import { Sources } from '../../src/sources/index.js';
import type { ReadOptions, Source } from '../../src/sources/source.js';

const FAMILY_SQL = 'SELECT p.id, p.tag, c.v FROM a.parents p JOIN b.children c ON c.parent_id = p.id';
const dir = mkdtempSync(join(tmpdir(), 'vg-embedded-cancel-'));
let config: Config;
let sources: Sources;
let view: View;

beforeAll(async () => {
  const parents = new Database(join(dir, 'parents.db'));
  parents.exec('CREATE TABLE parents (id INTEGER PRIMARY KEY, tag TEXT NOT NULL)');
  for (let id = 1; id <= 10; id++) parents.prepare('INSERT INTO parents VALUES (?, ?)').run(id, 'x');
  parents.close();
  const children = new Database(join(dir, 'children.db'));
  children.exec('CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL, v TEXT NOT NULL)');
  for (let id = 1; id <= 10; id++) children.prepare('INSERT INTO children VALUES (?, ?, ?)').run(id, id, `v${id}`);
  children.close();
  config = parseConfig(
    `
engine: { batchSize: 2, concurrency: 1 }
sources:
  a: { kind: sqlite, path: ${join(dir, 'parents.db')} }
  b: { kind: sqlite, path: ${join(dir, 'children.db')} }
services:
  fed:
    engine: embedded
    views:
      family: { sql: "${FAMILY_SQL}" }
roles: {}
`,
    join(dir, 'viewgate.yaml'),
    {},
  );
  sources = new Sources(config);
  view = await buildEmbeddedView({ service: 'fed', name: 'family', view: { sql: FAMILY_SQL }, config, sources });
});

afterAll(async () => {
  await sources?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The sources, recording each scan they are sent (by table) and calling `answered` once one was answered. */
function watched(sent: string[], answered: () => void = () => {}): (name: string) => Source {
  return (name) => {
    const inner = sources.get(name);
    return Object.assign(Object.create(inner) as Source, {
      scan: async (table: string, pushdown: Pushdown, options?: ReadOptions) => {
        sent.push(table);
        const result = await inner.scan(table, pushdown, options);
        answered();
        return result;
      },
    });
  };
}

const query: EngineQuery = {
  columns: ['id', 'tag', 'v'],
  where: { op: 'cmp', column: 'tag', cmp: '=', value: 'x' },
  orderBy: [{ column: 'id', desc: false }],
  limit: 100,
  offset: 0,
  count: false,
};

describe('a cancelled embedded query', () => {
  it('sends no further batch once cancelled', async () => {
    const plan = (view.engine as EmbeddedEngine).plan(query);
    expect(plan.units[1]!.bind).toMatchObject({ fromUnit: 0 });

    // Not cancelled: the parents, then their ten keys in five batches.
    const all: string[] = [];
    const done = await executePlan(plan, watched(all));
    expect(done.result.rows).toHaveLength(10);
    expect(all).toEqual(['parents', ...Array<string>(5).fill('children')]);

    // Cancelled once the first batch is answered.
    const sent: string[] = [];
    const cancel = new AbortController();
    const afterFirstBatch = () => {
      if (sent.includes('children')) cancel.abort();
    };
    const err = await executePlan(plan, watched(sent, afterFirstBatch), { signal: cancel.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('request_cancelled');
    expect(sent).toEqual(['parents', 'children']);
  });

  it('sends nothing when cancelled before it starts', async () => {
    const sent: string[] = [];
    const cancel = new AbortController();
    cancel.abort();
    const plan = (view.engine as EmbeddedEngine).plan(query);
    const err = await executePlan(plan, watched(sent), { signal: cancel.signal }).catch((e: unknown) => e);
    expect((err as ApiError).kind).toBe('request_cancelled');
    expect(sent).toEqual([]);
  });
});
