import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// `serve --policies DIR` never talks to the Kubernetes API, so it does not load the Kubernetes
// client: about 800 modules and 14 MB of source, some 45 MiB of a fresh server's RSS.

const ROOT = join(import.meta.dirname, '../..');
const TSX = fileURLToPath(import.meta.resolve('tsx'));

describe('portcullis serve --policies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-modules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts without loading @kubernetes/client-node', async () => {
    const loaded = join(dir, 'loaded.txt');
    writeFileSync(loaded, '');
    // A module hook that writes down every module the process loads.
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(loaded)}, url + '\\n');
  return next(url, context);
}`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    const args = ['--policies', join(ROOT, 'examples', 'policies'), '--port', '0', '--host', '127.0.0.1'];
    const child = spawn(
      process.execPath,
      ['--import', register, '--import', TSX, join(ROOT, 'src', 'cli', 'main.ts'), 'serve', ...args],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const listening = await new Promise<boolean>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('listening on')) resolve(true);
      });
      child.once('exit', () => resolve(false));
    });
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    clearTimeout(kill);
    expect(listening, stderr).toBe(true);
    const urls = readFileSync(loaded, 'utf8').split('\n');
    // The hook saw the server's own modules (it works), and none of the Kubernetes client's.
    expect(urls.some((u) => u.endsWith('/src/cli/serve.ts'))).toBe(true);
    expect(urls.filter((u) => u.includes('@kubernetes/client-node'))).toEqual([]);
  }, 90_000);
});
