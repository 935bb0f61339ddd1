// The one way logs and stdout/stderr audit records leave the process (docs/operations.md, "Slow or
// stalled log consumers"). A reader that stops reading (a full pipe, a stuck log shipper) must never
// make viewgate buffer without bound or block: every write goes through the stream's event-loop
// driven buffer, never a synchronous write, and is refused once that buffer holds more than the
// limit for its kind. Debug and info lines go first, then warnings and errors; audit records keep
// the most room. Refusals are counted, for /metrics.
import type { Writable } from 'node:stream';

/** What a line is, in the order it is dropped when the buffer fills up. */
export type OutputKind = 'log' | 'alert' | 'audit';

export interface OutputLimits {
  /** Bytes buffered above which debug/info (and trace) log lines are dropped. */
  log: number;
  /** ... warn/error/fatal log lines. */
  alert: number;
  /** ... audit records. */
  audit: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { log: 1 << 20, alert: 4 << 20, audit: 8 << 20 };

/** How long the output may take to drain at exit before the process ends without the rest. */
export const OUTPUT_FLUSH_MS = 2_000;

export class BoundedOutput {
  /** Log lines dropped, by pino level name. */
  readonly droppedLogs = new Map<string, number>();
  droppedAudit = 0;
  private broken = false;

  constructor(
    private readonly stream: Writable,
    private readonly limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
  ) {
    // A closed reader (EPIPE) must not crash the process: from then on everything is dropped.
    stream.on('error', () => {
      this.broken = true;
    });
  }

  /** Bytes written but not yet taken by the reader. */
  get buffered(): number {
    return this.stream.writableLength;
  }

  /** Writes one line, or drops it when the buffer is over the limit for its kind; false when dropped. */
  write(text: string, kind: OutputKind, level = 'info'): boolean {
    const bytes = Buffer.byteLength(text);
    if (this.broken || this.stream.destroyed || this.stream.writableLength + bytes > this.limits[kind]) {
      if (kind === 'audit') this.droppedAudit++;
      else this.droppedLogs.set(level, (this.droppedLogs.get(level) ?? 0) + 1);
      return false;
    }
    this.stream.write(text);
    return true;
  }

  /**
   * Resolves true once everything written has been taken by the reader, or false at the deadline
   * (what is left is abandoned when the process exits). Never blocks the event loop.
   */
  async flush(deadlineMs: number): Promise<boolean> {
    const until = performance.now() + deadlineMs;
    // Polled: 'drain' only follows a write that went over the stream's high-water mark.
    while (!this.broken && !this.stream.destroyed && this.stream.writableLength > 0) {
      if (performance.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return !this.broken;
  }
}
