// V8 settings the viewgate process gives itself (imported first by src/cli.ts, so they are set
// before anything they govern runs).
//
// The SQL parser (libpg-query) is WebAssembly. By default V8 compiles a module twice: quickly
// (Liftoff), then again optimized (TurboFan) on background threads, whose working memory the
// process keeps: about 35 MiB resident for the parser, for good (docs/operations.md, "Memory").
// viewgate parses a view's SQL when it builds the view and each governed SQL text once, so the
// quick compilation serves it. The flag is read when a module is compiled, which first happens
// at the first parse, after this.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
