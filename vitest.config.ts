import { defineConfig } from 'vitest/config';
import AllowedSkipsReporter from './test/support/allowed-skips-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // A skip or todo not listed with its reason in test/allowed-skips.json fails the run.
    reporters: ['default', new AllowedSkipsReporter()],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
