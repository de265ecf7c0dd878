// Bundles each CLI command module (dist/cli/commands/<name>.js, after `tsc`) with everything it
// imports into one CommonJS file, dist/cli/bundle/<name>.cjs, which dist/cli/main.cjs loads with
// V8's code cache (src/cli/code-cache.ts): one file to read and, from the second run on, nothing
// to parse or compile. That is what brings `portcullis verify --oci-layout` to about the start-up
// time of `node -e 0` (npm run bench, "CLI start-up"). `serve` is not bundled: pino and fastify
// load parts of themselves by path, and a server's start-up time is not a command's.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The compiled tree to bundle (default dist/; a test builds into a directory of its own).
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const commands = join(dist, 'cli', 'commands');
const out = join(dist, 'cli', 'bundle');
const NOT_BUNDLED = new Set(['serve']);

rmSync(out, { recursive: true, force: true });
const entries = readdirSync(commands)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
  .filter((name) => !NOT_BUNDLED.has(name));
const common = {
  bundle: true,
  // Packages come from this checkout's node_modules wherever the compiled tree is.
  nodePaths: [join(root, 'node_modules')],
  platform: 'node',
  // ES module builds of dependencies (@peculiar/*) where packages ship them: scope-hoisted and
  // tree-shaken, instead of CommonJS wrappers whose every export is copied at each import.
  mainFields: ['module', 'main'],
  format: 'cjs',
  target: 'node20',
  // Short code parses faster; identifiers are not renamed, so stack traces (--debug) still read.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
};
// undici (1 MB, the HTTP client of registry commands) is a bundle of its own, loaded only when a
// command first talks to a registry: a layout verification never parses it.
await build({
  ...common,
  entryPoints: Object.fromEntries(entries.map((name) => [name, join(commands, `${name}.js`)])),
  outdir: out,
  outExtension: { '.js': '.cjs' },
  external: ['undici'],
});
// The command line itself (commander, the program, the runner): command modules stay out of it.
await build({
  ...common,
  entryPoints: { cli: join(dist, 'cli', 'entry.js') },
  outdir: out,
  outExtension: { '.js': '.cjs' },
  external: ['./commands/*', 'undici'],
});
await build({
  ...common,
  entryPoints: { undici: join(root, 'node_modules', 'undici', 'index.js') },
  outdir: join(out, 'vendor'),
  outExtension: { '.js': '.cjs' },
});
console.log(`bundled ${entries.length} commands into ${out}`);
