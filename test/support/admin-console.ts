// The console's test scenario: the reference stores and config with an `admin` section, a real
// OpenID Connect provider (test/support/oidc-provider.ts) whose client redirects to this server's
// /admin/callback, users alice (platform-admin), bob (external only) and carol (no roles), and an
// API key `ops` of role platform-admin (key `key-ops`). `signIn` logs a person in with plain HTTP:
// it follows redirects, posts the provider's login form and carries each origin's cookies.
import { createHash } from 'node:crypto';
import { parseDocument } from 'yaml';
import type { RuntimeOptions } from '../../src/runtime.js';
import { referenceConfig, startServer, type RunningServer } from './reference.js';
import { startOidcProvider, type OidcUser, type RunningOidcProvider } from './oidc-provider.js';
import { freePort } from './private-postgres.js';

export const USERS: Record<string, OidcUser> = {
  alice: { password: 'alice-password', name: 'Alice Admin', email: 'alice@example.org', roles: ['platform-admin', 'internal'] },
  bob: { password: 'bob-password', name: 'Bob Partner', email: 'bob@example.org', roles: ['external'] },
  carol: { password: 'carol-password', name: 'Carol', roles: [] },
};
export const ADMIN_KEY = 'key-ops';
const SESSION_SECRET = 'test-session-secret-0123456789abcdef0123456789';

export interface AdminScenario {
  srv: RunningServer;
  idp: RunningOidcProvider;
  close(): Promise<void>;
}

/** `edit` changes the config document further (e.g. the audit sink). */
type ScenarioOptions = { edit?: (doc: ReturnType<typeof parseDocument>) => void; runtime?: RuntimeOptions };

export async function startAdminScenario(env: Record<string, string>, opts: ScenarioOptions = {}): Promise<AdminScenario> {
  // The server's port is part of the provider's redirect URI, so it is chosen before the server
  // listens; when a test file running in parallel takes it in between, start again on another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env, opts);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt === 5) throw err;
    }
  }
}

async function startOnce(env: Record<string, string>, opts: ScenarioOptions): Promise<AdminScenario> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const idp = await startOidcProvider({ redirectUris: [`${url}/admin/callback`], users: USERS });
  const config = referenceConfig(env, (y) => {
    const doc = parseDocument(y);
    doc.setIn(
      ['admin'],
      doc.createNode({
        roles: ['platform-admin'],
        sessionSecret: SESSION_SECRET,
        oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, redirectUrl: `${url}/admin/callback` },
      }),
    );
    doc.setIn(['roles', 'platform-admin'], doc.createNode({ grants: {} }));
    const keys = doc.getIn(['auth', 'apiKeys']) as { add(v: unknown): void };
    keys.add(doc.createNode({ name: 'ops', sha256: createHash('sha256').update(ADMIN_KEY).digest('hex'), role: 'platform-admin' }));
    opts.edit?.(doc);
    return doc.toString();
  });
  let srv: RunningServer;
  try {
    srv = await startServer(config, opts.runtime, '127.0.0.1', port);
  } catch (err) {
    await idp.stop();
    throw err;
  }
  return {
    srv,
    idp,
    async close() {
      await srv.close();
      await idp.stop();
    },
  };
}

/** Cookies per origin, as a browser keeps them (paths and expiry dates ignored; Max-Age=0 deletes). */
export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();

  header(url: string): string {
    const jar = this.byOrigin.get(new URL(url).origin);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  get(url: string, name: string): string | undefined {
    return this.byOrigin.get(new URL(url).origin)?.get(name);
  }

  set(url: string, name: string, value: string): void {
    const origin = new URL(url).origin;
    if (!this.byOrigin.has(origin)) this.byOrigin.set(origin, new Map());
    this.byOrigin.get(origin)!.set(name, value);
  }

  take(url: string, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (gone) this.byOrigin.get(new URL(url).origin)?.delete(name);
      else this.set(url, name, value);
    }
  }

  /** One request without following redirects, sending and keeping cookies. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.take(url, res);
    return res;
  }
}

export interface SignInResult {
  /** The response of viewgate's /admin/callback. */
  callback: Response;
  jar: CookieJar;
}

/** Signs `user` in from `start` (default /admin/login), following redirects and posting the provider's form. */
export async function signIn(
  srvUrl: string,
  user: string,
  opts: { jar?: CookieJar; start?: string; password?: string } = {},
): Promise<SignInResult> {
  const jar = opts.jar ?? new CookieJar();
  let url = new URL(opts.start ?? '/admin/login', srvUrl).href;
  let init: RequestInit = {};
  for (let hops = 0; hops < 20; hops++) {
    const res = await jar.fetch(url, init);
    init = {};
    if (new URL(url).pathname === '/admin/callback') return { callback: res, jar };
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      continue;
    }
    const html = await res.text();
    const action = /<form id="login" method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action || html.includes('id="error"')) throw new Error(`sign-in stopped at ${url} (${res.status}): ${html.slice(0, 300)}`);
    url = new URL(action, url).href;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user, password: opts.password ?? USERS[user]?.password ?? '' }).toString(),
    };
  }
  throw new Error('sign-in: too many redirects');
}
