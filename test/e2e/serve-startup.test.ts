import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const TSX = fileURLToPath(import.meta.resolve('tsx'));

interface Ended {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `portcullis serve …` as a process of its own (stdout and stderr apart, as an operator sees them). */
function serve(args: readonly string[], until?: (stderr: string) => boolean): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src', 'cli', 'main.ts'), 'serve', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!stopped && until?.(stderr) === true) {
        stopped = true; // once: a second SIGTERM would end the server at once, as it should
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('portcullis serve start-up', () => {
  let dir: string;
  let taken: Server;
  let takenPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-'));
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    takenPort = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => taken?.close(() => resolve()));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const common = (): string[] => ['--host', '127.0.0.1', '--dev-cert-dir', join(dir, 'dev-cert')];

  it.each([
    [
      'a port another process listens on',
      () => ['--policies', join(ROOT, 'examples', 'policies'), '--port', String(takenPort)],
      'ERR_PORT_IN_USE',
      /127\.0\.0\.1:\d+ is already in use: stop the process listening there, or start serve with another --port/,
    ],
    [
      'a missing certificate file',
      () => [
        '--policies',
        join(ROOT, 'examples', 'policies'),
        '--port',
        '0',
        '--tls-cert',
        join(dir, 'nope.crt'),
        '--tls-key',
        join(dir, 'nope.key'),
      ],
      'ERR_TLS_FILE',
      /--tls-cert .*nope\.crt does not exist: give the path of a PEM file/,
    ],
    [
      'a certificate file that is not PEM',
      () => [
        '--policies',
        join(ROOT, 'examples', 'policies'),
        '--port',
        '0',
        '--tls-cert',
        join(ROOT, 'package.json'),
        '--tls-key',
        join(ROOT, 'package.json'),
      ],
      'ERR_TLS_FILE',
      /is not PEM/,
    ],
    [
      'a policy directory that does not exist',
      () => ['--policies', join(dir, 'missing'), '--port', '0'],
      'ERR_POLICY_DIR_UNREADABLE',
      /--policies .*missing does not exist: create it, or fix its permissions/,
    ],
    [
      'a policy "directory" that is a file',
      () => ['--policies', join(ROOT, 'package.json'), '--port', '0'],
      'ERR_POLICY_DIR_UNREADABLE',
      /is not a directory/,
    ],
  ])(
    'ends with its own code and one line saying what to do: %s',
    async (_name, args, code, message) => {
      const r = await serve([...common(), ...args()]);
      expect(r.status).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^error: .*\\[${code}\\]$`));
      expect(lines[0]).toMatch(message);
      // stdout carries the server's JSON log lines (the policy snapshot may be in force already), nothing else.
      for (const line of r.stdout.split('\n').filter((l) => l !== ''))
        expect(() => JSON.parse(line), line).not.toThrow();
    },
    70_000,
  );

  it('logs an invalid policy document at warn, and writes nothing but JSON lines on stdout', async () => {
    const policies = join(dir, 'policies');
    cpSync(join(ROOT, 'examples', 'policies'), policies, { recursive: true });
    writeFileSync(
      join(policies, '30-broken.yaml'),
      'apiVersion: portcullis.dev/v1alpha1\nkind: TrustPolicy\nmetadata:\n  name: broken\n  namespace: secured\nspec:\n  signatureVerification:\n    level: paranoid\n  trustStores: [ca:e2e]\n  trustedIdentities: ["*"]\n',
    );
    const config = join(dir, 'serve.yaml');
    // As the chart's configuration has it: Gatekeeper off, pinning on.
    writeFileSync(
      config,
      'webhook:\n  shutdownDelaySeconds: 0\n  shutdownTimeoutSeconds: 1\n  gatekeeper: false\n  mutate: true\n',
    );
    const r = await serve([...common(), '--policies', policies, '--port', '0', '--config', config], (stderr) =>
      stderr.includes('listening on'),
    );
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    const records = lines.map((l) => JSON.parse(l) as { level: number; msg: string; name?: string; reason?: string });
    const warning = records.find((x) => x.msg.startsWith('invalid policy document'));
    expect(warning, r.stdout).toMatchObject({ level: 40, name: 'broken' });
    expect(warning?.reason).toContain('unknown field "signatureVerification"');
    expect(r.stderr).toContain('portcullis webhook listening on https://127.0.0.1:');
    // The start-up line names only what is served (the Gatekeeper routes answer 404 when off).
    expect(r.stderr).toMatch(/\(POST \/validate, \/mutate; \/healthz, \/readyz, \/metrics\)/);
  }, 70_000);
});
