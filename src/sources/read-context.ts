// Who a read is for, beyond its query: the caller's identity (for stores that receive it: a
// PostgreSQL source with `passthrough`, a source with `roleUrls`) and the request's trace id. The
// gateway enters a context only when the configuration has such a source or the request has a
// trace id, so a deployment with neither never enables AsyncLocalStorage (whose promise hooks
// would cost every request) and each read asks getStore() of a storage that is off.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface ReadIdentity {
  role: string;
  claims: Record<string, unknown>;
}

export interface ReadContext {
  identity?: ReadIdentity;
  traceId?: string;
}

const storage = new AsyncLocalStorage<ReadContext>();

/** Runs `fn` (and everything it starts) as reads for `context`. */
export function withReadContext<T>(context: ReadContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the running read, or undefined outside any request that entered one. */
export function currentRead(): ReadContext | undefined {
  return storage.getStore();
}
