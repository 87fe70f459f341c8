import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the fast suite (target under 10 s; `npm test` runs these files too, under vitest.config.ts).
 * Unit tests use fakes and run nothing from dist/, so no build step, and files run in parallel.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    setupFiles: ['test/helpers/cleanup.ts'],
    pool: 'threads',
    fileParallelism: true,
    // One module graph for all files (each file still gets fresh state from its own code): collecting the runner's
    // modules once instead of per file is most of the suite's time.
    isolate: false,
  },
});
