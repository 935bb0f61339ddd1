// `viewgate contract snapshot | check` as a user runs them (docs/contracts.md): the built CLI, real
// PostgreSQL, MariaDB and MongoDB (FerretDB) in databases of this file's own, ALTER TABLE between
// the snapshot and the check, and every change classified as the contract rules say.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlExec, pgExec } from '../support/stores.js';
import { createContractStores, writeContractConfig, type ContractStores } from '../support/contract-fixture.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;

async function viewgate(args: string[]) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err: any) {
    return { code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string };
  }
}

let s: ContractStores;
let config: string;
let file: string;
beforeAll(async () => {
  s = await createContractStores('contract_cli');
  config = writeContractConfig(s, 'viewgate.yaml');
  file = join(s.dir, 'viewgate.contract.json');
}, 60_000);
afterAll(async () => {
  await s?.drop();
});

/** The lines of a check's text report that name this view (and role, when given). */
function linesFor(stdout: string, view: string, role?: string): string[] {
  return stdout.split('\n').filter((l) => l.includes(`view ${view}${role ? `, role ${role}` : ':'}`));
}

describe('viewgate contract', () => {
  it('snapshot writes every view and what each role sees, in a stable order', async () => {
    const r = await viewgate(['contract', 'snapshot', '--config', config, '--out', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote .*viewgate\.contract\.json: 5 views, 2 roles/);
    const first = readFileSync(file, 'utf8');
    const c = JSON.parse(first);
    expect(c.format).toBe('viewgate-contract/1');
    expect(c.views['pgs.items'].key).toEqual(['id']);
    expect(c.views['pgs.items'].columns).toContainEqual({ name: 'price', type: 'numeric', storeType: 'numeric(12,2)' });
    expect(c.views['mys.things'].columns).toContainEqual({ name: 'flag', type: 'bool', storeType: 'tinyint(1)' });
    expect(c.views['mgs.events'].columns.map((x: { name: string }) => x.name)).toEqual(['_id', 'kind', 'ts']);
    expect(c.views['mys.old_things'].deprecated).toEqual({ since: '2020-01-01', sunset: '2021-01-01', successor: 'mys.things' });
    const partner = c.roles.partner;
    expect(Object.keys(partner.views)).toEqual(['mys.things', 'pgs.items']); // old_things is past its sunset
    expect(partner.views['pgs.items']).toEqual({
      grant: 'pgs.items',
      maxLimit: 50,
      columns: [
        { name: 'id', type: 'int', masked: false, filterable: true },
        { name: 'name', type: 'text', masked: true, mask: 'email', filterable: false },
        { name: 'price', type: 'numeric', masked: false, filterable: true },
      ],
      rights: { read: true, aggregate: false, sql: false, export: false, explain: false },
    });
    expect(partner.mcpTools).toEqual(['describe_view', 'list_views', 'query_view']);
    expect(c.roles.internal.mcpTools).toEqual(['aggregate_view', 'describe_view', 'list_views', 'query_view']);
    expect(partner.restOperations).toContain('GET /api/v2/pgs/_table/items');
    expect(partner.restOperations).toContain('GET /api/v2/pgs/_table/items/{id}');
    expect(partner.restOperations).not.toContain('GET /api/v2/mgs/_table/events');
    // A second snapshot of the same state is byte for byte the same file.
    expect((await viewgate(['contract', 'snapshot', '--config', config, '--out', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(first);
  });

  it('check finds nothing when nothing changed, and a document type change in MongoDB changes no contract', async () => {
    // MongoDB has no schema: a document whose field changed type is handled per row (coerced or an
    // error naming collection, field and _id), while the declared columns stay the contract.
    await s.mongo
      .db(s.mongoDb)
      .collection('events')
      .updateOne({ _id: 'e2' } as never, { $set: { ts: 'not a date', kind: 42 } });
    const r = await viewgate(['contract', 'check', '--config', config, '--contract', file]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`no changes: the live contract matches ${file}\n`);
    expect(r.code).toBe(0);
  });

  it('check: a MariaDB type change out of the value model alone is BREAKING (exit 1), a widen beside it compatible; reverted, nothing is left', async () => {
    await mysqlExec(s.mysqlUrl, 'ALTER TABLE things MODIFY amount double, MODIFY flag int, MODIFY label varchar(200)');
    const r = await viewgate(['contract', 'check', '--config', config, '--contract', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      // The federated view reads label too, unchanged from the store.
      'compatible  view fed.joined: column "label" store type varchar(50) -> varchar(200) (same value-model type text)',
      'compatible  view mys.things: column "label" store type varchar(50) -> varchar(200) (same value-model type text)',
      'BREAKING    view mys.things: column "amount" changed type from numeric to float',
      'BREAKING    view mys.things: column "flag" changed type from bool to int',
      `2 breaking, 2 compatible changes against ${file}`,
      '',
    ]);
    await mysqlExec(s.mysqlUrl, 'ALTER TABLE things MODIFY amount decimal(10,2), MODIFY flag tinyint(1), MODIFY label varchar(50)');
    const back = await viewgate(['contract', 'check', '--config', config, '--contract', file]);
    expect(back.stdout).toBe(`no changes: the live contract matches ${file}\n`);
    expect(back.code).toBe(0);
  });

  it('check classifies ALTER TABLE in PostgreSQL and MariaDB, config changes and MongoDB declarations', async () => {
    await pgExec(
      s.pgUrl,
      `ALTER TABLE items ALTER COLUMN price TYPE numeric(14,2);
       ALTER TABLE items RENAME COLUMN note TO remark;
       ALTER TABLE items DROP COLUMN qty;
       ALTER TABLE items ALTER COLUMN created_at TYPE text;
       ALTER TABLE items ADD COLUMN extra int`,
    );
    await mysqlExec(
      s.mysqlUrl,
      `ALTER TABLE things MODIFY amount decimal(14,2);
       ALTER TABLE things MODIFY n decimal(20,0);
       ALTER TABLE things MODIFY m bigint;
       ALTER TABLE things DROP COLUMN flag;
       ALTER TABLE things CHANGE label title varchar(50)`,
    );
    // The declared type of a MongoDB field changed in the config.
    const changed = writeContractConfig(s, 'changed.yaml', { tsType: 'text' });
    const r = await viewgate(['contract', 'check', '--config', changed, '--contract', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const out = r.stdout;
    // PostgreSQL
    expect(linesFor(out, 'pgs.items')).toEqual(
      expect.arrayContaining([
        'compatible  view pgs.items: column "price" store type numeric(12,2) -> numeric(14,2) (same value-model type numeric)',
        'BREAKING    view pgs.items: column "qty" removed (or renamed)',
        'BREAKING    view pgs.items: column "note" removed (or renamed)',
        'BREAKING    view pgs.items: column "created_at" changed type from timestamptz to text',
        'compatible  view pgs.items: column "remark" added (text)',
        'compatible  view pgs.items: column "extra" added (int)',
      ]),
    );
    // A column gone from the view is told once, not again for each role that saw it.
    expect(linesFor(out, 'pgs.items', 'internal').join('\n')).not.toContain('"qty"');
    // MariaDB
    expect(linesFor(out, 'mys.things')).toEqual(
      expect.arrayContaining([
        'compatible  view mys.things: column "amount" store type decimal(10,2) -> decimal(14,2) (same value-model type numeric)',
        'compatible  view mys.things: column "n" changed type from int to numeric',
        'compatible  view mys.things: column "m" store type int(11) -> bigint(20) (same value-model type int)',
        'BREAKING    view mys.things: column "flag" removed (or renamed)',
        'BREAKING    view mys.things: column "label" removed (or renamed)',
        'compatible  view mys.things: column "title" added (text)',
      ]),
    );
    // The federated view reads the renamed column: it no longer builds.
    expect(linesFor(out, 'fed.joined')).toEqual([
      expect.stringMatching(/^BREAKING {4}view fed\.joined: no longer builds from its sources: .*label/),
    ]);
    // MongoDB: the declared type changed.
    expect(linesFor(out, 'mgs.events')).toEqual(['BREAKING    view mgs.events: column "ts" changed type from timestamptz to text']);
    expect(out).toMatch(/^\d+ breaking, \d+ compatible changes against .*viewgate\.contract\.json$/m);

    const j = await viewgate(['contract', 'check', '--config', changed, '--contract', file, '--format', 'json']);
    expect(j.code).toBe(1);
    const report = JSON.parse(j.stdout);
    expect(report.ok).toBe(false);
    expect(report.changes).toContainEqual({
      severity: 'breaking',
      view: 'pgs.items',
      role: null,
      change: 'column "qty" removed (or renamed)',
    });
    expect(report.summary.breaking).toBe(report.changes.filter((c: { severity: string }) => c.severity === 'breaking').length);
    expect(report.summary.breaking + report.summary.compatible).toBe(report.changes.length);
  });

  it('check tells a missing MongoDB collection, and exits 2 naming a store it cannot reach', async () => {
    await s.mongo.db(s.mongoDb).collection('events').drop();
    const r = await viewgate(['contract', 'check', '--config', config, '--contract', file]);
    expect(r.code).toBe(1);
    expect(linesFor(r.stdout, 'mgs.events')).toEqual([
      expect.stringMatching(/^BREAKING {4}view mgs\.events: no longer builds from its sources: .*collection "events" does not exist/),
    ]);
    const down = writeContractConfig(s, 'down.yaml', { pgUrl: 'postgres://postgres:hunter2@127.0.0.1:1/nothing' });
    const d = await viewgate(['contract', 'check', '--config', down, '--contract', file]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/store "pg" cannot be reached/);
    expect(d.stderr).not.toContain('hunter2');
    const missing = await viewgate(['contract', 'check', '--config', config, '--contract', join(s.dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('viewgate contract snapshot');
  });
});
