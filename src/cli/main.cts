#!/usr/bin/env node
// The installed `portcullis` command. CommonJS on purpose: the command must start about as fast
// as `node -e 0` (npm run bench), and a CommonJS entry skips the ES module loader's start-up.
// After `make build` the command line (commander and the program) and each command module are
// bundles (dist/cli/bundle, scripts/bundle-cli.mjs) loaded with V8's code cache; without bundles
// (plain `tsc` output, or tsx on the sources) everything is imported as usual.
import fs = require('node:fs');
import path = require('node:path');
import codeCache = require('./code-cache.cjs');
import type { CommandLoader, CommandModules, CommandName } from './program.js';

const { existsSync } = fs;
const { join } = path;
const { loadBundle } = codeCache;

const bundles = join(__dirname, 'bundle');
const bundled = existsSync(join(bundles, 'cli.cjs'));
const vendor = { undici: join(bundles, 'vendor', 'undici.cjs') };

const load: CommandLoader = async <K extends CommandName>(name: K): Promise<CommandModules[K]> => {
  const bundle = join(bundles, `${name}.cjs`);
  if (bundled && existsSync(bundle)) return loadBundle(bundle, process.env, vendor) as CommandModules[K];
  return (await import(`./commands/${name}.js`)) as CommandModules[K];
};

type RunCli = (argv: readonly string[], load: CommandLoader) => Promise<number>;

async function main(): Promise<void> {
  const { runCli } = bundled
    ? (loadBundle(join(bundles, 'cli.cjs')) as { runCli: RunCli })
    : ((await import('./entry.js')) as { runCli: RunCli });
  process.exitCode = await runCli(process.argv.slice(2), load);
}

void main();
