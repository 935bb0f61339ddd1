// Runs a store's stop (a cancel request, KILL QUERY) when the request's signal aborts while one of
// its statements runs. A statement is watched only once it has run for WATCH_AFTER_MS: a quick one
// ends before any stop could reach it, and a timer costs far less than the first listener on a
// fresh AbortSignal, which every one-row read would otherwise pay.

const WATCH_AFTER_MS = 20;

/** Starts watching `signal` for one statement; call the returned function when it has ended. */
export function watchAbort(signal: AbortSignal | undefined, stop: () => void): () => void {
  if (!signal) return () => {};
  let listening = false;
  const timer = setTimeout(() => {
    if (signal.aborted) stop();
    else {
      listening = true;
      signal.addEventListener('abort', stop, { once: true });
    }
  }, WATCH_AFTER_MS);
  return () => {
    clearTimeout(timer);
    if (listening) signal.removeEventListener('abort', stop);
  };
}
