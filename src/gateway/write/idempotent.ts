// Idempotency-Key on POST writes (docs/writes.md): scoped to (identity key, method, path); the same
// key and body replays the first response and writes nothing, another body is a 422, a first
// request still running a 409. A failed request frees its key, so a retry runs again.
import type { ViewId } from '../../config/view-id.js';
import { ApiError, badRequest } from '../../errors.js';
import type { IdempotencyStore } from '../../ops/idempotency.js';
import type { Identity } from '../../policy/identity.js';
import type { TraceNotes } from '../trace.js';
import type { WriteRequest } from './request.js';
import type { WriteResult } from './run.js';

interface Asked {
  identity: Identity;
  id: ViewId;
  method: string;
  request: WriteRequest;
  notes: TraceNotes;
}

export async function idempotently(store: IdempotencyStore, asked: Asked, run: () => Promise<WriteResult>): Promise<WriteResult> {
  const { identity, id, method, request, notes } = asked;
  const key = request.idempotencyKey!;
  const param = { param: 'Idempotency-Key' };
  if (method.toUpperCase() !== 'POST') {
    throw badRequest('Idempotency-Key applies to POST; PATCH, PUT and DELETE are idempotent or take If-Match', param);
  }
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) throw badRequest('Idempotency-Key is 1 to 255 visible ASCII characters', param);
  const scope = `${identity.identityKey}\nPOST\n${id}`;
  const claim = await store.claim(scope, key, request.records);
  switch (claim.kind) {
    case 'replay':
      notes.args = { idempotencyKey: 'replayed' };
      return { action: 'insert', keys: [], fields: [], status: claim.response.status === 200 ? 200 : 201, body: claim.response.body };
    case 'running':
      throw new ApiError('conflict', 'a request with this Idempotency-Key is still running; retry once it has answered', param);
    case 'other_body':
      throw new ApiError('unprocessable', 'this Idempotency-Key was used with another body; use a new key for another request', param);
    case 'run':
      break;
  }
  try {
    const result = await run();
    await store.finish(scope, key, request.records, { status: result.status, body: result.body });
    return result;
  } catch (err) {
    await store.release(scope, key);
    throw err;
  }
}
