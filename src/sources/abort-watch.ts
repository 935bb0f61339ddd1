// Runs a store's stop (a cancel request, KILL QUERY) when the request's signal aborts while one of
// its statements runs. A statement is watched only once it has run for WATCH_AFTER_MS: a quick one
// ends before any stop could reach it, and a timer costs far less than the first listener on a
// fresh AbortSignal, which every one-row read would otherwise pay; a Cancellation's signal is not
// even made (src/cancellation.ts).
import { signalOf, type Cancel } from '../cancellation.js';

const WATCH_AFTER_MS = 20;

/** Starts watching `cancel` for one statement; call the returned function when it has ended. */
export function watchAbort(cancel: Cancel | undefined, stop: () => void): () => void {
  if (!cancel) return () => {};
  let signal: AbortSignal | undefined;
  const timer = setTimeout(() => {
    if (cancel.aborted) stop();
    else {
      signal = signalOf(cancel)!;
      signal.addEventListener('abort', stop, { once: true });
    }
  }, WATCH_AFTER_MS);
  return () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  };
}
