// Error budgets (docs/operations.md, "Error budgets"): per service with an `slo`, every request to
// one of its views is good or bad for each objective (availability: a 5xx is bad; latency: slower
// than latencyP95 is bad, against a 5% allowance). Minute buckets of the last 6 hours give, at
// scrape time, the burn rate over 5m, 30m, 1h and 6h (the share of bad requests divided by the
// share the objective allows: 1 spends the budget exactly over the window) and the budget left
// over the last 6 hours; counters of good and bad requests let Prometheus compute longer budgets.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/schema.js';

type Objective = 'availability' | 'latency';

/** The windows burn rates are given for (the multi-window alerts of examples/prometheus-alerts.yml). */
const WINDOWS = { '5m': 5, '30m': 30, '1h': 60, '6h': 360 } as const;
const BUCKET_MS = 60_000;
const BUCKETS = WINDOWS['6h'];

/** The share of requests latencyP95 lets be slower than it. */
const LATENCY_ALLOWANCE = 0.05;

/** Good and bad requests per minute over the last 6 hours, for one objective of one service. */
class MinuteCounts {
  private readonly total = new Float64Array(BUCKETS);
  private readonly bad = new Float64Array(BUCKETS);
  /** The minute each slot holds; a slot of an older minute counts as empty. */
  private readonly minute = new Float64Array(BUCKETS).fill(-1);

  add(nowMs: number, isBad: boolean): void {
    const m = Math.floor(nowMs / BUCKET_MS);
    const i = m % BUCKETS;
    if (this.minute[i] !== m) {
      this.minute[i] = m;
      this.total[i] = 0;
      this.bad[i] = 0;
    }
    this.total[i]! += 1;
    if (isBad) this.bad[i]! += 1;
  }

  /** Requests and bad requests in the last `minutes` minutes (the current one included). */
  sum(nowMs: number, minutes: number): { total: number; bad: number } {
    const now = Math.floor(nowMs / BUCKET_MS);
    let total = 0;
    let bad = 0;
    for (let m = now - minutes + 1; m <= now; m++) {
      const i = ((m % BUCKETS) + BUCKETS) % BUCKETS;
      if (this.minute[i] !== m) continue;
      total += this.total[i]!;
      bad += this.bad[i]!;
    }
    return { total, bad };
  }
}

interface Tracked {
  service: string;
  objective: Objective;
  /** The share of requests that must be good, e.g. 0.999. */
  target: number;
  isBad: (status: number, seconds: number) => boolean;
  counts: MinuteCounts;
}

export class ErrorBudgets {
  private readonly byService = new Map<string, Tracked[]>();
  private readonly events: Counter<'service' | 'objective' | 'outcome'>;

  constructor(
    config: Config,
    registry: Registry,
    private readonly clock: () => number = Date.now,
  ) {
    for (const [service, svc] of Object.entries(config.services)) {
      const slo = svc.slo;
      if (!slo) continue;
      const tracked: Tracked[] = [];
      if (slo.availability !== undefined) {
        tracked.push({
          service,
          objective: 'availability',
          target: slo.availability / 100,
          isBad: (s) => s >= 500,
          counts: new MinuteCounts(),
        });
      }
      if (slo.latencyP95 !== undefined) {
        const limit = slo.latencyP95 / 1000;
        tracked.push({
          service,
          objective: 'latency',
          target: 1 - LATENCY_ALLOWANCE,
          isBad: (_, sec) => sec > limit,
          counts: new MinuteCounts(),
        });
      }
      this.byService.set(service, tracked);
    }
    const registers = [registry];
    const all = () => [...this.byService.values()].flat();
    this.events = new Counter({
      name: 'viewgate_slo_requests_total',
      help: 'Requests to the views of a service with an slo, by objective and outcome (good or bad for that objective)',
      labelNames: ['service', 'objective', 'outcome'],
      registers,
    });
    new Gauge({
      name: 'viewgate_slo_objective',
      help: 'The share of requests that must be good for each objective of a service (availability 99.9 is 0.999; latency 0.95)',
      labelNames: ['service', 'objective'],
      registers,
      collect() {
        for (const t of all()) this.set({ service: t.service, objective: t.objective }, t.target);
      },
    });
    const now = this.clock;
    new Gauge({
      name: 'viewgate_slo_error_budget_remaining',
      help: 'The share of the error budget left over the last 6 hours: 1 untouched, 0 spent, below 0 overspent',
      labelNames: ['service', 'objective'],
      registers,
      collect() {
        const at = now();
        for (const t of all()) this.set({ service: t.service, objective: t.objective }, 1 - burnRate(t, at, WINDOWS['6h']));
      },
    });
    new Gauge({
      name: 'viewgate_slo_burn_rate',
      help: 'How fast the error budget burns over a window: the share of bad requests over the share the objective allows',
      labelNames: ['service', 'objective', 'window'],
      registers,
      collect() {
        const at = now();
        for (const t of all())
          for (const [window, minutes] of Object.entries(WINDOWS))
            this.set({ service: t.service, objective: t.objective, window }, burnRate(t, at, minutes));
      },
    });
  }

  /** One finished request to a view of `service` (the part of the view id before the dot). */
  observe(view: string, status: number, seconds: number): void {
    const tracked = this.byService.get(view.slice(0, view.indexOf('.')));
    if (!tracked) return;
    const at = this.clock();
    for (const t of tracked) {
      const bad = t.isBad(status, seconds);
      t.counts.add(at, bad);
      this.events.inc({ service: t.service, objective: t.objective, outcome: bad ? 'bad' : 'good' });
    }
  }
}

/** 0 when no request came in the window. */
function burnRate(t: Tracked, at: number, minutes: number): number {
  const { total, bad } = t.counts.sum(at, minutes);
  return total === 0 ? 0 : bad / total / (1 - t.target);
}
