// PostgreSQL's TLS: the URL's `sslmode` and the source's `tls` block, as node-postgres's `ssl`
// option. viewgate reads sslmode itself (and passes the URL on without it), so the meaning is ours
// and fixed: `require`, `verify-ca` and `verify-full` all verify the certificate and its name, as
// node-postgres does; `no-verify` is the explicit opt-out; `disable` is no TLS. Certificates come
// from the tls block only (files read with the config), never from URL parameters.
import type { ConnectionOptions } from 'node:tls';
import type { StoreTls } from '../../config/tls.js';
import { tlsOptions } from '../tls.js';

const VERIFYING = new Set(['require', 'verify-ca', 'verify-full']);
const MODES = new Set([...VERIFYING, 'no-verify', 'disable']);
/** URL parameters node-postgres would read for TLS on its own (files included): refused. */
const OTHER_SSL_PARAMS = ['ssl', 'sslcert', 'sslkey', 'sslrootcert', 'sslnegotiation', 'uselibpqcompat'];

function sslmode(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('sslmode') ?? undefined;
  } catch {
    return undefined; // not a URL: storeUrl's own check reports it
  }
}

/** What is wrong with the URL's TLS parameters together with the tls block, for the config check. */
export function pgSslProblem(url: string, tls: StoreTls | undefined): string | undefined {
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  const other = OTHER_SSL_PARAMS.find((p) => params.has(p));
  if (other)
    return `the URL parameter ${other} is not read; write sslmode=require (or verify-full, no-verify, disable) and put certificate files in the source's tls block`;
  const mode = params.get('sslmode');
  if (mode === null) return undefined;
  if (!MODES.has(mode))
    return `sslmode=${mode} is not supported (it could fall back to an unencrypted connection); write require, verify-full, no-verify or disable`;
  if (mode === 'disable' && tls) return 'sslmode=disable turns TLS off, but the source has a tls block; remove one of them';
  if (VERIFYING.has(mode) && tls?.rejectUnauthorized === false)
    return `sslmode=${mode} verifies the certificate, but tls.rejectUnauthorized is false; write sslmode=no-verify to opt out of verification`;
  return undefined;
}

/**
 * What the URL's sslmode and the tls block ask for, in viewgate's meaning: no TLS, TLS that
 * verifies the certificate and its name, or TLS that only encrypts (the explicit opt-outs).
 */
export type PgTlsMode = 'off' | 'verify' | 'no-verify';

export function pgTlsMode(url: string, tls: StoreTls | undefined): PgTlsMode {
  const mode = sslmode(url);
  if (mode === 'disable' || (mode === undefined && !tls)) return 'off';
  return mode === 'no-verify' || tls?.rejectUnauthorized === false ? 'no-verify' : 'verify';
}

/** The URL node-postgres connects with (without sslmode) and its `ssl` option. */
export function pgConnection(url: string, tls: StoreTls | undefined): { connectionString: string; ssl: false | ConnectionOptions } {
  let connectionString = url;
  if (sslmode(url) !== undefined) {
    const u = new URL(url);
    u.searchParams.delete('sslmode');
    connectionString = u.toString();
  }
  const mode = pgTlsMode(url, tls);
  if (mode === 'off') return { connectionString, ssl: false };
  const options = tlsOptions(tls ?? { rejectUnauthorized: true });
  return { connectionString, ssl: mode === 'no-verify' ? { ...options, rejectUnauthorized: false } : options };
}
