import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const specEnv = {
  CRM_MYSQL_URL: 'mysql://u:p@db:3306/crm',
  APP_PG_URL: 'postgres://u:p@db:5432/app',
  EVENTS_MONGO_URL: 'mongodb://db:27017/',
  VIEWGATE_HASH_SECRET: 's3cret',
};

function problems(text: string, env: Record<string, string> = specEnv): string[] {
  try {
    parseConfig(text, 'test.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.path}${p.line ? `@${p.line}` : ''}: ${p.message}`);
  }
  return [];
}

describe('config', () => {
  it('loads the configuration reference example verbatim', () => {
    const c = parseConfig(fixture('spec-config.yaml'), 'spec.yaml', specEnv);
    expect(c.sources.crm).toMatchObject({ kind: 'mysql', url: 'mysql://u:p@db:3306/crm', timeout: 5000, pool: 10 });
    expect(c.roles.external!.grants['federation.unified_customer_activity']).toMatchObject({
      read: true,
      maxLimit: 100,
      cacheTtl: 30_000,
      rateLimit: { count: 60, perMs: 60_000 },
    });
    expect(c.redis.url).toBe('');
    expect(c.auth.jwt?.clockSkew).toBe(30_000);
  });

  it('loads the hub service shape', () => {
    const base = parse(fixture('spec-config.yaml'));
    const hub = parse(fixture('spec-hub-services.yaml'));
    base.sources.hub = { kind: 'postgres', url: 'postgres://hub/db' };
    base.services = hub.services;
    base.roles = { internal: { grants: { '*': { read: true } } } };
    base.auth.apiKeys = [];
    delete base.auth.jwt;
    const c = parseConfig(stringify(base), 'hub.yaml', specEnv);
    const svc = c.services.federation as any;
    expect(svc.engine).toBe('hub');
    expect(svc.views.customer_orders.materialize).toEqual({ refresh: '*/5 * * * *', indexes: [['customer_id']] });
  });

  it('substitutes ${NAME} and ${NAME:-default}, and reports unset variables', () => {
    const text = fixture('spec-config.yaml');
    expect(problems(text, { ...specEnv, CRM_MYSQL_URL: '' })).toEqual([
      expect.stringMatching(/^sources\.crm\.url@\d+: environment variable CRM_MYSQL_URL is not set/),
      expect.stringMatching(/^sources\.crm\.url@\d+: the connection URL is empty/),
    ]);
  });

  it('reports every problem at once, with paths and lines, and unknown keys', () => {
    const text = `
sources:
  db: { kind: postgres, url: "postgres://x/y", timout: 5s }
  m: { kind: mongo, url: x }
services:
  s: { source: nope, tables: [t] }
roles:
  r:
    grants:
      s.t: { read: true, masks: { a: sha1 } }
auth:
  apiKeys:
    - { name: k, sha256: abc, role: ghost }
`;
    const p = problems(text);
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sources\.db@3: unknown key "timout"/),
        expect.stringMatching(/^sources\.m\.kind@4: /),
        expect.stringMatching(/^roles\.r\.grants\.s\.t\.masks\.a@10: a mask is one of/),
        expect.stringMatching(/^auth\.apiKeys\.0\.sha256@13: the sha256 of the key/),
      ]),
    );
  });

  it('checks cross references once the shape is valid', () => {
    const text = `
sources:
  db: { kind: postgres, url: "postgres://x/y" }
services:
  s: { source: nope, tables: [t] }
roles:
  r:
    grants:
      s.other: { read: true }
      zz.*: { read: true }
auth:
  apiKeys:
    - { name: k, sha256: "${'a'.repeat(64)}", role: ghost }
  jwt: { secret: x, publicKey: y, algorithms: [none] }
`;
    expect(problems(text)).toEqual([
      expect.stringMatching(/^services\.s\.source@5: unknown source "nope"; sources are: db/),
      expect.stringMatching(/^auth\.apiKeys\.0\.role@13: unknown role "ghost"/),
      expect.stringMatching(/^auth\.jwt@14: give exactly one of/),
      expect.stringMatching(/^auth\.jwt\.algorithms@14: "none" is never allowed/),
      expect.stringMatching(/^roles\.r\.grants\.s\.other@9: service "s" has no view "other"/),
      expect.stringMatching(/^roles\.r\.grants\.zz\.\*@10: unknown service "zz"/),
    ]);
  });

  it('rejects YAML syntax errors with a line', () => {
    expect(problems('sources: {\n  a: [\n')[0]).toMatch(/@\d+: YAML:/);
  });
});

describe('config: nothing parsed and then ignored', () => {
  const base = () => parse(fixture('spec-config.yaml')) as Record<string, any>;

  it('refuses an exemptRoles entry naming a role the config does not have', () => {
    const c = base();
    c.services.federation.views.unified_customer_activity.rowSecurity = {
      filter: 'tenant_id = {claims.tenant_id}',
      exemptRoles: ['internal', 'interal'],
    };
    expect(problems(stringify(c))).toEqual([
      expect.stringContaining('services.federation.views.unified_customer_activity.rowSecurity.exemptRoles.1'),
    ]);
    expect(problems(stringify(c))[0]).toContain('unknown role "interal"');
  });

  it('refuses failClosed without an audit sink', () => {
    const c = base();
    c.audit = { sink: 'off', failClosed: true };
    expect(problems(stringify(c))).toEqual([expect.stringContaining('audit.failClosed')]);
  });

  it('check warns about settings of another audit sink (the reference example lists them all)', async () => {
    const { configWarnings } = await import('../../src/commands/check.js');
    const c = parseConfig(fixture('spec-config.yaml'), 'spec.yaml', specEnv);
    expect(configWarnings(c)).toEqual([
      'audit.path is read only by `sink: file`; the sink is "stdout"',
      'audit.source is read only by `sink: postgres`; the sink is "stdout"',
    ]);
    c.audit = { sink: 'file', path: './a.log', failClosed: false };
    expect(configWarnings(c)).toEqual([]);
  });
});
