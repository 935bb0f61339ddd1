// The young generation of a server's heap, held at 8 MiB per semi-space (docs/operations.md,
// "Memory"). V8 doubles its semi-spaces under load up to 16 MiB each, and both stay resident: 32 MiB
// of a busy process's memory for objects that live for one request. At 8 MiB a request's objects
// still die young (a collection every few hundred requests), and the CPU per request measured the
// same (bench/RESULTS.md). Node takes `--max-semi-space-size` only on its command line, so the
// server stops the growth itself: after each collection it looks at the young generation's size,
// and once it is at the cap it sets V8's growth factor to 1 (no more growth), and back to V8's
// default if the young generation ever shrinks below the cap again. A size given on Node's command
// line or in NODE_OPTIONS is left as it is.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Both semi-spaces together: V8 reports the young generation ("new_space") as their sum. */
export const YOUNG_GENERATION_CAP_BYTES = 16 << 20;

/** V8's default: each growth doubles the semi-spaces. */
const DEFAULT_GROWTH_FACTOR = 2;

/** Whether the process was started with its own semi-space size. */
function sizedOnCommandLine(): boolean {
  const options = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return options.some((o) => /^--(max|min)[-_]semi[-_]space[-_]size\b/.test(o));
}

export function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** Starts holding the young generation at `cap` bytes; returns the stop (tests), or undefined when Node's options size it. */
export function capYoungGeneration(cap = YOUNG_GENERATION_CAP_BYTES): (() => void) | undefined {
  if (sizedOnCommandLine()) return undefined;
  let held = false;
  const hold = (at: boolean): void => {
    if (at === held) return;
    held = at;
    setFlagsFromString(`--semi-space-growth-factor=${at ? 1 : DEFAULT_GROWTH_FACTOR}`);
  };
  const observer = new PerformanceObserver(() => hold(youngGenerationBytes() >= cap));
  observer.observe({ entryTypes: ['gc'] });
  hold(youngGenerationBytes() >= cap);
  return () => {
    observer.disconnect();
    hold(false);
  };
}
