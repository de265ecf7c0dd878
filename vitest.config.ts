import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn openssl and (later) real registries: keep parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});
