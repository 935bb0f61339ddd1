// The console's configuration (docs/console.md, "Single sign-on") as the loader reads it: strict
// keys, the session secret's length, an http:// issuer only on loopback; and where a browser may
// land after signing in (src/admin/next-path.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { safeNext } from '../../src/admin/next-path.js';

const env = {
  CRM_MYSQL_URL: 'mysql://u:p@db:3306/crm',
  APP_PG_URL: 'postgres://u:p@db:5432/app',
  EVENTS_MONGO_URL: 'mongodb://db:27017/',
  VIEWGATE_HASH_SECRET: 's3cret',
};
const fixture = parse(readFileSync(new URL('../fixtures/spec-config.yaml', import.meta.url), 'utf8'));
const SECRET = 'x'.repeat(32);

function load(admin: unknown) {
  const c = structuredClone(fixture);
  c.admin = admin;
  return parseConfig(stringify(c), 'test.yaml', env);
}

function problems(admin: unknown): string {
  try {
    load(admin);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the config loaded');
}

const oidc = (issuer: string) => ({ issuer, clientId: 'c', redirectUrl: 'http://127.0.0.1:8080/admin/callback' });

describe('admin configuration', () => {
  it('applies the defaults: scopes openid profile email, roleClaim roles, an empty client secret is a public client', () => {
    const c = load({ roles: ['platform-admin'], sessionSecret: SECRET, oidc: { ...oidc('https://idp.example.com/'), clientSecret: '' } });
    expect(c.admin).toEqual({
      roles: ['platform-admin'],
      sessionSecret: SECRET,
      oidc: {
        issuer: 'https://idp.example.com/',
        clientId: 'c',
        redirectUrl: 'http://127.0.0.1:8080/admin/callback',
        scopes: ['openid', 'profile', 'email'],
        roleClaim: 'roles',
      },
    });
  });

  it('refuses unknown keys, at every level', () => {
    expect(problems({ roles: ['a'], sessionSecret: SECRET, sessionTtl: '1h' })).toMatch(/admin.*sessionTtl/s);
    expect(problems({ roles: ['a'], sessionSecret: SECRET, oidc: { ...oidc('https://idp.example.com/'), clientSecrt: 'x' } })).toMatch(
      /admin\.oidc.*clientSecrt/s,
    );
  });

  it('refuses a short session secret and an empty role list', () => {
    expect(problems({ roles: ['a'], sessionSecret: 'short' })).toContain('at least 32 characters');
    expect(problems({ roles: [], sessionSecret: SECRET })).toMatch(/admin\.roles/);
  });

  it('refuses a redirect URL that is not the /admin/callback address', () => {
    const wrong = { ...oidc('https://idp.example.com/'), redirectUrl: 'https://console.example.org/callback' };
    expect(problems({ roles: ['a'], sessionSecret: SECRET, oidc: wrong })).toMatch(/redirectUrl.*\/admin\/callback/s);
    const proxied = { ...oidc('https://idp.example.com/'), redirectUrl: 'https://example.org/viewgate/admin/callback' };
    expect(load({ roles: ['a'], sessionSecret: SECRET, oidc: proxied }).admin?.oidc?.redirectUrl).toBe(proxied.redirectUrl);
  });

  it('accepts an http:// issuer only on a loopback address', () => {
    for (const issuer of ['http://127.0.0.1:9000', 'http://localhost:9000/realms/x', 'http://[::1]:9000']) {
      expect(load({ roles: ['a'], sessionSecret: SECRET, oidc: oidc(issuer) }).admin?.oidc?.issuer).toBe(issuer);
    }
    for (const issuer of ['http://idp.example.com/', 'http://10.0.0.1/', 'http://127.0.0.1.evil.example/']) {
      expect(problems({ roles: ['a'], sessionSecret: SECRET, oidc: oidc(issuer) })).toContain('loopback');
    }
  });
});

describe('where a browser lands after signing in', () => {
  it.each([
    ['/admin', '/admin'],
    ['/admin/roles?view=a.b', '/admin/roles?view=a.b'],
    ['/admin/views#x', '/admin/views'],
    ['https://evil.example/admin', '/admin'],
    ['//evil.example/admin', '/admin'],
    ['/\\evil.example', '/admin'],
    ['/admin/../api/v2', '/admin'],
    ['/admin/%2e%2e/api', '/admin'],
    ['/administrator', '/admin'],
    ['/admin/login?next=https://evil.example', '/admin'],
    ['/admin\n/x', '/admin'],
    ['', '/admin'],
    [undefined, '/admin'],
    [['/admin/a', '/admin/b'], '/admin'],
  ])('%j -> %s', (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});
