// Refreshes materialized hub views inside `serve` on their cron schedules (UTC). A timer wakes at
// each minute boundary and starts the refreshes due in that minute; a view whose previous refresh
// is still running is skipped (and counted), never queued. Failures are logged and counted.
import type { Config } from '../config/schema.js';
import type { Logger } from 'pino';
import { operatorDetail } from '../errors.js';
import { parseCron, type CronSchedule } from './cron.js';
import { closeHubSessions, hubSession } from './passthrough/session.js';
import { loadLastRefreshes, materializedViews, refreshHubView, refreshState } from './refresh.js';

export interface RefreshJob {
  id: string;
  schedule: CronSchedule;
  run(): Promise<unknown>;
}

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

export class RefreshScheduler {
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly jobs: RefreshJob[],
    private readonly log: Log,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(): void {
    if (this.jobs.length === 0 || this.stopped) return;
    const now = this.now();
    const delay = 60_000 - (now.getTime() % 60_000) + 50;
    this.timer = setTimeout(() => {
      void this.tick(this.now());
      this.start();
    }, delay);
    this.timer.unref();
  }

  /** Starts every job due in the minute of `at`; resolves when those refreshes have finished. */
  async tick(at: Date): Promise<void> {
    const due = this.jobs.filter((j) => j.schedule.matches(at));
    await Promise.all(due.map((j) => this.runJob(j)));
  }

  private async runJob(job: RefreshJob): Promise<void> {
    const p = job.run().then(
      (outcome) => this.log.info({ view: job.id, outcome }, 'hub refresh'),
      (err: unknown) => this.log.error({ view: job.id, err: operatorDetail(err) }, 'hub refresh failed'),
    );
    this.inFlight.add(p);
    try {
      await p;
    } finally {
      this.inFlight.delete(p);
    }
  }

  /** Stops the timer and waits for running refreshes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }
}

export interface HubRuntime {
  config: Config;
  /** The runtime's Sources: owner of its hub sessions and refresh states. */
  sources: object;
  log: Log;
}

export interface HubScheduler {
  scheduler: RefreshScheduler;
  stop(): Promise<void>;
}

/** The scheduler for every materialized hub view with `materialize.refresh`, started. */
export function startHubScheduler(rt: HubRuntime): HubScheduler {
  const jobs: RefreshJob[] = [];
  const loaded = new Set<string>();
  // The sources as they are now: a config reload may give the runtime others while this one runs.
  const owner = rt.sources;
  for (const mv of materializedViews(rt.config)) {
    const state = refreshState(owner, mv.id);
    const session = hubSession(owner, rt.config, mv.hub);
    if (!loaded.has(mv.service)) {
      loaded.add(mv.service);
      loadLastRefreshes(session, mv.service, (v) => refreshState(owner, v)).catch((err: unknown) =>
        rt.log.warn(
          { service: mv.service, err: operatorDetail(err) },
          'hub: could not read past refreshes (was `viewgate hub apply` run?)',
        ),
      );
    }
    if (!mv.schedule) continue;
    let schedule: CronSchedule;
    try {
      schedule = parseCron(mv.schedule);
    } catch (err) {
      rt.log.error(
        { view: mv.id, refresh: mv.schedule },
        `hub: materialize.refresh is not a cron expression, so the view is not refreshed: ${(err as Error).message}`,
      );
      continue;
    }
    state.schedule = mv.schedule;
    jobs.push({ id: mv.id, schedule, run: () => refreshHubView(session, mv.service, mv.view, state) });
  }
  const scheduler = new RefreshScheduler(jobs, rt.log);
  scheduler.start();
  return {
    scheduler,
    async stop() {
      await scheduler.stop();
      await closeHubSessions(owner);
    },
  };
}

/** `serve`: starts the scheduler and stops it (and closes the hub pools) when the server closes. */
export function startHubRefresh(app: { addHook(name: 'onClose', hook: () => Promise<void>): unknown }, rt: HubRuntime): HubScheduler {
  const hub = startHubScheduler(rt);
  app.addHook('onClose', () => hub.stop());
  return hub;
}
