// The young generation of a server's heap, held small (docs/operations.md, "Memory"). V8 doubles
// its semi-spaces whenever many objects survive a collection, up to 16 MiB each, and both stay
// resident for good: 32 MiB of a busy process for objects that live for one request. Startup is
// the worst of it (config, schemas and views are all made at once and all survive), so the
// process starts with no growth at all (`keepYoungGenerationSmall`, from src/v8-settings.ts), and
// a server lets it grow to its cap only once it serves (`capYoungGeneration`). At the cap a
// request's objects still die young, and the CPU per request measured the same (bench/RESULTS.md).
// Node takes `--max-semi-space-size` only on its command line, so the process steers V8's growth
// factor instead, which V8 reads each time it grows the young generation: after each collection it
// looks at the young generation's size, and once it is at the cap it sets the factor to 1 (no more
// growth). A size given on Node's command line or in NODE_OPTIONS is left as it is.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Both semi-spaces together: V8 reports the young generation ("new_space") as their sum. */
export const YOUNG_GENERATION_CAP_BYTES = 16 << 20;

/** V8's default: each growth doubles the semi-spaces. */
const DEFAULT_GROWTH_FACTOR = 2;

let growthFactor = DEFAULT_GROWTH_FACTOR;

function setGrowthFactor(factor: number): void {
  if (factor === growthFactor) return;
  growthFactor = factor;
  setFlagsFromString(`--semi-space-growth-factor=${factor}`);
}

/** Whether the process was started with its own semi-space size. */
function sizedOnCommandLine(): boolean {
  const options = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return options.some((o) => /^--(max|min)[-_]semi[-_]space[-_]size\b/.test(o));
}

export function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** No growth from now on, until capYoungGeneration lets it grow (a no-op when Node's options size it). */
export function keepYoungGenerationSmall(): void {
  if (!sizedOnCommandLine()) setGrowthFactor(1);
}

/** Lets the young generation grow to `cap` bytes and holds it there; returns the stop (tests), or undefined when Node's options size it. */
export function capYoungGeneration(cap = YOUNG_GENERATION_CAP_BYTES): (() => void) | undefined {
  if (sizedOnCommandLine()) return undefined;
  const hold = (): void => setGrowthFactor(youngGenerationBytes() >= cap ? 1 : DEFAULT_GROWTH_FACTOR);
  const observer = new PerformanceObserver(hold);
  observer.observe({ entryTypes: ['gc'] });
  hold();
  return () => {
    observer.disconnect();
    setGrowthFactor(DEFAULT_GROWTH_FACTOR);
  };
}
