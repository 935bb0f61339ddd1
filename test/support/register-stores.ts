// Registers the store kinds and the curated tools' load-time check with the config loader for every
// test file, as the CLI's imports do (src/sources/registry.ts, src/query/tool-query.ts).
import '../../src/sources/registry.js';
import '../../src/query/tool-query.js';
