// Single sign-on for the console (docs/console.md, "Single sign-on"): OpenID Connect authorization
// code flow with PKCE (S256), state and nonce, through `openid-client`. The provider is found by
// discovery from `admin.oidc.issuer`, once per issuer and client (again after a failure). An
// http:// issuer is refused by the config check unless it is on a loopback address. openid-client
// (about 7 MiB resident) is loaded with the first sign-in, not by every process that serves /admin.
import type * as OpenId from 'openid-client';
import type { AdminConfig } from '../config/schema.js';
import { claimAt, rolePathOf } from '../policy/identity.js';
import type { PendingLogin, Person } from './sessions.js';

type OidcConfig = NonNullable<AdminConfig['oidc']>;

let loaded: Promise<typeof OpenId> | undefined;
const openId = (): Promise<typeof OpenId> => (loaded ??= import('openid-client'));

export class OidcLogin {
  private discovered?: { key: string; config: Promise<OpenId.Configuration> };

  private configFor(client: typeof OpenId, oidc: OidcConfig): Promise<OpenId.Configuration> {
    const key = JSON.stringify([oidc.issuer, oidc.clientId, oidc.clientSecret ?? '']);
    if (this.discovered?.key === key) return this.discovered.config;
    const issuer = new URL(oidc.issuer);
    const config = client.discovery(
      issuer,
      oidc.clientId,
      oidc.clientSecret,
      oidc.clientSecret === undefined ? client.None() : client.ClientSecretPost(oidc.clientSecret),
      issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
    );
    this.discovered = { key, config };
    config.catch(() => {
      if (this.discovered?.config === config) this.discovered = undefined;
    });
    return config;
  }

  /** Where to send the browser, and what the callback must find again. */
  async start(oidc: OidcConfig, next: string): Promise<{ url: URL; login: PendingLogin }> {
    const client = await openId();
    const config = await this.configFor(client, oidc);
    const login = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier(), next };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: oidc.redirectUrl,
      scope: oidc.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(login.codeVerifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
    });
    return { url, login };
  }

  /**
   * Exchanges the code for tokens (checking state, nonce and the ID token) and returns the person.
   * The roles are read from the ID token's claims, or from userinfo when the token has no role claim.
   */
  async finish(oidc: OidcConfig, query: string, login: PendingLogin): Promise<Person> {
    const client = await openId();
    const config = await this.configFor(client, oidc);
    const current = new URL(oidc.redirectUrl);
    current.search = query;
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: login.codeVerifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims()!;
    let claims: Record<string, unknown> = { ...idClaims };
    if (claimAt(claims, rolePathOf(oidc.roleClaim)) === undefined) {
      const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      claims = { ...info, ...idClaims };
    }
    const name = typeof claims.name === 'string' ? claims.name : typeof claims.email === 'string' ? claims.email : undefined;
    return { subject: idClaims.sub, issuer: idClaims.iss, claims, ...(name !== undefined ? { name } : {}) };
  }
}
