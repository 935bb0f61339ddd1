// Requests per minute over the last hour, kept in the process for the console's charts
// (docs/console.md, "JSON API"): a ring of 60 one-minute buckets fed by Metrics.observeRequest,
// each with its request and error counts and a bounded sample of latencies for percentiles.
const MINUTE_MS = 60_000;
const MINUTES = 60;
/** Latencies kept per minute; beyond it, a uniform reservoir sample stands for the minute. */
const SAMPLE = 2000;

interface Bucket {
  minute: number;
  requests: number;
  errors: number;
  latencies: number[];
}

export interface SeriesPoint {
  /** The minute's start, ISO 8601. */
  t: string;
  requests: number;
  /** Answers with status 500 or above. */
  errors: number;
  /** Latency percentiles in milliseconds; null in a minute without requests. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export class RequestSeries {
  private readonly buckets: (Bucket | undefined)[] = new Array<Bucket | undefined>(MINUTES);

  constructor(private readonly now: () => number = Date.now) {}

  observe(status: number, seconds: number): void {
    const minute = Math.floor(this.now() / MINUTE_MS);
    const slot = minute % MINUTES;
    let b = this.buckets[slot];
    if (b?.minute !== minute) {
      b = { minute, requests: 0, errors: 0, latencies: [] };
      this.buckets[slot] = b;
    }
    b.requests++;
    if (status >= 500) b.errors++;
    const ms = seconds * 1000;
    if (b.latencies.length < SAMPLE) b.latencies.push(ms);
    else {
      const i = Math.floor(Math.random() * b.requests);
      if (i < SAMPLE) b.latencies[i] = ms;
    }
  }

  /** The last hour, oldest first, one point per minute (minutes without requests included). */
  points(): SeriesPoint[] {
    const current = Math.floor(this.now() / MINUTE_MS);
    const out: SeriesPoint[] = [];
    for (let minute = current - MINUTES + 1; minute <= current; minute++) {
      const b = this.buckets[minute % MINUTES];
      const live = b?.minute === minute ? b : undefined;
      const sorted = live ? [...live.latencies].sort((x, y) => x - y) : [];
      out.push({
        t: new Date(minute * MINUTE_MS).toISOString(),
        requests: live?.requests ?? 0,
        errors: live?.errors ?? 0,
        p50: percentile(sorted, 0.5),
        p95: percentile(sorted, 0.95),
        p99: percentile(sorted, 0.99),
      });
    }
    return out;
  }
}

/** Nearest-rank percentile of sorted values, rounded to 0.1 ms. */
function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const v = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return Math.round(v * 10) / 10;
}
