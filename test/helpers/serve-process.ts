import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { freePort } from './registry/free-port.js';

/**
 * `portcullis serve` as its own process, as it runs in a pod: the sources run by tsx (no build
 * step), HTTPS with a generated development CA, the configuration as a YAML file. For tests
 * and tools that need the real server — its event loop, its thread pool, its shutdown.
 */

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');
const COMPILED_MAIN = resolve(import.meta.dirname, '../../dist/cli/main.cjs');

export interface ServeProcessOptions {
  /** The policy directory; or `kubeconfig`: policies from the Kubernetes API. */
  readonly policies?: string;
  readonly kubeconfig?: string;
  /** The `--config` document (docs/configuration.md), or its YAML text (a chart's config.yaml); written to a file. */
  readonly config: Record<string, unknown> | string;
  /** Where the review log goes; default discarded. */
  readonly log?: 'ignore' | 'inherit';
  readonly env?: NodeJS.ProcessEnv;
  /** Connections of the client agent. Default 64. */
  readonly connections?: number;
  /** Run the compiled tree (dist/, after `npm run build`) instead of the sources: what ships (benchmarks). */
  readonly compiled?: boolean;
  /** With `compiled`: another build's dist/cli/main.cjs (a benchmark comparing with an earlier commit). */
  readonly main?: string;
  /** Serve with this certificate (`--tls-cert`/`--tls-key`) instead of a development CA; the client trusts `caFile`. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

export interface ServeProcess {
  readonly process: ChildProcess;
  readonly url: string;
  readonly agent: Agent;
  /** The CA (PEM) the server's certificate chains to: for a webhook configuration's caBundle. */
  readonly caPem: string;
  /** What the server wrote on stderr so far. */
  stderr(): string;
  /** POSTs JSON, answers status, body and the time it took (ms). */
  post(path: string, body: unknown): Promise<{ status: number; body: any; ms: number }>;
  get(path: string): Promise<{ status: number; text: string }>;
  /**
   * Sends `signal` and resolves with the exit code and how long the process took to exit (ms);
   * a process still running 30 s later is killed (SIGKILL).
   */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

export async function startServeProcess(options: ServeProcessOptions): Promise<ServeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-'));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, typeof options.config === 'string' ? options.config : stringify(options.config));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(options.compiled === true ? [options.main ?? COMPILED_MAIN] : ['--import', 'tsx', MAIN]),
      'serve',
      ...(options.kubeconfig === undefined
        ? ['--policies', options.policies ?? '.']
        : ['--kubeconfig', options.kubeconfig]),
      '--config',
      configFile,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--dev-cert-dir',
      join(dir, 'cert'),
      ...(options.tls === undefined ? [] : ['--tls-cert', options.tls.certFile, '--tls-key', options.tls.keyFile]),
    ],
    { stdio: ['ignore', options.log ?? 'ignore', 'pipe'], env: { ...process.env, ...options.env } },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const url = `https://127.0.0.1:${port}`;
  const started = Date.now();
  while (!stderr.includes('listening on')) {
    if (child.exitCode !== null) throw new Error(`portcullis serve exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() - started > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`portcullis serve did not start within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const caPem = readFileSync(options.tls?.caFile ?? join(dir, 'cert', 'ca.crt'), 'utf8');
  const agent = new Agent({ connect: { ca: caPem }, connections: options.connections ?? 64 });
  let stopped: Promise<{ code: number | null; ms: number }> | undefined;
  return {
    process: child,
    url,
    agent,
    caPem,
    stderr: () => stderr,
    async post(path, body) {
      const t0 = performance.now();
      const res = await request(`${url}${path}`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: text === '' ? undefined : JSON.parse(text), ms: performance.now() - t0 };
    },
    async get(path) {
      const res = await request(`${url}${path}`, { dispatcher: agent });
      return { status: res.statusCode, text: await res.body.text() };
    },
    stop(signal = 'SIGTERM') {
      stopped ??= (async () => {
        const t0 = performance.now();
        if (child.exitCode === null) child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        const code = await exited;
        clearTimeout(timer);
        const ms = performance.now() - t0;
        await agent.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
        return { code, ms };
      })();
      return stopped;
    },
  };
}
