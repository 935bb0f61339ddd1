// Drift at run time (docs/contracts.md): `serve` re-introspects the sources of its views every
// `contract.checkInterval` and when a store reconnects. A view whose sources no longer fit it is
// served as a 503 naming the view only; what does not fit goes to the log and the metrics (it may
// name a column the caller cannot see); the view heals when its sources fit again.
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { Catalog } from './catalog.js';

export class DriftWatch {
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly catalog: Catalog,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** Rechecks every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.recheck('interval'), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One recheck of every built view; a request while one runs runs once more after it. */
  recheck(reason: string): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run(reason).finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        void this.recheck(reason);
      }
    });
    return this.running;
  }

  private async run(reason: string): Promise<void> {
    try {
      for (const change of await this.catalog.recheck()) {
        this.metrics.viewDrift(change.id, change.detail !== undefined);
        if (change.detail !== undefined) {
          this.log.error(
            { view: change.id, drift: change.detail, reason },
            `view "${change.id}" is out of contract: its sources no longer fit it`,
          );
        } else {
          this.log.info({ view: change.id, reason }, `view "${change.id}" fits its sources again`);
        }
      }
    } catch (err) {
      this.log.warn({ err, reason }, 'contract drift check failed');
    }
  }
}
