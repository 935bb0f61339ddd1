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
    if (bytes > this.room(kind)) {
      this.dropped(kind, level);
      return false;
    }
    this.stream.write(text);
    return true;
  }

  /**
   * Writes lines of one kind in one stream write, each kept or dropped as `write` would decide in
   * its turn; says which were kept.
   */
  writeLines(lines: string[], kind: OutputKind, level = 'info'): boolean[] {
    let room = this.room(kind);
    let text = '';
    const kept = lines.map((line) => {
      const bytes = Buffer.byteLength(line);
      if (bytes > room) {
        this.dropped(kind, level);
        return false;
      }
      room -= bytes;
      text += line;
      return true;
    });
    if (text) this.stream.write(text);
    return kept;
  }

  /** Bytes the buffer still takes for this kind (negative when nothing may be written). */
  private room(kind: OutputKind): number {
    return this.broken || this.stream.destroyed ? -1 : this.limits[kind] - this.stream.writableLength;
  }

  private dropped(kind: OutputKind, level: string): void {
    if (kind === 'audit') this.droppedAudit++;
    else this.droppedLogs.set(level, (this.droppedLogs.get(level) ?? 0) + 1);
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
