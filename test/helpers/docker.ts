import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The Docker engine from tests: Debian's docker.io, started by `.ci/run` (or by hand with
 * scripts/image/dockerd.sh start). Tests that need it fail with that instruction when no
 * engine answers; they never skip.
 */

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const DOCKER = process.env['DOCKER'] ?? 'docker';

export interface DockerResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Throws with instructions when no Docker engine answers. */
export function requireDocker(): void {
  const r = spawnSync(DOCKER, ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `no Docker engine answers (${DOCKER} version: ${(r.stderr || r.error?.message || '').trim()}).\n` +
        "Start Debian's engine first: scripts/image/dockerd.sh start (root; .ci/run does this), then re-run.",
    );
  }
}

/** Runs `docker ARGS`; throws on a non-zero exit unless allowFail. */
export function docker(
  args: readonly string[],
  opts: { input?: string | Buffer; allowFail?: boolean; timeoutMs?: number } = {},
): Promise<DockerResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(DOCKER, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 120_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const r = {
        code: code ?? 128,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (r.code !== 0 && opts.allowFail !== true)
        reject(new Error(`docker ${args.join(' ')} failed (${code ?? signal}):\n${r.stderr}${r.stdout}`));
      else resolvePromise(r);
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** `docker ARGS` with stdout as raw bytes (docker export, docker save). */
export function dockerBytes(args: readonly string[]): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(DOCKER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolvePromise(Buffer.concat(out))
        : reject(new Error(`docker ${args.join(' ')} failed (${code}): ${stderr}`)),
    );
  });
}

/**
 * Builds the project's image with the stand-in base images (scripts/image/build.sh) and returns
 * its tag. Progress goes to stderr. Minutes from cold; seconds when the engine has the layers.
 */
export function buildImage(tag: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [resolve(REPO_ROOT, 'scripts/image/build.sh'), tag], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DOCKER },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolvePromise(stdout.trim())
        : reject(new Error(`scripts/image/build.sh failed (${code}):\n${stderr.slice(-4000)}`)),
    );
  });
}

/** Paths in a tar stream (docker export), without a tar dependency: ustar/GNU headers, long names. */
export function tarEntries(tar: Buffer): { path: string; type: string; mode: number; uid: number }[] {
  const entries: { path: string; type: string; mode: number; uid: number }[] = [];
  let offset = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  const str = (start: number, len: number): string => {
    const s = tar.subarray(start, start + len);
    const nul = s.indexOf(0);
    return (nul === -1 ? s : s.subarray(0, nul)).toString('utf8');
  };
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(str(offset + 124, 12).trim() || '0', 8);
    const type = str(offset + 156, 1) || '0';
    const body = offset + 512;
    const next = body + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = str(body, size);
    } else if (type === 'x') {
      const pax = tar.subarray(body, body + size).toString('utf8');
      paxPath = /\d+ path=([^\n]*)\n/.exec(pax)?.[1];
    } else {
      const prefix = str(offset + 345, 155);
      const name = longName ?? paxPath ?? (prefix === '' ? str(offset, 100) : `${prefix}/${str(offset, 100)}`);
      entries.push({
        path: name.replace(/^\.\//, '').replace(/\/$/, ''),
        type,
        mode: parseInt(str(offset + 100, 8).trim() || '0', 8),
        uid: parseInt(str(offset + 108, 8).trim() || '0', 8),
      });
      longName = undefined;
      paxPath = undefined;
    }
    offset = next;
  }
  return entries;
}
