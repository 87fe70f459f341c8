import { defineConfig } from 'vitest/config';
import { scaled } from './test/helpers/timing.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/cleanup.ts'],
    // Compiles dist/ when a source changed since the last build (see the file): the CLI under test runs dist/.
    globalSetup: ['test/helpers/build.ts'],
    // End-to-end tests start real processes on free ports; two cores run them better one file at a time.
    fileParallelism: false,
    // Scaled by LAB_TIMEOUT_FACTOR (test/helpers/timing.ts): `npm run test:stress` stretches every deadline.
    testTimeout: scaled(60_000),
    hookTimeout: scaled(60_000),
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'test-results/junit.xml' },
  },
});
