import { defineConfig } from 'vitest/config';
import AllowedSkipsReporter from './test/support/allowed-skips-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/support/register-stores.ts'],
    // A skip or todo not listed with its reason in test/allowed-skips.json fails the run.
    reporters: ['default', new AllowedSkipsReporter()],
    // Deadlines that only bound a failure: on a loaded 2-core machine a test that starts the CLI
    // a few times needs far more than it does on an idle one.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
