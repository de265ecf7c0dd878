import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['test/e2e/node/**/*.test.ts'] } });
