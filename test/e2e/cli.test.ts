// The CLI as a user runs it: the built bin, real processes, real stores.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createReferenceStores, REFERENCE_CONFIG, type ReferenceStores } from '../support/reference.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;

async function viewgate(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err: any) {
    return { code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string };
  }
}

let stores: ReferenceStores;
beforeAll(async () => {
  stores = await createReferenceStores('cli');
});
afterAll(async () => {
  await stores?.drop();
});

describe('viewgate CLI', () => {
  it('prints help', async () => {
    const r = await viewgate(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('viewgate check');
    expect(r.stdout).toContain('viewgate serve');
  });

  it('check passes on the reference scenario, one line per source and view', async () => {
    const r = await viewgate(['check', '--config', REFERENCE_CONFIG], stores.env);
    expect(r.stdout).toMatch(/^source  ok    crm\s+mysql$/m);
    expect(r.stdout).toMatch(/^source  ok    app\s+postgres$/m);
    expect(r.stdout).toMatch(/^source  ok    analytics\s+mongodb$/m);
    expect(r.stdout).toMatch(/^view    ok    crm\.customers\s+6 columns, key \(customer_id\)$/m);
    expect(r.stdout).toMatch(/^view    ok    analytics\.events\s+6 columns, key \(_id\)$/m);
    expect(r.code).toBe(0);
  });

  it('check names an unreachable store and a missing table, one line each, and fails', async () => {
    const r = await viewgate(['check', '--config', REFERENCE_CONFIG], {
      ...stores.env,
      APP_PG_URL: 'postgres://postgres:hunter2@127.0.0.1:1/nothing',
      CRM_MYSQL_URL: stores.env.CRM_MYSQL_URL!.replace(/vg_test_[^/]*$/, 'vg_test_missing_db'),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^source  FAIL  app\s+postgres: .*app/m);
    expect(r.stdout).toMatch(/^view    FAIL  app\.orders\s+.+/m);
    expect(r.stdout).toMatch(/^view    FAIL  crm\.customers\s+.+/m);
    expect(r.stdout).not.toContain('hunter2');
  });

  it('check lists every config problem with its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'sources:\n  a: { kind: postgres, url: "postgres://x/y", pool: 0 }\nservices: {}\nroles:\n  r: { grants: {}, extra: 1 }\n',
    );
    const r = await viewgate(['check', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('sources.a.pool (line 2)');
    expect(r.stdout).toContain('roles.r (line 5): unknown key "extra"');
  });

  it('check flags a row filter naming a column the view does not have', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-cli-'));
    const file = join(dir, 'rf.yaml');
    const { readFileSync } = await import('node:fs');
    writeFileSync(
      file,
      readFileSync(REFERENCE_CONFIG, 'utf8').replace(
        'rowFilter: "tenant_id = {claims.tenant_id}"\n        maxLimit: 100',
        'rowFilter: "tenant = {claims.tenant_id}"\n        maxLimit: 100',
      ),
    );
    const r = await viewgate(['check', '--config', file], stores.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^policy  FAIL  roles\.external\.grants\.federation\.unified_customer_activity\.rowFilter\s+names "tenant"/m);
  });

  it('VIEWGATE_CONFIG replaces --config, and a missing config says what to do', async () => {
    const ok = await viewgate(['check'], { ...stores.env, VIEWGATE_CONFIG: REFERENCE_CONFIG });
    expect(ok.code).toBe(0);
    const none = await viewgate(['check'], { VIEWGATE_CONFIG: '' });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('--config FILE');
  });

  it('token signs an HS256 JWT with role and claims, and refuses unknown roles', async () => {
    const r = await viewgate(
      ['token', '--config', REFERENCE_CONFIG, '--role', 'external', '--claim', 'tenant_id=t2', '--ttl', '10m'],
      stores.env,
    );
    expect(r.code).toBe(0);
    const claims = decodeJwt(r.stdout.trim());
    expect(claims).toMatchObject({ roles: ['external'], tenant_id: 't2', iss: 'viewgate-demo', aud: 'viewgate' });
    expect(claims.exp! - claims.iat!).toBe(600);
    const bad = await viewgate(['token', '--config', REFERENCE_CONFIG, '--role', 'root'], stores.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown role "root"');
  });
});

describe('viewgate explain', () => {
  it('prints the plan, every native query and the rows fetched per store', async () => {
    const r = await viewgate(
      ['explain', '--config', REFERENCE_CONFIG, 'federation.unified_customer_activity', '--filter', 'customer_id = 4'],
      stores.env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[crm\]/);
    expect(r.stdout).toMatch(/\[app\]/);
    expect(r.stdout).toMatch(/\[analytics\]/);
    expect(r.stdout).toMatch(/rows fetched per store: .*crm=1/);
  });

  it('names the views when the view does not exist', async () => {
    const r = await viewgate(['explain', '--config', REFERENCE_CONFIG, 'federation.nope'], stores.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('federation.unified_customer_activity');
  });
});
