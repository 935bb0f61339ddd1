// TLS to a store, shared by the stores' drivers: a source's `tls` config as Node TLS options, and a
// driver's TLS failure recognised so that callers are told what to check next (the CA file, the
// server name) in viewgate's words, while the log keeps the driver's message with its addresses.
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import type { StoreTls } from '../config/tls.js';
import type { StoreHint } from './store.js';

/**
 * Node TLS options for a store's driver. A configured `servername` is the name the certificate is
 * checked against (and sent in SNI), whatever host the URL connects to; drivers that set their own
 * `servername` from the host still check it, through `checkServerIdentity`.
 */
export function tlsOptions(t: StoreTls): ConnectionOptions {
  const name = t.servername;
  return {
    ...(t.ca ? { ca: t.ca.pem } : {}),
    ...(t.cert && t.key ? { cert: t.cert.pem, key: t.key.pem } : {}),
    rejectUnauthorized: t.rejectUnauthorized,
    ...(name ? { servername: name, checkServerIdentity: (_host: string, cert) => checkServerIdentity(name, cert) } : {}),
  };
}

export type TlsFailure = 'untrusted' | 'name' | 'expired' | 'required' | 'unsupported';

/** What a caller is told about a TLS failure: what to check, never the store's address. */
export const TLS_PUBLIC_DETAIL: Record<TlsFailure, string> = {
  untrusted:
    "its TLS certificate is not signed by a CA viewgate trusts; check the source's tls.ca (the CA file that signed the store's certificate)",
  name: "its TLS certificate is not issued for the name viewgate connects to; check the source's tls.servername or the host in its URL",
  expired: "its TLS certificate has expired or is not valid yet; renew the store's certificate",
  required: 'the store accepts only TLS connections; give the source a tls block (or sslmode=require in a PostgreSQL URL)',
  unsupported: 'the store does not accept TLS connections; enable TLS on the store, or remove the TLS settings from the source',
};

/** Each failure by the driver's error codes and by its message (mysql2 wraps the socket's error in its own, keeping only the message). */
const FAILURES: { failure: TlsFailure; codes: string[]; message: RegExp }[] = [
  {
    failure: 'untrusted',
    codes: [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'CERT_UNTRUSTED',
      'CERT_SIGNATURE_FAILURE',
    ],
    message:
      /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate signature failure/i,
  },
  {
    failure: 'expired',
    codes: ['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'],
    message: /certificate has expired|certificate is not yet valid/i,
  },
  { failure: 'name', codes: ['ERR_TLS_CERT_ALTNAME_INVALID'], message: /does not match certificate's altnames/i },
  // MySQL with require_secure_transport; PostgreSQL's pg_hba.conf allowing only hostssl.
  {
    failure: 'required',
    codes: ['ER_SECURE_TRANSPORT_REQUIRED'],
    message: /insecure transport are prohibited|no pg_hba\.conf entry.*no encryption/i,
  },
  { failure: 'unsupported', codes: ['HANDSHAKE_NO_SSL_SUPPORT'], message: /does not support (SSL|secure) connections?/i },
];

/** `viewgate check`'s next steps for TLS failures, recognised in the driver's message. */
export const TLS_HINTS: StoreHint[] = FAILURES.map((f) => ({ test: f.message, next: TLS_PUBLIC_DETAIL[f.failure] }));

function classifyOne(e: { code?: unknown; message?: unknown }): TlsFailure | undefined {
  const code = typeof e.code === 'string' ? e.code : '';
  const message = String(e.message ?? '');
  return FAILURES.find((f) => f.codes.includes(code) || f.message.test(message))?.failure;
}

/**
 * The TLS failure behind a driver error, if it is one. Drivers wrap the socket's error: MongoDB in
 * a server-selection error (`reason` holds the topology, each server's `error`), others in `cause`.
 */
export function tlsFailure(err: unknown, depth = 0): TlsFailure | undefined {
  if (typeof err !== 'object' || err === null || depth > 4) return undefined;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; reason?: { servers?: Map<string, { error?: unknown }> } };
  const own = classifyOne(e);
  if (own) return own;
  const nested: unknown[] = [e.cause];
  if (err instanceof AggregateError) nested.push(...(err.errors as unknown[]));
  if (e.reason?.servers instanceof Map) for (const s of e.reason.servers.values()) nested.push(s.error);
  for (const n of nested) {
    const found = tlsFailure(n, depth + 1);
    if (found) return found;
  }
  return undefined;
}
