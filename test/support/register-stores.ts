// Registers the store kinds with the config loader for every test file, as the CLI's imports do
// (src/sources/registry.ts).
import '../../src/sources/registry.js';
