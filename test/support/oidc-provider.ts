// A real OpenID Connect provider for the console's tests: the `oidc-provider` package served over
// HTTP on 127.0.0.1 and a free port, with one registered client (authorization code + PKCE S256,
// client_secret_post, the redirect URIs given) and the users given, each with a `roles` claim
// (released with the `profile` scope, through userinfo; the ID token carries only the subject).
//
// The login page (GET {issuer}/interaction/{uid}) is this file's own minimal form:
//   <form id="login" method="post" action="/interaction/{uid}/login">
//     <input id="username" name="username">        the user's login name (e.g. alice)
//     <input id="password" name="password" type="password">
//     <button id="sign-in" type="submit">Sign in</button>
//   </form>
// A wrong name or password shows the form again with <p id="error">. No consent page follows: a
// successful sign-in grants the client the scopes it asked for at once and redirects back to the
// client's redirect URI with `code` and `state`.
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

export interface OidcUser {
  password: string;
  name?: string;
  email?: string;
  /** The `roles` claim: a list of role names. */
  roles: string[];
}

export interface RunningOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

export async function startOidcProvider(opts: { redirectUris: string[]; users: Record<string, OidcUser> }): Promise<RunningOidcProvider> {
  // Listening on port 0 first and naming the issuer after the port it got: a port found free and
  // then listened on can be taken in between by another test file running in parallel.
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const clientId = 'viewgate-console';
  const clientSecret = randomBytes(24).toString('hex');
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: opts.redirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], profile: ['name', 'roles'], email: ['email'] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx: KoaContextWithOIDC, sub: string) {
      const user = Object.hasOwn(opts.users, sub) ? opts.users[sub] : undefined;
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, name: user.name ?? sub, ...(user.email ? { email: user.email } : {}), roles: user.roles }),
      };
    },
  });
  provider.proxy = false;
  server.on('request', (req, res) => {
    const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url?.split('?')[0] ?? '');
    if (!m) {
      provider.callback()(req, res);
      return;
    }
    void interaction(provider, opts.users, req, res, m[2] !== undefined).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  return {
    issuer,
    clientId,
    clientSecret,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Req = Parameters<Provider['interactionDetails']>[0];
type Res = Parameters<Provider['interactionDetails']>[1];

/** The login form, its submission, and a consent given without asking. */
async function interaction(provider: Provider, users: Record<string, OidcUser>, req: Req, res: Res, submitted: boolean): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const clientId = String(details.params.client_id);
  const scope = String(details.params.scope ?? 'openid');
  if (details.prompt.name === 'consent' && details.session?.accountId) {
    const grantId = await grantFor(provider, details.session.accountId, clientId, scope);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (!submitted) return loginPage(res, details.uid);
  const form = new URLSearchParams(await body(req));
  const username = form.get('username') ?? '';
  const user = Object.hasOwn(users, username) ? users[username] : undefined;
  if (!user || user.password !== form.get('password')) return loginPage(res, details.uid, 'Unknown user or wrong password.');
  const grantId = await grantFor(provider, username, clientId, scope);
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: username }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

async function grantFor(provider: Provider, accountId: string, clientId: string, scope: string): Promise<string> {
  const grant = new provider.Grant({ accountId, clientId });
  grant.addOIDCScope(scope);
  return grant.save();
}

function loginPage(res: Res, uid: string, error?: string): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body>
  <h1>Test identity provider</h1>
  ${error ? `<p id="error">${error}</p>` : ''}
  <form id="login" method="post" action="/interaction/${uid}/login">
    <label>User <input id="username" name="username" autocomplete="username"></label>
    <label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
    <button id="sign-in" type="submit">Sign in</button>
  </form>
</body></html>`);
}

function body(req: Req): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
