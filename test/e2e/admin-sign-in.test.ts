// The console's single sign-on over real HTTP with a real OpenID Connect provider
// (test/support/oidc-provider.ts): sign-in of an admin and of others, the session cookie's flags,
// no session fixation, logout revoking the session, open redirects, CSP and the other headers,
// and session expiry (the clock moved past 8 hours).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { referenceStores } from '../support/reference-server.js';
import { ConfigReloader } from '../../src/reload.js';
import type { Config } from '../../src/config/schema.js';
import { ADMIN_KEY, CookieJar, signIn, startAdminScenario, USERS, type AdminScenario } from '../support/admin-console.js';

const ref = referenceStores('adminsso');
let s: AdminScenario;

beforeAll(async () => {
  s = await startAdminScenario(ref.stores.env);
});
afterAll(async () => {
  await s?.close();
});
afterEach(() => {
  vi.useRealTimers();
});

const sessionCookie = (res: Response) => res.headers.getSetCookie().find((c) => c.startsWith('vg_admin='));

async function session(jar: CookieJar): Promise<Response> {
  return jar.fetch(`${s.srv.url}/admin/api/session`);
}

describe('sign-in through the identity provider', () => {
  it('an admin lands on /admin with a session naming them, its roles and a CSRF token', async () => {
    const { callback, jar } = await signIn(s.srv.url, 'alice');
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/admin');
    const res = await session(jar);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ subject: 'alice', name: USERS.alice!.name, roles: ['platform-admin'] });
    expect(body.csrfToken).toMatch(/^[\w-]{20,}$/);
    const expires = Date.parse(String(body.expiresAt));
    expect(expires - Date.now()).toBeGreaterThan(7.9 * 3600_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(8 * 3600_000);
  });

  it('the session cookie is HttpOnly, SameSite=Lax, scoped to /admin, at most 8 hours, not Secure over plain HTTP', async () => {
    const { callback } = await signIn(s.srv.url, 'alice');
    const cookie = sessionCookie(callback)!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\/admin/);
    expect(cookie).toMatch(/; Max-Age=28800/);
    expect(cookie).not.toMatch(/Secure/);
  });

  it('cookies are Secure when the console is reached over https through a proxy (an https redirect URL)', async () => {
    const original = s.srv.rt.config;
    const proxied = { ...original.admin!, oidc: { ...original.admin!.oidc!, redirectUrl: 'https://console.example.org/admin/callback' } };
    const result = await new ConfigReloader(s.srv.rt, { load: () => ({ ...original, admin: proxied }) }).reload();
    expect(result.applied).toBe(true);
    try {
      const login = await fetch(`${s.srv.url}/admin/login`, { redirect: 'manual' });
      expect(login.status).toBe(302);
      const cookie = login.headers.getSetCookie().find((c) => c.startsWith('vg_admin_login='));
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; HttpOnly/);
    } finally {
      await new ConfigReloader(s.srv.rt, { load: () => original }).reload();
    }
  });

  it('a person without an admin role gets a 403 page and no session', async () => {
    for (const user of ['bob', 'carol']) {
      const { callback, jar } = await signIn(s.srv.url, user);
      expect(callback.status).toBe(403);
      expect(await callback.text()).toContain('none of your roles may open the console');
      expect(sessionCookie(callback)).toBeUndefined();
      expect((await session(jar)).status).toBe(401);
      expect((await jar.fetch(`${s.srv.url}/admin`)).status).toBe(302);
    }
  });

  it('a cookie set before sign-in is never the session after it (no fixation)', async () => {
    const jar = new CookieJar();
    const planted = 'attacker-chosen-session-id';
    jar.set(s.srv.url, 'vg_admin', planted);
    expect((await session(jar)).status).toBe(401);
    const { callback } = await signIn(s.srv.url, 'alice', { jar });
    expect(callback.status).toBe(302);
    const after = jar.get(s.srv.url, 'vg_admin')!;
    expect(after).not.toContain(planted);
    expect((await session(jar)).status).toBe(200);
    // Another browser's sign-in is another session.
    const second = await signIn(s.srv.url, 'alice', { jar: new CookieJar() });
    expect(second.jar.get(s.srv.url, 'vg_admin')).not.toBe(after);
    // Signing in again in this browser ends the session it had.
    await signIn(s.srv.url, 'alice', { jar });
    expect(jar.get(s.srv.url, 'vg_admin')).not.toBe(after);
    expect((await fetch(`${s.srv.url}/admin/api/session`, { headers: { cookie: `vg_admin=${after}` } })).status).toBe(401);
    expect((await session(jar)).status).toBe(200);
  });

  it('a callback without the login it started is refused, and a state from another login does not pass', async () => {
    const res = await fetch(`${s.srv.url}/admin/callback?code=abc&state=xyz`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('start again at /admin/login');
    // A login started by this browser, answered with a forged state: refused, no session.
    const jar = new CookieJar();
    const start = await jar.fetch(`${s.srv.url}/admin/login`);
    expect(start.status).toBe(302);
    const forged = await jar.fetch(`${s.srv.url}/admin/callback?code=abc&state=forged`);
    expect(forged.status).toBe(400);
    expect(jar.get(s.srv.url, 'vg_admin')).toBeUndefined();
  });
});

describe('redirects stay on this server under /admin', () => {
  it.each(['https://evil.example/', '//evil.example/admin', '/\\evil.example', '/admin/../api/v2', 'javascript:alert(1)', '/elsewhere'])(
    'next=%s lands on /admin',
    async (next) => {
      const { callback } = await signIn(s.srv.url, 'alice', { start: `/admin/login?next=${encodeURIComponent(next)}` });
      expect(callback.headers.get('location')).toBe('/admin');
    },
  );

  it('a path under /admin is kept', async () => {
    const { callback } = await signIn(s.srv.url, 'alice', { start: `/admin/login?next=${encodeURIComponent('/admin/roles?view=x')}` });
    expect(callback.headers.get('location')).toBe('/admin/roles?view=x');
  });

  it('an unauthenticated browser on a page is sent to sign in, keeping the page to return to', async () => {
    const res = await fetch(`${s.srv.url}/admin/views`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`/admin/login?next=${encodeURIComponent('/admin/views')}`);
  });

  it('/admin/login sends the browser to the provider with PKCE S256, state and nonce', async () => {
    const res = await fetch(`${s.srv.url}/admin/login`, { redirect: 'manual' });
    const to = new URL(res.headers.get('location')!);
    expect(to.origin).toBe(s.idp.issuer);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(to.searchParams.get('state')).toBeTruthy();
    expect(to.searchParams.get('nonce')).toBeTruthy();
    expect(to.searchParams.get('redirect_uri')).toBe(`${s.srv.url}/admin/callback`);
  });
});

describe('headers', () => {
  it('pages, assets, sign-in and the API carry the strict CSP, nosniff and no referrer', async () => {
    const { jar } = await signIn(s.srv.url, 'alice');
    const responses = [
      await jar.fetch(`${s.srv.url}/admin`),
      await jar.fetch(`${s.srv.url}/admin/api/session`),
      await fetch(`${s.srv.url}/admin/api/overview`),
      await fetch(`${s.srv.url}/admin/login`, { redirect: 'manual' }),
      await fetch(`${s.srv.url}/admin/assets/nothing.js`),
    ];
    for (const res of responses) {
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("img-src 'self' data:");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });
});

describe('the JSON API refuses', () => {
  it('a caller without a session or credentials: 401 in the error envelope', async () => {
    const res = await fetch(`${s.srv.url}/admin/api/overview`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(401);
  });

  it('an API key of another role: 403; an admin API key: 200', async () => {
    const other = await fetch(`${s.srv.url}/admin/api/overview`, { headers: { 'X-API-Key': 'vg_demo_internal_key' } });
    expect(other.status).toBe(403);
    const ok = await fetch(`${s.srv.url}/admin/api/overview`, { headers: { 'X-API-Key': ADMIN_KEY } });
    expect(ok.status).toBe(200);
  });

  it('audit search without a postgres audit sink: 409 saying what to configure', async () => {
    const res = await fetch(`${s.srv.url}/admin/api/audit`, { headers: { 'X-API-Key': ADMIN_KEY } });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('audit.sink: postgres');
  });

  it('a forged session cookie: 401', async () => {
    const res = await fetch(`${s.srv.url}/admin/api/overview`, { headers: { cookie: 'vg_admin=abc.def' } });
    expect(res.status).toBe(401);
  });
});

describe('logout', () => {
  it('needs the CSRF token, then revokes the session: the old cookie no longer works', async () => {
    const { jar } = await signIn(s.srv.url, 'alice');
    const { csrfToken } = (await (await session(jar)).json()) as { csrfToken: string };
    const old = jar.header(s.srv.url);
    const without = await jar.fetch(`${s.srv.url}/admin/logout`, { method: 'POST' });
    expect(without.status).toBe(403);
    expect((await session(jar)).status).toBe(200);
    const wrong = await jar.fetch(`${s.srv.url}/admin/logout`, { method: 'POST', headers: { 'X-CSRF-Token': csrfToken.slice(1) + 'x' } });
    expect(wrong.status).toBe(403);
    const out = await jar.fetch(`${s.srv.url}/admin/logout`, { method: 'POST', headers: { 'X-CSRF-Token': csrfToken } });
    expect(out.status).toBe(204);
    expect(sessionCookie(out)).toMatch(/Max-Age=0/);
    const replay = await fetch(`${s.srv.url}/admin/api/session`, { headers: { cookie: old } });
    expect(replay.status).toBe(401);
  });
});

describe('session expiry', () => {
  it('a session older than 8 hours is gone: the API answers 401 and pages send the browser to sign in', async () => {
    const { jar } = await signIn(s.srv.url, 'alice');
    expect((await session(jar)).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 8 * 3600_000 + 1000 });
    expect((await session(jar)).status).toBe(401);
    expect((await jar.fetch(`${s.srv.url}/admin`)).status).toBe(302);
  });
});

describe('roles are checked on every request', () => {
  it('a reload that drops the role from admin.roles locks the session out, and one that restores it lets it in', async () => {
    const { jar } = await signIn(s.srv.url, 'alice');
    expect((await session(jar)).status).toBe(200);
    const original = s.srv.rt.config;
    const reloadTo = async (config: Config) => {
      const result = await new ConfigReloader(s.srv.rt, { load: () => config }).reload();
      expect(result.applied).toBe(true);
    };
    await reloadTo({ ...original, admin: { ...original.admin!, roles: ['someone-else'] } });
    try {
      expect((await session(jar)).status).toBe(403);
      expect((await jar.fetch(`${s.srv.url}/admin`)).status).toBe(403);
    } finally {
      await reloadTo(original);
    }
    expect((await session(jar)).status).toBe(200);
  });
});

describe('pages and assets from dist/console', () => {
  const dir = fileURLToPath(new URL('../../dist/console/', import.meta.url));
  const asset = `vg-test-${process.pid}-Ab12Cd34.js`;
  const plain = `plain${process.pid}.css`;
  let madeIndex = false;
  beforeAll(() => {
    mkdirSync(`${dir}assets`, { recursive: true });
    if (!existsSync(`${dir}index.html`)) {
      writeFileSync(
        `${dir}index.html`,
        '<!doctype html><title>test console</title><script type="module" src="/admin/assets/x.js"></script>',
      );
      madeIndex = true;
    }
    writeFileSync(`${dir}assets/${asset}`, 'export const x = 1;\n');
    writeFileSync(`${dir}assets/${plain}`, 'body { color: black }\n');
  });
  afterAll(() => {
    rmSync(`${dir}assets/${asset}`, { force: true });
    rmSync(`${dir}assets/${plain}`, { force: true });
    if (madeIndex) rmSync(`${dir}index.html`, { force: true });
  });

  it('a signed-in admin gets index.html on /admin and on any page under it', async () => {
    const { jar } = await signIn(s.srv.url, 'alice');
    for (const page of ['/admin', '/admin/roles']) {
      const res = await jar.fetch(`${s.srv.url}${page}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('<!doctype html>');
    }
  });

  it('serves assets without a session, with their type, a long cache for hashed names and none for others', async () => {
    const hashed = await fetch(`${s.srv.url}/admin/assets/${asset}`);
    expect(hashed.status).toBe(200);
    expect(hashed.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await hashed.text()).toBe('export const x = 1;\n');
    const other = await fetch(`${s.srv.url}/admin/assets/${plain}`);
    expect(other.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(other.headers.get('cache-control')).toBe('no-cache');
  });

  it('never serves a file outside dist/console/assets', async () => {
    for (const path of [
      '/admin/assets/..%2Findex.html',
      '/admin/assets/..%2F..%2F..%2Fpackage.json',
      '/admin/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/admin/assets/..%5C..%5Cpackage.json',
      '/admin/assets/x%00.js',
      '/admin/assets/nothing.js',
    ]) {
      const res = await fetch(`${s.srv.url}${path}`, { redirect: 'manual' });
      expect([400, 404]).toContain(res.status);
      expect(await res.text()).not.toContain('"name": "viewgate"');
    }
  });
});
