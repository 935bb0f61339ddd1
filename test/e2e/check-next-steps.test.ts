// `viewgate check` as a new user meets it: a typo in a service names the key, a MongoDB that
// cannot be reached fails its views, and every store failure says what to do next.
import type { MongoConfig } from '../../src/sources/mongodb/index.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/commands/check.js';
import { nextStep } from '../../src/commands/check-hints.js';
import { parseConfig } from '../../src/config/load.js';
import { createReferenceStores, referenceConfig, type ReferenceStores } from '../support/reference.js';
import { MYSQL_URL, PG_URL, withDatabase } from '../support/stores.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;

let stores: ReferenceStores;
beforeAll(async () => {
  stores = await createReferenceStores('checknext');
});
afterAll(async () => {
  await stores?.drop();
});

/** The line of `check` output that starts with `prefix` (e.g. `view    FAIL  analytics.events`). */
function line(lines: string[], prefix: RegExp): string {
  const found = lines.find((l) => prefix.test(l));
  if (!found) throw new Error(`no line matching ${prefix} in:\n${lines.join('\n')}`);
  return found;
}

describe('viewgate check', () => {
  it('names an unknown key in a service, with the service path and the key it resembles', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-check-'));
    const file = join(dir, 'typo.yaml');
    writeFileSync(
      file,
      [
        'sources:',
        `  crm: { kind: mysql, url: "${MYSQL_URL}" }`,
        'services:',
        '  crm:',
        '    source: crm',
        '    tabels: [customers]',
        'roles:',
        '  r: { grants: {} }',
        '',
      ].join('\n'),
    );
    const r = await run(process.execPath, [BIN, 'check', '--config', file], { timeout: 60_000 }).then(
      (x) => ({ code: 0, stdout: x.stdout }),
      (err: any) => ({ code: err.code as number, stdout: String(err.stdout) }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/services\.crm \(line 6\): unknown key "tabels" \(did you mean "tables"\?\)/);
    // Not the generic "either tables or views" message that fits neither kind of service.
    expect(r.stdout).not.toContain('a service has either');
  });

  it('an unknown key in a view service is named too', () => {
    let message = '';
    try {
      parseConfig('sources: {}\nservices:\n  fed:\n    engine: embedded\n    veiws: {}\nroles: {}\n');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/services\.fed \(line 5\): unknown key "veiws" \(did you mean "views"\?\)/);
    try {
      parseConfig('sources: {}\nservices:\n  crm:\n    source: crm\n    tables: [{ name: customers, descripton: x }]\nroles: {}\n');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('services.crm.tables.0 (line 5): unknown key "descripton"');
  });

  it('fails the views of a MongoDB that cannot be reached, and says what to do', async () => {
    const config = referenceConfig({ ...stores.env, EVENTS_MONGO_URL: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500' }, (yaml) =>
      yaml.replace('timeout: 5s\n    collections:', 'timeout: 1s\n    collections:'),
    );
    expect((config.sources.analytics as MongoConfig).timeout).toBe(1000);
    const report = await runCheck(config);
    expect(report.ok).toBe(false);
    expect(line(report.lines, /^source  FAIL  analytics /)).toMatch(
      /ECONNREFUSED.* -> .*is the server running\? Check host:port in the url/,
    );
    expect(line(report.lines, /^view    FAIL  analytics\.events /)).toMatch(/reads source "analytics", which cannot be reached/);
    expect(line(report.lines, /^view    FAIL  federation\.unified_customer_activity /)).toMatch(/"analytics"/);
    // Views of the stores that are up still pass.
    expect(line(report.lines, /^view    \w+ +crm\.customers /)).toMatch(/^view    ok /);
    expect(line(report.lines, /^view    \w+ +app\.orders /)).toMatch(/^view    ok /);
  });

  it('suggests a next step for a refused connection, a refused login and an unknown database', async () => {
    const config = referenceConfig({
      ...stores.env,
      APP_PG_URL: withDatabase(PG_URL, 'vg_test_no_such_database'),
      CRM_MYSQL_URL: 'mysql://vg_no_such_user:wrong@127.0.0.1:3306/test',
    });
    const report = await runCheck(config);
    expect(line(report.lines, /^source  FAIL  app /)).toMatch(
      /vg_test_no_such_database.* -> the database does not exist: create it, or fix its name in the url/,
    );
    expect(line(report.lines, /^source  FAIL  crm /)).toMatch(
      /Access denied.* -> the store refused the login: check the user and password in the url/,
    );
    expect(line(report.lines, /^source  FAIL  crm /)).not.toContain('wrong');

    const refused = await runCheck(referenceConfig({ ...stores.env, APP_PG_URL: 'postgres://postgres@127.0.0.1:1/app' }));
    expect(line(refused.lines, /^source  FAIL  app /)).toMatch(/ECONNREFUSED.* -> nothing answers at that host and port/);
    expect(line(refused.lines, /^view    FAIL  app\.orders /)).toMatch(/ -> nothing answers at that host and port/);

    const unknownDb = await runCheck(
      referenceConfig({ ...stores.env, CRM_MYSQL_URL: withDatabase(MYSQL_URL, 'vg_test_no_such_database') }),
    );
    expect(line(unknownDb.lines, /^source  FAIL  crm /)).toMatch(/Unknown database.* -> the database does not exist/);
  });

  it('a federated view over a missing table says to create it or fix its name', async () => {
    const report = await runCheck(referenceConfig(stores.env, (yaml) => yaml.replace('FROM crm.customers c', 'FROM crm.no_such_table c')));
    expect(line(report.lines, /^view    FAIL  federation\.unified_customer_activity /)).toMatch(
      /table "no_such_table" does not exist -> the table does not exist: create it, or fix its name in the config/,
    );
  });

  it("recognises the drivers' timeout messages", () => {
    for (const m of [
      'store "a" is unavailable: Server selection timed out after 500 ms',
      'store "a" is unavailable: connect ETIMEDOUT 10.0.0.1:5432 [ETIMEDOUT]',
      'store "a" is unavailable: Connection terminated due to connection timeout',
    ]) {
      expect(nextStep(m)).toMatch(/did not answer in time.*raise the source's `timeout`/);
    }
    expect(nextStep('store "a" failed: syntax error at or near "x"')).toBeUndefined();
  });
});
