import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const TSX = fileURLToPath(import.meta.resolve('tsx'));
const LOADER = join(import.meta.dirname, 'code-cache.cts');
const dir = mkdtempSync(join(tmpdir(), 'portcullis-code-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bundle = join(dir, 'cmd.cjs');
writeFileSync(
  bundle,
  'const v = require("vendored"); module.exports = { answer: v.base + 2, path: require("node:path").basename(__filename) };\n',
);
const vendored = join(dir, 'vendored.cjs');
writeFileSync(vendored, 'module.exports = { base: 40 };\n');

/** Loads the bundle in a fresh process, as the CLI does, and prints what it exported. */
function load(env: NodeJS.ProcessEnv = {}): Record<string, unknown> {
  const script = `import c from ${JSON.stringify(LOADER)}; console.log(JSON.stringify(c.loadBundle(${JSON.stringify(bundle)}, process.env, { vendored: ${JSON.stringify(vendored)} })));`;
  const r = spawnSync(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], {
    env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), ...env },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const cacheFiles = (): string[] => {
  try {
    return readdirSync(join(dir, 'cache', 'portcullis', 'code-cache'));
  } catch {
    return [];
  }
};

describe('loadBundle (the code cache of the bundled CLI)', () => {
  it("runs a bundle with its own require (vendored packages load the same way) and keeps V8's compiled code for the next run", () => {
    expect(load({ PORTCULLIS_CODE_CACHE: '0' })).toEqual({ answer: 42, path: 'cmd.cjs' });
    expect(cacheFiles()).toEqual([]);
    expect(load()).toEqual({ answer: 42, path: 'cmd.cjs' });
    const files = cacheFiles();
    expect(files.map((f) => f.replace(/-[0-9a-f]{32}\.bin$/, ''))).toEqual(['cmd', 'vendored'].sort());
    const written = files.map((f) => statSync(join(dir, 'cache', 'portcullis', 'code-cache', f)).mtimeMs);
    // A cache V8 accepts is used as it is, not written again.
    expect(load()).toEqual({ answer: 42, path: 'cmd.cjs' });
    expect(files.map((f) => statSync(join(dir, 'cache', 'portcullis', 'code-cache', f)).mtimeMs)).toEqual(written);
  });

  it('replaces a cache V8 rejects, and the cache of an earlier build of the bundle', () => {
    const [first] = cacheFiles().filter((f) => f.startsWith('cmd-'));
    writeFileSync(join(dir, 'cache', 'portcullis', 'code-cache', first as string), 'garbage');
    expect(load()).toEqual({ answer: 42, path: 'cmd.cjs' });
    expect(statSync(join(dir, 'cache', 'portcullis', 'code-cache', first as string)).size).toBeGreaterThan(7);
    // A new build of the bundle (new size and mtime): new key, and the old file goes.
    writeFileSync(bundle, 'module.exports = { answer: require("vendored").base + 3, path: "new" };\n');
    expect(load()).toEqual({ answer: 43, path: 'new' });
    expect(cacheFiles().filter((f) => f.startsWith('cmd-'))).toHaveLength(1);
    expect(cacheFiles()).not.toContain(first);
  });

  it('neither reads nor writes a cache directory others may write (V8 checks a cache by length only)', () => {
    const cacheDir = join(dir, 'cache', 'portcullis', 'code-cache');
    chmodSync(cacheDir, 0o777);
    try {
      for (const f of cacheFiles()) rmSync(join(cacheDir, f));
      expect(load()).toEqual({ answer: 43, path: 'new' });
      expect(cacheFiles()).toEqual([]);
    } finally {
      chmodSync(cacheDir, 0o700);
    }
    expect(load()).toEqual({ answer: 43, path: 'new' });
    expect(cacheFiles()).toHaveLength(2);
  });
});
