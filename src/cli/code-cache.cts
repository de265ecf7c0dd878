// CommonJS (see main.cts): written with require, as verbatimModuleSyntax wants for .cts files.
import crypto = require('node:crypto');
import fs = require('node:fs');
import nodeModule = require('node:module');
import os = require('node:os');
import path = require('node:path');
import vm = require('node:vm');

const { createHash } = crypto;
const { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = fs;
const { createRequire } = nodeModule;
const { homedir } = os;
const { basename, dirname, join } = path;
const { Script } = vm;

/**
 * Loads a bundled command module (dist/cli/bundle/<name>.cjs, scripts/bundle-cli.mjs) with V8's
 * code cache, as Node 22's module.enableCompileCache() does for every module (Node 20, which
 * `engines` allows, has no such switch): the first run compiles and, when the command is done,
 * writes what V8 compiled — the functions that ran included — to
 * $XDG_CACHE_HOME/portcullis/code-cache (else ~/.cache/…); later runs hand it back and skip
 * parsing and compiling. The cache is keyed by the bundle's path, size and mtime and the Node
 * version, V8 rejects a cache that does not fit (then it is rewritten), and any failure to read
 * or write it only costs speed. PORTCULLIS_CODE_CACHE=0 turns it off.
 */
function loadBundle(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  vendor: Readonly<Record<string, string>> = {},
): unknown {
  const source = readFileSync(file, 'utf8');
  const cacheFile = env.PORTCULLIS_CODE_CACHE === '0' ? undefined : cachePath(file, env);
  let cachedData: Buffer | undefined;
  if (cacheFile !== undefined && trustedDirectory(dirname(cacheFile))) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
  }
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapper, { filename: file, ...(cachedData === undefined ? {} : { cachedData }) });
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    // After the command: the cache then holds the functions that ran, not only the top level.
    process.once('exit', () => {
      try {
        if (!trustedDirectoryOrMissing(dirname(cacheFile))) return;
        mkdirSync(dirname(cacheFile), { recursive: true, mode: 0o700 });
        const temporary = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
        renameSync(temporary, cacheFile);
        // Caches of earlier builds of this bundle are of no further use.
        const prefix = `${basename(file, '.cjs')}-`;
        for (const old of readdirSync(dirname(cacheFile)))
          if (old.startsWith(prefix) && join(dirname(cacheFile), old) !== cacheFile)
            rmSync(join(dirname(cacheFile), old), { force: true });
      } catch {
        // A read-only home or a full disk: the next run compiles again.
      }
    });
  }
  const module = { exports: {} as unknown };
  const fn = script.runInThisContext() as (
    exports: unknown,
    require: NodeRequire,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => void;
  // Packages bundled apart (vendor) are loaded the same way, on their first require().
  const plain = createRequire(file);
  const loaded = new Map<string, unknown>();
  const require = Object.assign((id: string): unknown => {
    const bundle = vendor[id];
    if (bundle === undefined) return plain(id);
    if (!loaded.has(id)) loaded.set(id, loadBundle(bundle, env));
    return loaded.get(id);
  }, plain) as NodeRequire;
  fn(module.exports, require, module, file, dirname(file));
  return module.exports;
}

function trustedDirectoryOrMissing(dir: string): boolean {
  try {
    statSync(dir);
  } catch {
    return true;
  }
  return trustedDirectory(dir);
}

/**
 * V8 checks a cache against the source's length, not its content: whoever can write the cache
 * directory could run code in this process. Only a directory of this user that no one else may
 * write is read (a missing one is created 0700 when the cache is first written).
 */
function trustedDirectory(dir: string): boolean {
  try {
    const info = statSync(dir);
    const uid = typeof process.getuid === 'function' ? process.getuid() : info.uid;
    return info.isDirectory() && info.uid === uid && (info.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function cachePath(file: string, env: NodeJS.ProcessEnv): string | undefined {
  try {
    const info = statSync(file);
    const key = createHash('sha256')
      .update(`${file}\n${info.size}\n${info.mtimeMs}\n${process.version}\n${process.arch}`)
      .digest('hex')
      .slice(0, 32);
    const base =
      env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
    return join(base, 'portcullis', 'code-cache', `${basename(file, '.cjs')}-${key}.bin`);
  } catch {
    return undefined;
  }
}

export = { loadBundle };
