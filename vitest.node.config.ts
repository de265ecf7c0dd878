import { defineConfig } from 'vitest/config';

/**
 * The node scenario (test/e2e/node, `make e2e-node`): a one-node cluster that starts pods, with
 * Portcullis deployed from the chart. Root, a Docker engine (to build the image) and the node
 * binaries (scripts/kube/build-node.sh) are needed; see docs/e2e.md. One file, one cluster.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/node/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 20 * 60_000,
    maxWorkers: 1,
  },
});
