// V8 settings the viewgate process gives itself (imported first by src/cli.ts, so they are set
// before anything they govern runs; docs/operations.md, "Memory").
//
// The SQL parser (libpg-query) is WebAssembly. By default V8 compiles a module twice: quickly
// (Liftoff), then again optimized (TurboFan) on background threads, whose working memory the
// process keeps: about 35 MiB resident for the parser, for good. viewgate parses a view's SQL when
// it builds the view and each governed SQL text once, so the quick compilation serves it. The flag
// is read when a module is compiled, which first happens at the first parse, after this.
//
// V8 lets the old generation grow by a factor it picks after each full collection, up to 4x the
// live heap when collections are cheap: a server's promoted garbage (objects alive across two
// young collections, such as a slow store's results) then piled up to two or three times the live
// heap before it was collected (bench/RESULTS.md). 30 % is the growth V8 itself uses when it
// optimizes for memory; V8 reads the setting each time it sets the next limit. Set on the V8 of
// Node 20 and 22 only: with the V8 of Node 24 the same workload's largest heap was sometimes larger
// with it than without (test/unit/v8-settings.test.ts, bench/RESULTS.md).
//
// The young generation does not grow while the process starts (src/young-generation.ts).
import { setFlagsFromString } from 'node:v8';
import { keepYoungGenerationSmall } from './young-generation.js';

setFlagsFromString('--liftoff-only');
/** Whether this process holds the old generation's growth to 30 % (the V8 of Node 20 and 22). */
export const OLD_GENERATION_GROWTH_HELD = Number(process.versions.node.split('.')[0]) < 24;

if (OLD_GENERATION_GROWTH_HELD) setFlagsFromString('--heap-growing-percent=30');
keepYoungGenerationSmall();
