// Cost guards (docs/security.md, "Cost guards"): a grant's `maxScanRows` judges every read a plan
// would send before it has any rows (a dry run, src/sources/planned-reads.ts) by the store's own
// access path, and refuses with a 422 before anything runs when one would read a larger table
// whole; a grant's `timeout` stops the caller's store queries and answers the store timeout (504).
import { ApiError } from '../errors.js';
import type { CostGuard } from '../policy/access.js';
import { planReads } from '../sources/planned-reads.js';
import type { FullScan } from '../sources/source.js';
import { signalOf, type Cancel } from '../cancellation.js';

/** The guard's decision on one native query (explain shows them). */
export interface ScanDecision {
  source: string;
  query: string;
  /** The tables it would read whole, each with its total size (and its store, when another one holds it). */
  fullScans: { table: string; rows: number; source?: string }[];
  /** Reads it would make that cannot be judged before they run (a hub view's foreign scan through mysql_fdw): refused. */
  unjudgeable?: string[];
  decision: 'runs' | 'refused' | 'not judged';
  /** For a refused query: the filter, index or change that would help. */
  help?: string;
}

/** The decision on each read `plan` would send before it has rows (later bind-join batches read by key). */
export async function judgeScans(maxScanRows: number, plan: () => Promise<unknown>): Promise<ScanDecision[]> {
  const reads = await planReads(plan);
  return Promise.all(
    reads.map(async ({ source, accessPlan, rows }): Promise<ScanDecision> => {
      if (!accessPlan) return { source, query: '', fullScans: [], decision: 'not judged' };
      const plan = await accessPlan();
      const { native, unjudgeable = [] } = plan;
      // A scan that stops after the rows asked reads more than maxScanRows when more are asked.
      const fullScans = [...plan.fullScans, ...(rows !== undefined && rows > maxScanRows ? (plan.pageScans ?? []) : [])];
      const over = fullScans.find((s) => s.rows > maxScanRows);
      const refusal = unjudgeable.length > 0 ? { help: unjudgeable[0]!.help } : over ? { help: helpFor(over) } : undefined;
      return {
        source,
        query: native.text,
        fullScans: fullScans.map(({ table, rows, source: holder }) => ({ table, rows, ...(holder ? { source: holder } : {}) })),
        ...(unjudgeable.length > 0 ? { unjudgeable: unjudgeable.map((u) => u.read) } : {}),
        decision: refusal ? 'refused' : 'runs',
        ...refusal,
      };
    }),
  );
}

/** The 422 for the first refused query, if any. No table size is named: that would tell about other callers' rows. */
export function refuseCostly(decisions: readonly ScanDecision[], maxScanRows: number, view: string): void {
  const refused = decisions.find((d) => d.decision === 'refused');
  if (!refused) return;
  const unjudged = refused.unjudgeable?.[0];
  if (unjudged !== undefined) {
    throw new ApiError(
      'scan_too_costly',
      `"${view}" would read ${unjudged}, which cannot be judged before it runs, and your grant sets maxScanRows; nothing was run. ` +
        `To read it: ${refused.help}`,
      { view, maxScanRows },
    );
  }
  const scan = refused.fullScans.find((s) => s.rows > maxScanRows)!;
  const table = scan.table;
  throw new ApiError(
    'scan_too_costly',
    `this query would read all of table "${table}" (source "${scan.source ?? refused.source}"), which holds more than ${maxScanRows} rows ` +
      `(your grant's maxScanRows); nothing was run. To narrow it: ${refused.help}`,
    { view, table, maxScanRows },
  );
}

function helpFor(scan: FullScan): string {
  const ways = [
    ...(scan.indexed.length > 0 ? [`filter on ${scan.indexed.join(' or ')} (indexed)`] : []),
    scan.unindexed.length > 0 ? `add an index on ${scan.unindexed.join(', ')}` : 'add an index on a column you filter on',
  ];
  return ways.join(' or ');
}

/** One guard for several grants (a SQL statement over several views): the smallest of each limit. */
export function strictestGuard(guards: readonly (CostGuard | undefined)[]): CostGuard | undefined {
  const min = (values: (number | undefined)[]): number | undefined => {
    const set = values.filter((v): v is number => v !== undefined);
    return set.length > 0 ? Math.min(...set) : undefined;
  };
  const timeoutMs = min(guards.map((g) => g?.timeoutMs));
  const maxScanRows = min(guards.map((g) => g?.maxScanRows));
  if (timeoutMs === undefined && maxScanRows === undefined) return undefined;
  return { ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(maxScanRows !== undefined ? { maxScanRows } : {}) };
}

/**
 * Runs `work` under the grant's statement timeout: when it passes, the store queries `work`
 * started are stopped (as for a client that left) and the answer is the store timeout (504).
 * A plain timer and controller, both let go when `work` ends: AbortSignal.timeout and
 * AbortSignal.any hold their signals through weak references, which V8 keeps alive through every
 * young-generation collection, so each request's signals and listeners stayed in the old
 * generation until a full collection (bench/grant-timeout.mjs measures both).
 */
export function withTimeout<T>(
  guard: CostGuard | undefined,
  cancel: Cancel | undefined,
  work: (signal: Cancel | undefined) => Promise<T>,
): Promise<T> {
  const ms = guard?.timeoutMs;
  // Without a timeout the work's own promise, not one more around it.
  return ms === undefined ? work(cancel) : timed(ms, cancel, work);
}

async function timed<T>(ms: number, cancel: Cancel | undefined, work: (signal: Cancel | undefined) => Promise<T>): Promise<T> {
  const signal = signalOf(cancel);
  const stop = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort(new DOMException('the grant timeout passed', 'TimeoutError'));
  }, ms);
  const left = (): void => stop.abort(signal!.reason);
  if (signal?.aborted) left();
  else signal?.addEventListener('abort', left, { once: true });
  try {
    return await work(stop.signal);
  } catch (err) {
    if (timedOut && !signal?.aborted) {
      throw new ApiError(
        'store_timeout',
        `the query ran longer than your grant's timeout (${ms} ms) and was stopped; narrow it with a filter`,
        {
          timeoutMs: ms,
        },
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', left);
  }
}
