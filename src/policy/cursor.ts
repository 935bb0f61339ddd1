// Keyset cursors (docs/query.md "Cursors", docs/security.md "Cursors"): `next_cursor` is the last
// row's position in the query's order, sealed with AES-256-GCM under a key derived from
// server.cursorSecret, and bound to the caller's identity key, the view, the query and the
// deciding grant. The caller can neither read nor forge one, so the values in it (which may be a
// keyed hash of a key the caller may not read) reach the keyset predicate only from the server.
//
// The nonce is an HMAC of the plaintext (a synthetic IV, as in AES-GCM-SIV): the same page gives
// the same cursor, so a response's ETag stays stable, and two different plaintexts never share a
// nonce but with negligible probability.
import { createCipheriv, createDecipheriv, createHmac, hash, hkdfSync, randomBytes } from 'node:crypto';
import { badRequest, type ApiError } from '../errors.js';
import { stripPositions } from '../query/ast.js';
import type { ClientQuery } from '../query/client-query.js';
import { canonical, type Value } from '../values.js';
import type { ViewAccess } from './access.js';

/** Where a page ended: the last row's value for each order term, and its opaque tag when ties are broken by one. */
export interface CursorPosition {
  values: Value[];
  /** HMAC tag of the row's key (opaque order, opaque-order.ts): the key itself never leaves the server. */
  tag?: string;
}

/** What a cursor is bound to; each part is compared on use, and a mismatch is a 400 naming which. */
export interface CursorBinding {
  identityKey: string;
  view: string;
  /** The query's shape: fields, filter, order, limit, ids (queryFingerprint). */
  query: string;
  /** The deciding grant (grantFingerprint). */
  grant: string;
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Far above any real cursor; a longer one is refused before it is decoded. */
const MAX_CHARS = 8192;

const fingerprint = (text: string): string => hash('sha256', text, 'base64url').slice(0, 22);

/** The query as far as a cursor continues it (aggregates, group and having too): include_count, offset and the cursor itself left out. */
export function queryFingerprint(q: ClientQuery): string {
  return fingerprint(
    canonical({
      fields: q.fields ?? null,
      filter: q.filter ? stripPositions(q.filter) : null,
      order: q.order ?? null,
      limit: q.limit ?? null,
      ids: q.ids ?? null,
      // Present only for aggregates, so row cursors keep their print.
      ...(q.aggregate
        ? {
            aggregate: {
              select: q.aggregate.select.map((s) => (s.kind === 'field' ? s.name : [s.metric.fn, s.metric.field ?? null, s.metric.name])),
              group: q.aggregate.group,
              having: q.aggregate.having ? stripPositions(q.aggregate.having) : null,
            },
          }
        : {}),
    }),
  );
}

/** A governed SQL statement as far as a cursor continues it: its text and limit. */
export function statementFingerprint(sql: string, limit: number | undefined): string {
  return fingerprint(canonical({ sql, limit: limit ?? null }));
}

/** The deciding grant as configured: any change to it (fields, masks, row filter, limits) gives another print. */
export function grantFingerprint(access: Pick<ViewAccess, 'role' | 'grantKey' | 'grant'>): string {
  let print = grantPrints.get(access);
  if (print === undefined) {
    print = fingerprint(canonical({ role: access.role, grantKey: access.grantKey, grant: access.grant }));
    grantPrints.set(access, print);
  }
  return print;
}

/** Each policy record's print, computed once: a record is frozen, and a reload builds new ones. */
const grantPrints = new WeakMap<object, string>();

export function invalidCursor(problem: string): ApiError {
  return badRequest(`invalid cursor: ${problem}`, { param: 'cursor' });
}

/** Values as JSON that round-trips the value model: bigint and non-finite floats tagged. */
function encodeValue(v: Value): unknown {
  if (typeof v === 'bigint') return { i: v.toString() };
  if (typeof v === 'number' && !Number.isFinite(v)) return { f: String(v) };
  return v;
}

function decodeValue(v: unknown): Value {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.i === 'string' && /^-?\d+$/.test(o.i)) return BigInt(o.i);
    if (o.f === 'NaN' || o.f === 'Infinity' || o.f === '-Infinity') return Number(o.f);
  }
  throw new Error('bad value');
}

/** The key without server.cursorSecret: one per process, so a config reload keeps cursors working. */
const processKey = randomBytes(32);

export class CursorCodec {
  private readonly encKey: Buffer;
  private readonly ivKey: Buffer;

  /** `secret`: server.cursorSecret; without one, a random key for this process. */
  constructor(secret: string | undefined) {
    const ikm = secret === undefined ? processKey : Buffer.from(secret, 'utf8');
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', ikm, 'viewgate cursor', info, 32));
    this.encKey = derive('aes-256-gcm key');
    this.ivKey = derive('synthetic iv');
  }

  seal(binding: CursorBinding, position: CursorPosition): string {
    const payload = {
      i: fingerprint(binding.identityKey),
      v: binding.view,
      g: binding.grant,
      q: binding.query,
      p: position.values.map(encodeValue),
      ...(position.tag !== undefined ? { t: position.tag } : {}),
    };
    const plain = Buffer.from(JSON.stringify(payload), 'utf8');
    const header = Buffer.from([VERSION]);
    const iv = createHmac('sha256', this.ivKey).update(header).update(plain).digest().subarray(0, IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    cipher.setAAD(header);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The position a cursor holds, when it is intact and bound to exactly this caller, view, grant and query. */
  open(token: string, binding: CursorBinding): CursorPosition {
    const payload = this.decrypt(token);
    if (payload.i !== fingerprint(binding.identityKey)) throw invalidCursor('it was issued to another caller');
    if (payload.v !== binding.view) throw invalidCursor('it was issued for another view');
    if (payload.g !== binding.grant)
      throw invalidCursor('your access to this view has changed since it was issued; start again without cursor');
    if (payload.q !== binding.query) {
      throw invalidCursor('it was issued for another query; repeat the fields, filter, order and limit of the request that returned it');
    }
    return payload.t === undefined ? { values: payload.p } : { values: payload.p, tag: payload.t };
  }

  private decrypt(token: string): { i: string; v: string; g: string; q: string; p: Value[]; t?: string } {
    const damaged = () => invalidCursor('it is malformed or was altered; pass next_cursor exactly as it was returned');
    if (token.length > MAX_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) throw damaged();
    const raw = Buffer.from(token, 'base64url');
    if (raw.length < 1 + IV_BYTES + TAG_BYTES || raw[0] !== VERSION) throw damaged();
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.encKey, raw.subarray(1, 1 + IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(raw.subarray(0, 1));
      decipher.setAuthTag(raw.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      plain = Buffer.concat([decipher.update(raw.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw damaged();
    }
    try {
      const o = JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
      const strings = ['i', 'v', 'g', 'q'].every((k) => typeof o[k] === 'string');
      if (!strings || !Array.isArray(o.p) || (o.t !== undefined && typeof o.t !== 'string')) throw new Error('shape');
      return {
        i: o.i as string,
        v: o.v as string,
        g: o.g as string,
        q: o.q as string,
        p: o.p.map(decodeValue),
        ...(o.t !== undefined ? { t: o.t as string } : {}),
      };
    } catch {
      throw damaged();
    }
  }
}
