import { defineConfig } from 'vitest/config';

/**
 * The container-image test (test/image): builds the image with Docker and runs it. Needs a Docker
 * engine (.ci/run starts Debian's; by hand: scripts/image/dockerd.sh start). `make test` runs it
 * after the main suite; the main suite (vitest.config.ts) leaves it out so that `npx vitest run`
 * works on machines without an engine.
 */
export default defineConfig({
  test: {
    include: ['test/image/**/*.test.ts'],
    testTimeout: 120_000,
    // The first build pulls nothing but makes the stand-in base images and runs npm ci: minutes.
    hookTimeout: 20 * 60_000,
    maxWorkers: 1,
  },
});
