// Whether anybody still waits for an answer. Making an AbortSignal costs a few microseconds (a
// fresh EventTarget, and hidden classes V8 builds for each one), and most requests never need
// one: only a store statement that runs a while, a shared cache load, the MongoDB driver or a
// grant timeout listens for it. A Cancellation answers `aborted` without a signal and makes its
// signal when first asked.

export interface Cancellation {
  /** Whether the caller has gone; reading it makes no signal. */
  readonly aborted: boolean;
  /** The signal to hand a store query or a shared load; made on first read. */
  readonly signal: AbortSignal;
}

/** Either kind: a surface that has a signal already (an MCP call's) hands it over as it is. */
export type Cancel = AbortSignal | Cancellation;

/** The signal of `c`, made now if it is a Cancellation's. */
export function signalOf(c: Cancel | undefined): AbortSignal | undefined {
  return c === undefined || c instanceof AbortSignal ? c : c.signal;
}
