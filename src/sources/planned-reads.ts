// The cost guard's dry run (docs/security.md, "Cost guards"). While a plan runs inside
// planReads(), the sources (GuardedSource) record every read they are asked for instead of
// sending it, and answer no rows. So exactly the reads a plan sends before it has any rows are
// known before anything runs; bind-join batches, which need the rows of an earlier read, are
// never asked for (their access is by key). Hub views record their one statement the same way
// (src/hub/view.ts). An async context rather than a parameter: the plan
// runs the same code as for real, through engines that only pass their options on.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AccessPlan } from './source.js';

export interface RecordedRead {
  /** The store the read would go to. */
  source: string;
  /** Its access path, asked only when judged; absent when the store cannot tell (the read is not judged). */
  accessPlan?: () => Promise<AccessPlan>;
  /** The most rows it asks for (LIMIT plus OFFSET), when it has a limit: what a page scan reads (AccessPlan.pageScans). */
  rows?: number;
}

const recording = new AsyncLocalStorage<RecordedRead[]>();

/** Runs `plan` with every store read recorded, not sent; answers the reads in the order asked. */
export async function planReads(plan: () => Promise<unknown>): Promise<RecordedRead[]> {
  const reads: RecordedRead[] = [];
  await recording.run(reads, plan);
  return reads;
}

/** Where the current dry run records its reads; undefined outside one (reads run for real). */
export function readRecorder(): RecordedRead[] | undefined {
  return recording.getStore();
}
