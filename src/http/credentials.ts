// Credentials as HTTP requests carry them (docs/security.md "Identity"): `X-API-Key` (or
// DreamFactory's `X-DreamFactory-API-Key`), or `Authorization: Bearer`. Never in the URL. With them
// goes where the request comes from (the TCP peer and X-Forwarded-For), for `allowFrom`.
import type { FastifyRequest } from 'fastify';
import { unauthorized, type Credentials } from '../gateway/index.js';

export function credentialsFrom(req: Pick<FastifyRequest, 'headers' | 'socket'>): Credentials {
  const { headers } = req;
  const forwardedFor = headers['x-forwarded-for'];
  const origin = { ...(req.socket.remoteAddress ? { peer: req.socket.remoteAddress } : {}), ...(forwardedFor ? { forwardedFor } : {}) };
  const key = headers['x-api-key'] ?? headers['x-dreamfactory-api-key'];
  if (typeof key === 'string' && key !== '') return { apiKey: key, origin };
  const authz = headers.authorization;
  if (typeof authz === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
    return { bearer: m ? m[1]! : '', origin };
  }
  return { origin };
}

/**
 * Credentials in the URL are refused, whatever else the request carries: URLs end up in access
 * logs, proxies and browser history (DreamFactory accepted `?api_key=`; docs/security.md).
 */
export function refuseUrlCredentials(query: unknown): void {
  if (!query || typeof query !== 'object') return;
  if (Object.hasOwn(query, 'api_key')) {
    throw unauthorized(
      'an API key is not accepted in the URL (?api_key=), as URLs end up in logs; send it in the X-API-Key header instead',
      'invalid_request',
    );
  }
  for (const name of ['access_token', 'session_token']) {
    if (Object.hasOwn(query, name)) {
      throw unauthorized(
        `a token is not accepted in the URL (?${name}=), as URLs end up in logs; send it in the Authorization: Bearer header instead`,
        'invalid_request',
      );
    }
  }
}
