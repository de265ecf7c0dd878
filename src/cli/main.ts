#!/usr/bin/env node
// `node dist/cli/main.js` still works: it runs the CommonJS entry (main.cts, the `bin`).
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./main.cjs');
