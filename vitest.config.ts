import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Docker (vitest.image.config.ts, run by `make test`) and the node scenario (make e2e-node)
    // have their own configurations.
    exclude: ['**/node_modules/**', 'test/image/**', 'test/e2e/node/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn openssl and (later) real registries: keep parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});
