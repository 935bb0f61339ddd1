// Maps driver errors to StoreError (503 unreachable, 504 timed out, 502 anything else). Callers see
// the source's name and what to do; the driver's message (hosts, ports, server text) is kept as the
// error's detail for the log and `viewgate check`, with passwords from the URL redacted.
import { ApiError, StoreError } from '../errors.js';

export type Reason = StoreError['reason'];

export interface DriverError {
  code?: unknown;
  errno?: unknown;
  name?: unknown;
  message?: unknown;
  fatal?: unknown;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
]);

/** A driver error that means the network or the server went away. */
export function networkish(e: DriverError): boolean {
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const msg = String(e.message ?? '');
  return /connection terminated|timeout expired|connect ECONNREFUSED|Connection lost/i.test(msg);
}

/** The secrets in a connection URL (its password), for redaction. */
export function urlSecrets(url: string): string[] {
  try {
    const pw = new URL(url).password;
    if (!pw) return [];
    const decoded = safeDecode(pw);
    return decoded === pw ? [pw] : [pw, decoded];
  } catch {
    return [];
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function redact(text: string, secrets: string[]): string {
  let out = text.replace(/\/\/([^:@/\s]+):[^@/\s]*@/g, '//$1:***@');
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

/** Decides which StoreError reason a driver error is. */
export type ErrorClassifier = (e: DriverError) => Reason;

/**
 * The store refused the query for its credentials' privileges (a table or column they may not read:
 * roleUrls, passthrough): the caller's 403, without the driver's text (it names the store user and
 * host). It is no StoreError, so one role's refusals never open the circuit for every role.
 */
export function privilegeRefusal(source: string): ApiError {
  return new ApiError(
    'forbidden',
    `store "${source}" refused the query: the credentials used for your role may not read a table or column it names`,
    { source },
  );
}

/** What a caller is told, by reason: no driver text, so no host, port or server message. */
export const PUBLIC_DETAIL: Record<StoreError['reason'], string> = {
  unavailable: 'it cannot be reached; try again later (the server log has the details)',
  timeout: 'the query took longer than the source allows; narrow the query or try again later',
  failed: 'the store refused the query (the server log has the details)',
};

/** Wraps any error from a driver into a StoreError naming `source`; StoreErrors pass through. */
export function toStoreError(source: string, err: unknown, classify: ErrorClassifier, secrets: string[]): StoreError {
  if (err instanceof StoreError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as DriverError;
  let message = String(e.message ?? '') || String(e.code ?? 'unknown error');
  // Node reports a refused connection to several addresses as an AggregateError with an empty message.
  if (!e.message && err instanceof AggregateError) message = err.errors.map((x: Error) => x.message).join('; ');
  const code = typeof e.code === 'string' || typeof e.code === 'number' ? ` [${String(e.code)}]` : '';
  const reason = classify(e);
  return new StoreError(source, reason, PUBLIC_DETAIL[reason], redact(message, secrets) + code);
}
