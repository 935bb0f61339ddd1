// Audit records that arrive close together leave as one write (src/ops/audit-sinks.ts): a record
// waits for the batch window (`maxDelayMs`; 0: the next turn of the event loop), or for the write
// already in flight. One write at a time, in arrival order; what arrives meanwhile becomes the next
// batch. Each record still learns whether it was written (the request that fails closed depends on
// it, and waits no longer than one turn), and what waits is bounded in bytes: beyond the limit a
// record is refused at once. A window saves a write, and the thread-pool round trip of a file
// write, for nearly every record of a busy server.

/**
 * Where batches go. A target that keeps some records of a batch and refuses others (a full output,
 * a record the database rejects) returns, for each record, the error that refused it (undefined:
 * written); one that throws has written none of them.
 */
export interface BatchTarget<T> {
  write(items: T[]): Promise<void | (Error | undefined)[]>;
}

export interface BatchLimits {
  /** A batch this large is written at once rather than when its window ends. */
  maxRecords: number;
  /** How long the first record of a batch waits for others; 0: until the next turn of the event loop. */
  maxDelayMs: number;
  /** Bytes waiting (queued or being written) above which a record is refused. */
  maxPendingBytes: number;
}

/** Told once a record's batch is written (no argument) or has failed (the error). */
export type Settle = (err?: unknown) => void;

interface Waiting<T> {
  item: T;
  bytes: number;
  settle: Settle;
}

export class Batcher<T> {
  private queue: Waiting<T>[] = [];
  private pendingBytes = 0;
  private writing = false;
  /** The batch window's timer or immediate, while one is pending. */
  private scheduled?: { cancel: () => void };
  /** Records added, and records settled: batches settle in order, so the first `settled` of them. */
  private added = 0;
  private settled = 0;
  /** drain() callers, each waiting until `settled` reaches the count added when it was called. */
  private drains: { upTo: number; done: () => void }[] = [];

  constructor(
    private readonly target: BatchTarget<T>,
    private readonly limits: BatchLimits,
    /** The error for a record refused because too much is waiting. */
    private readonly full: () => Error,
  ) {}

  /** Queues one record; settles once the batch holding it has been written, or has failed. */
  add(item: T, bytes: number): Promise<void> {
    return new Promise<void>((written, failed) => this.send(item, bytes, (err) => (err === undefined ? written() : failed(err))));
  }

  /**
   * add() for a caller who needs no promise (a server that fails open): `settle` is told the
   * outcome, at once when the record is refused because too much is waiting.
   */
  send(item: T, bytes: number, settle: Settle): void {
    if (this.pendingBytes + bytes > this.limits.maxPendingBytes) return settle(this.full());
    this.pendingBytes += bytes;
    this.added++;
    this.queue.push({ item, bytes, settle });
    if (this.queue.length >= this.limits.maxRecords) this.writeNow();
    else if (!this.scheduled) this.scheduled = this.schedule(() => this.writeNow());
  }

  private schedule(fn: () => void): { cancel: () => void } {
    if (this.limits.maxDelayMs <= 0) {
      const immediate = setImmediate(fn);
      return { cancel: () => clearImmediate(immediate) };
    }
    const timer = setTimeout(fn, this.limits.maxDelayMs);
    return { cancel: () => clearTimeout(timer) };
  }

  /** Ends the window: what is queued is written now, or as soon as the write in flight ends. */
  private writeNow(): void {
    this.scheduled?.cancel();
    this.scheduled = undefined;
    this.writeNext();
  }

  /** Writes what is queued without waiting out the window, then waits until every record added so far is written or has failed. */
  drain(): Promise<void> {
    this.writeNow();
    if (this.settled >= this.added) return Promise.resolve();
    return new Promise((done) => this.drains.push({ upTo: this.added, done }));
  }

  /** Writes everything queued as one batch, unless a write is in flight (its end starts the next). */
  private writeNext(): void {
    if (this.writing || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.writing = true;
    void this.write(batch).finally(() => {
      for (const w of batch) this.pendingBytes -= w.bytes;
      this.settled += batch.length;
      if (this.drains.length > 0) this.endDrains();
      this.writing = false;
      // Records that arrived during the write wait out their own window (its timer is pending);
      // only those whose window ended meanwhile, or a drain, are written now.
      if (!this.scheduled) this.writeNext();
    });
  }

  private endDrains(): void {
    const still = this.drains.filter((d) => d.upTo > this.settled);
    for (const d of this.drains) if (d.upTo <= this.settled) d.done();
    this.drains = still;
  }

  private async write(batch: Waiting<T>[]): Promise<void> {
    let refused: void | (Error | undefined)[];
    try {
      refused = await this.target.write(batch.map((w) => w.item));
    } catch (err) {
      for (const w of batch) w.settle(err);
      return;
    }
    batch.forEach((w, i) => w.settle(refused?.[i]));
  }
}
